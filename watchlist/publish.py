"""Publishing: re-identify listed entries per district and write the outbox; the CLI view shares the path."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from identity.access import reidentify
from identity.keys import KeyRing
from warehouse.db import utcnow
from warehouse.errors import NotFoundError
from warehouse.models import FeedHealth, PipelineRun, WatchlistEntry, WatchlistReason, WatchPopulation
from warehouse.vocabulary import FeedStatus, RunStatus
from watchlist.render import TIER_LABELS, ListedEntry, PublishedList, to_csv, to_html, to_json
from watchlist.rules import TIERS

PARTIAL = ".partial"  # suffix of a list file being written, before it is renamed into place

FEED_TEXT = {
    FeedStatus.MISSING: (
        "{name}のデータが届いていません。この情報源の「無反応」は判定に使っていません",
        "No delivery from {name} today; its silence is not read as a resident's silence",
    ),
    FeedStatus.QUARANTINED: (
        "{name}のデータは検証で保留（隔離）中です。この情報源の「無反応」は判定に使っていません",
        "{name}'s delivery is quarantined; its silence is not read as a resident's silence",
    ),
    FeedStatus.LATE: ("{name}のデータは期限後に届きました", "{name}'s delivery arrived after its due time"),
    FeedStatus.LATE_INCOMPLETE: (
        "{name}のデータが未完了のまま期限を過ぎています。この情報源の「無反応」は判定に使っていません",
        "{name}'s delivery is still incomplete after its due time; its silence is not read",
    ),
}


def notices(session: Session, run_date: dt.date, names: dict[str, str]) -> list[dict[str, str]]:
    """Notices naming every feed that was not on time for the date."""
    found = []
    for health in session.execute(
        select(FeedHealth).where(FeedHealth.day == run_date).order_by(FeedHealth.partner_id)
    ).scalars():
        if health.status in FEED_TEXT:
            ja, en = FEED_TEXT[FeedStatus(health.status)]
            name = names.get(health.partner_id, health.partner_id)
            found.append(
                {
                    "partner_id": health.partner_id,
                    "status": health.status,
                    "text_ja": ja.format(name=name),
                    "text_en": en.format(name=health.partner_id),
                }
            )
    return found


def listing(
    session: Session,
    keys: KeyRing,
    run_date: dt.date,
    district: str | None,
    district_names: dict[str, str],
    partner_names: dict[str, str],
    actor: str,
    purpose: str,
    capacity: dict[str, int] | None = None,
    only: str | None = None,
) -> PublishedList:
    """One district's (or every district's) list for a date, re-identified and audited, ordered by tier.

    With `only`, just that entry (nothing else re-identified; no capacity marks).
    """
    query = select(WatchlistEntry).where(WatchlistEntry.run_date == run_date)
    if district:
        query = query.where(WatchlistEntry.district_code == district)
    entries = list(session.execute(query).scalars())
    entries.sort(key=lambda e: (TIERS.index(e.tier), -e.score, e.entry_id))
    if only is not None:
        entries, capacity = [e for e in entries if e.entry_id == only], None
    identities = reidentify(
        session, keys, [(e.entry_id, e.resident, e.district_code) for e in entries], actor, purpose
    )
    bands = dict(session.execute(select(WatchPopulation.resident, WatchPopulation.age_band)).tuples().all())
    hidden = [e for e in entries if e.entry_id not in identities]
    entries = [e for e in entries if e.entry_id in identities]
    reasons_of: dict[str, list[WatchlistReason]] = {e.entry_id: [] for e in entries}
    ids = list(reasons_of)
    for start in range(0, len(ids), 500):
        for reason in session.execute(
            select(WatchlistReason)
            .where(WatchlistReason.entry_id.in_(ids[start : start + 500]))
            .order_by(WatchlistReason.score.desc(), WatchlistReason.id)
        ).scalars():
            reasons_of[reason.entry_id].append(reason)
    listed = []
    for e in entries:
        reasons = reasons_of[e.entry_id]
        who = identities[e.entry_id]
        listed.append(
            ListedEntry(
                entry_id=e.entry_id,
                resident_id=who["resident_id"],
                district_code=e.district_code,
                district_name=district_names.get(e.district_code, e.district_code),
                tier=e.tier,
                tier_label=TIER_LABELS[e.tier],
                score=e.score,
                name_kanji=who["name_kanji"],
                name_kana=who["name_kana"],
                age_band=bands.get(e.resident, ""),
                address=who["address"],
                phone=who["phone"],
                reasons=[
                    {
                        "rule_id": r.rule_id,
                        "rule_version": r.rule_version,
                        "score": r.score,
                        "text_ja": r.text_ja,
                        "text_en": r.text_en,
                        "partners": r.partners,
                        "partner_names": [partner_names.get(p, p) for p in r.partners],
                        "sectors": r.sectors,
                        "from": r.evidence_from.isoformat() if r.evidence_from else None,
                        "to": r.evidence_to.isoformat() if r.evidence_to else None,
                    }
                    for r in reasons
                ],
            )
        )
    version = entries[0].rule_set_version if entries else ""
    limit = (capacity or {}).get(district) if district else None
    return PublishedList(
        date=run_date.isoformat(),
        district_code=district,
        district_name=district_names.get(district, district) if district else "全地区",
        rule_set_version=version,
        notices=notices(session, run_date, partner_names)
        + _hidden_notice(len(hidden))
        + _capacity_notice(limit, apply_capacity(listed, limit)),
        entries=listed,
    )


def apply_capacity(listed: list[ListedEntry], limit: int | None) -> int:
    """Mark entries past the district's daily capacity (in list order; urgent is never cut); count them."""
    if limit is None:
        return 0
    taken = beyond = 0
    for entry in listed:
        entry.within_capacity = entry.tier == "urgent" or taken < limit
        taken += entry.within_capacity
        beyond += not entry.within_capacity
    return beyond


