"""What a reader sees through the CLI: a published list for an explicit scope, or one entry's lineage.

Each read is audited under the reader's name (the OS user, and any development label as claimed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from lineage import entry as audit_lineage
from lineage import events as lineage_events
from mimamori import daily
from mimamori.context import RunContext
from mimamori.settings import Settings
from warehouse import audit
from warehouse.db import session_scope
from warehouse.errors import InputError
from watchlist.render import PublishedList

ALL_DISTRICTS = "all-districts"


def scope_of(districts: Sequence[str], all_districts: bool, known: Sequence[str]) -> list[str] | str:
    """The explicit scope of a read: the named districts, or every district; refused when neither or both."""
    if all_districts and districts:
        raise InputError(
            "--district と --all-districts は同時に指定できません / "
            "give --district X or --all-districts, not both"
        )
    if not all_districts and not districts:
        raise InputError(
            "地区を指定してください: --district X（複数可）または --all-districts / "
            "name the scope: --district X (repeatable) or --all-districts"
        )
    unknown = sorted(set(districts) - set(known))
    if unknown:
        raise InputError(f"unknown district {unknown[0]!r}; known: {', '.join(sorted(known))}")
    return ALL_DISTRICTS if all_districts else sorted(set(districts))


def watchlist(ctx: RunContext, date: str, fmt: str, districts: Sequence[str], all_districts: bool) -> str:
    """A published list for an explicit scope, re-identified for the reader; the view and scope audited."""
    from watchlist.publish import listing, require_published
    from watchlist.render import to_csv, to_html, to_json

    settings = ctx.settings
    day = daily.parse_run_date(date)
    place = ctx.municipality
    scope = scope_of(districts, all_districts, list(place.districts))
    names = {p.id: p.name for p in ctx.partners.values()}
    capacity = ctx.rules.capacity
    with session_scope(settings.database_url) as session:
        require_published(session, day)
        audit.append(
            session,
            settings.actor,
            "watchlist_view",
            day.isoformat(),
            scope=scope,
            format=fmt,
            os_user=settings.os_user,
            claimed=settings.claimed_actor or None,
        )
        parts = [
            listing(
                session,
                settings.vault_keys,
                day,
                district,
                place.districts,
                names,
                settings.actor,
                "view",
                capacity,
            )
            for district in ([None] if scope == ALL_DISTRICTS else scope)
        ]
    listed = parts[0] if len(parts) == 1 else _merged(day, parts)
    if fmt == "csv":
        return "\ufeff" + to_csv(listed)
    return {"json": to_json, "html": to_html}[fmt](listed) + "\n"


def _merged(day: dt.date, parts: list[PublishedList]) -> PublishedList:
    """Several districts' lists as one, in list order (each district's capacity applied on its own)."""
    from watchlist.rules import TIERS

    notices: list[dict[str, str]] = []
    for part in parts:
        notices += [n for n in part.notices if n not in notices]
    entries = sorted(
        (e for part in parts for e in part.entries), key=lambda e: (TIERS.index(e.tier), -e.score, e.entry_id)
    )
    return PublishedList(
        date=day.isoformat(),
        district_code=None,
        district_name="・".join(p.district_name for p in parts),
        rule_set_version=next((p.rule_set_version for p in parts if p.rule_set_version), ""),
        notices=notices,
        entries=entries,
    )


def lineage(settings: Settings, entry_id: str) -> str:
    """One entry's chain of evidence; reading it (consent ids included) is audited under the reader's name."""
    from watchlist.rules import load_rules

    with session_scope(settings.database_url) as session:
        found = audit_lineage.chain(session, entry_id, load_rules(settings.home))
        audit.append(
            session,
            settings.actor,
            "lineage_view",
            entry_id,
            consents=[c.consent_id for c in found.consents],
            os_user=settings.os_user,
            claimed=settings.claimed_actor or None,
        )
        return audit_lineage.render(found, lineage_events.job_namespace(settings))
