"""Disclosure to a resident who asks (APPI Art. 33): everything held about them, in one Japanese report.

Consent history and receipts, which partners provided data about them and when (records of provision),
what kinds of signals are held for which dates, their listings with reasons and outcomes, and who saw
their identity. Building it reads their identity from the vault, which is audited with the reader's name.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from consent import receipt
from consent.listing import METHOD_LABELS, STATUS_LABELS, history_of
from identity.access import read_identities
from identity.keys import KeyRing
from warehouse import audit
from warehouse.models import (
    AuditRecord,
    Outcome,
    ProvisionRecord,
    ReadingDay,
    Signal,
    WatchlistEntry,
    WatchlistReason,
)
from warehouse.retention_policy import Retention
from watchlist.outcomes import OUTCOME_LABELS

PURPOSE_LABELS = {
    "publish": "リストの作成",
    "view": "訪問担当の閲覧",
    "print": "印刷",
    "export": "ダウンロード",
    "api": "連携システム",
    "linkage": "名寄せ",
    "link_review": "名寄せ確認",
    "receipt": "同意の控えの作成",
    "consent_search": "同意の検索",
    "disclosure": "開示",
    "key_rotation": "鍵の更新",
}
_env = Environment(loader=PackageLoader("consent", "templates"), autoescape=select_autoescape(["html"]))


def _sector(sector: str) -> str:
    """A sector in the words of the records of provision (Japanese part)."""
    from consent.provision import CATEGORIES

    return "・".join(c.split(" / ")[0] for c in CATEGORIES.get(sector, [sector]))


def _day(value: dt.datetime | dt.date | None) -> str | None:
    if value is None:
        return None
    return (value.date() if isinstance(value, dt.datetime) else value).isoformat()


def build(
    session: Session,
    resident: str,
    vault_keys: KeyRing,
    controller: dict[str, str],
    partners: list[dict[str, str]],
    retention: Retention,
    actor: str,
) -> dict[str, Any]:
    """The report for one pseudonymous resident (reading their identity is audited)."""
    history = history_of(session, resident)
    consent_ids = sorted(history.consents) + sorted(t.consent_id for t in history.tombstones)
    subject = ",".join(consent_ids) or "no-consent"
    who = read_identities(
        session, vault_keys, [resident], actor=actor, purpose="disclosure", subject=subject
    ).get(resident, {})
    audit.append(session, actor, "disclosure", subject, consents=len(consent_ids))
    names = {p["id"]: p["name"] for p in partners}
    consents = [
        {
            "consent_id": cid,
            "versions": [
                {
                    "version": v.version,
                    "status": STATUS_LABELS.get(v.status, v.status),
                    "granted_on": _day(v.granted_on),
                    "expires_on": _day(v.expires_on),
                    "withdrawn_on": _day(v.withdrawn_on),
                    "method": METHOD_LABELS.get(v.method, v.method),
                    "recorded_at": v.recorded_at.isoformat(timespec="seconds"),
                }
                for v in versions
            ],
            "receipt": receipt.build(versions, controller, partners, retention),
        }
        for cid, versions in history.consents.items()
    ]
    ended = [
        {
            "consent_id": t.consent_id,
            "granted_on": _day(t.granted_on),
            "ended_on": _day(t.ended_on),
            "reason": STATUS_LABELS.get(t.reason, t.reason),
            "purged_at": _day(t.purged_at),
        }
        for t in history.tombstones
    ]
    provided = session.execute(
        select(
            Signal.partner_id,
            Signal.delivery_pk,
            ProvisionRecord.received_on,
            func.count(),
            func.min(Signal.event_start),
            func.max(Signal.event_start),
        )
        .outerjoin(ProvisionRecord, ProvisionRecord.delivery_pk == Signal.delivery_pk)
        .where(Signal.resident == resident)
        .group_by(Signal.partner_id, Signal.delivery_pk, ProvisionRecord.received_on)
        .order_by(ProvisionRecord.received_on, Signal.partner_id)
    ).tuples()
    provisions = [
        {
            "partner": names.get(p, p),
            "partner_id": p,
            "received_on": _day(received),
            "rows": int(n),
            "from": _day(first),
            "to": _day(last),
        }
        for p, _pk, received, n, first, last in provided
    ]
    kinds = session.execute(
        select(
            Signal.sector,
            Signal.event_type,
            func.count(),
            func.min(Signal.event_start),
            func.max(Signal.event_start),
        )
        .where(Signal.resident == resident)
        .group_by(Signal.sector, Signal.event_type)
        .order_by(Signal.sector, Signal.event_type)
    ).tuples()
    signals = [
        {"sector": _sector(s), "kind": k, "count": int(n), "from": _day(a), "to": _day(b)}
        for s, k, n, a, b in kinds
    ]
    readings = session.execute(
        select(ReadingDay.utility, func.count(), func.min(ReadingDay.day), func.max(ReadingDay.day))
        .where(ReadingDay.resident == resident)
        .group_by(ReadingDay.utility)
    ).tuples()
    signals += [
        {"sector": "日ごとの使用量（集計）", "kind": u, "count": int(n), "from": _day(a), "to": _day(b)}
        for u, n, a, b in readings
    ]
    entries = list(
        session.execute(
            select(WatchlistEntry)
            .where(WatchlistEntry.resident == resident)
            .order_by(WatchlistEntry.run_date)
        ).scalars()
    )
    entry_ids = [e.entry_id for e in entries]
    reasons: dict[str, list[str]] = {}
    outcomes: dict[str, list[str]] = {}
    if entry_ids:
        for entry_id, text in session.execute(
            select(WatchlistReason.entry_id, WatchlistReason.text_ja).where(
                WatchlistReason.entry_id.in_(entry_ids)
            )
        ).tuples():
            reasons.setdefault(entry_id, []).append(text)
        for entry_id, code, visited in session.execute(
            select(Outcome.entry_id, Outcome.outcome, Outcome.visited_on).where(
                Outcome.entry_id.in_(entry_ids)
            )
        ).tuples():
            outcomes.setdefault(entry_id, []).append(f"{visited} {OUTCOME_LABELS.get(code, code)}")
    listings = [
        {
            "date": _day(e.run_date),
            "tier": e.tier,
            "reasons": reasons.get(e.entry_id, []),
            "outcomes": outcomes.get(e.entry_id, []),
        }
        for e in entries
    ]
    seen_by = [
        {
            "at": r.at.isoformat(timespec="seconds"),
            "actor": r.actor,
            "purpose": PURPOSE_LABELS.get(str(r.detail.get("purpose")), str(r.detail.get("purpose"))),
        }
        for r in _reads(session, entry_ids, consent_ids)
    ]
    return {
        "controller": controller,
        "made_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "made_by": actor,
        "person": {k: who.get(k, "") for k in ("name_kanji", "name_kana", "birth_date", "address")},
        "identity_held": bool(who),
        "consents": consents,
        "ended": ended,
        "provisions": provisions,
        "signals": signals,
        "listings": listings,
        "seen_by": seen_by,
    }


def _reads(session: Session, entry_ids: list[str], consent_ids: list[str]) -> list[AuditRecord]:
    """Audit records of reads of this person's identity: their list entries, or naming their consents."""
    conditions = []
    if entry_ids:
        conditions.append((AuditRecord.action == "reidentify") & AuditRecord.subject.in_(entry_ids))
    for cid in consent_ids:
        conditions.append((AuditRecord.action == "vault_read") & AuditRecord.subject.contains(cid))
    if not conditions:
        return []
    return list(
        session.execute(select(AuditRecord).where(or_(*conditions)).order_by(AuditRecord.seq)).scalars()
    )


def page(report: dict[str, Any]) -> str:
    """The printable Japanese report."""
    return _env.get_template("disclosure.html").render(
        r=report, tiers={"urgent": "至急", "high": "高", "watch": "注意"}
    )