def _capacity_notice(limit: int | None, beyond: int) -> list[dict[str, str]]:
    if not beyond:
        return []
    return [
        {
            "partner_id": "",
            "status": "capacity",
            "text_ja": f"本日の訪問枠は{limit}件です。枠を超える{beyond}件は末尾に「枠外」として示します"
            "（至急は常に枠内）",
            "text_en": f"Daily capacity is {limit}; {beyond} entries beyond it are listed last "
            "(urgent never is)",
        }
    ]


def _hidden_notice(count: int) -> list[dict[str, str]]:
    if not count:
        return []
    return [
        {
            "partner_id": "",
            "status": "hidden",
            "text_ja": f"{count}件は同意の撤回・期限切れまたは転居のため表示しません",
            "text_en": f"{count} entries are not shown: consent withdrawn or expired, or the resident moved",
        }
    ]


def write_outbox(outbox: Path, listed: PublishedList) -> list[Path]:
    """Write one district's list as JSON, CSV (with BOM) and HTML under outbox/<date>/, each file whole.

    Call it only after the re-identification records of the list are committed: each file is written
    under a temporary name, flushed to disk and renamed, so a crash leaves no file or a whole one.
    """
    folder = outbox / listed.date
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / str(listed.district_code)
    paths = [stem.with_suffix(".json"), stem.with_suffix(".csv"), stem.with_suffix(".html")]
    _leftovers(folder, stem.name)
    _write_whole(paths[0], to_json(listed).encode("utf-8"))
    _write_whole(paths[1], to_csv(listed).encode("utf-8-sig"))
    _write_whole(paths[2], to_html(listed).encode("utf-8"))
    return paths


def _leftovers(folder: Path, stem: str) -> None:
    """Remove temporary files an interrupted write of this district left behind."""
    for path in folder.glob(f".{stem}.*{PARTIAL}"):
        path.unlink(missing_ok=True)


def _write_whole(path: Path, data: bytes) -> None:
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=PARTIAL)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def publish(
    session: Session,
    keys: KeyRing,
    run_date: dt.date,
    district_names: dict[str, str],
    partner_names: dict[str, str],
    actor: str,
    capacity: dict[str, int] | None = None,
) -> list[PublishedList]:
    """Every district's list for the date (an empty list too), re-identified and audited in the session.

    Nothing is written here: the caller commits the session (and with it the audit records) first,
    then writes each list with `write_outbox`.
    """
    lists = [
        listing(session, keys, run_date, code, district_names, partner_names, actor, "publish", capacity)
        for code in sorted(district_names)
    ]
    for entry in session.execute(select(WatchlistEntry).where(WatchlistEntry.run_date == run_date)).scalars():
        entry.published_at = entry.published_at or utcnow()
    return lists


def require_published(session: Session, run_date: dt.date) -> None:
    """Fail clearly when no list was built for the date."""
    found = session.execute(
        select(WatchlistEntry.entry_id).where(WatchlistEntry.run_date == run_date).limit(1)
    )
    if found.first() is None and not _run_exists(session, run_date):
        raise NotFoundError(
            f"no list was produced for {run_date}: run `mimamori run --date {run_date}` first"
        )


def _run_exists(session: Session, run_date: dt.date) -> bool:
    found = session.execute(
        select(PipelineRun.run_id)
        .where(PipelineRun.run_date == run_date, PipelineRun.status == RunStatus.SUCCESS)
        .limit(1)
    )
    return found.first() is not None
