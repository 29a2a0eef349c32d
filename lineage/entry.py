"""One list entry's chain of evidence for auditors: rules → signals → deliveries → consents → run.

Read from the warehouse only (lineage links, reasons, signals, deliveries, consent versions, the run);
pseudonymous throughout: the chain names partners, deliveries, checksums and consent ids, never a person.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent.book import versions
from lineage import events as lineage_events
from warehouse.errors import NotFoundError
from warehouse.models import (
    ConsentTombstone,
    Delivery,
    LineageLink,
    PipelineRun,
    Signal,
    WatchlistEntry,
    WatchlistReason,
)
from watchlist.rules import RuleSet


@dataclass(frozen=True)
class SignalGroup:
    """Signals behind a rule from one delivery, of one kind, under one consent: counted, never listed."""

    partner_id: str
    event_type: str
    delivery: str
    consent_id: str
    count: int
    first: dt.datetime
    last: dt.datetime


@dataclass(frozen=True)
class RuleLink:
    """A reason on the entry: the rule, its version, weight and text, and the signals in its window."""

    rule_id: str
    version: str
    score: float
    text_ja: str
    partners: tuple[str, ...]
    signals: tuple[SignalGroup, ...]
    from_signals: bool  # the rule found signals (an explained absence did not)


@dataclass(frozen=True)
class DeliveryLink:
    """A delivery the entry's evidence came from, with each file's checksum as its manifest gave it."""

    partner_id: str
    delivery_id: str
    received_at: dt.datetime
    status: str
    files: tuple[tuple[str, str, int], ...]


@dataclass(frozen=True)
class ConsentLink:
    """The consent that allowed the signals: its newest version, or the tombstone left by a purge."""

    consent_id: str
    version: int | None
    status: str
    granted_on: dt.date
    ends_on: dt.date | None
    scope: str
    purged: bool


@dataclass(frozen=True)
class Chain:
    """Everything an auditor needs to see where one list entry came from."""

    entry_id: str
    run_date: dt.date
    district_code: str
    tier: str
    score: float
    rule_set_version: str
    rules: tuple[RuleLink, ...]
    deliveries: tuple[DeliveryLink, ...]
    consents: tuple[ConsentLink, ...]
    run: PipelineRun | None
    abstained: tuple[tuple[str, dict[str, Any]], ...] = ()  # rule@version that could not judge, and why


def event_types(rules: RuleSet) -> dict[tuple[str, str], frozenset[str]]:
    """The event types each rule (by id and version) looks at, for the rules that name theirs."""
    return {
        (rule.id, rule.version): frozenset(rule.params["event_types"])
        for rule in rules.rules
        if rule.params.get("event_types")
    }


def _signals(
    session: Session,
    entry: WatchlistEntry,
    reason: WatchlistReason,
    deliveries: dict[int, str],
    types: frozenset[str] | None,
) -> tuple[SignalGroup, ...]:
    """Signals of the reason's partners in its evidence window (of the rule's event types when known)."""
    if reason.evidence_from is None or reason.evidence_to is None or not reason.partners:
        return ()
    query = select(
        Signal.partner_id, Signal.event_type, Signal.delivery_pk, Signal.consent_id, Signal.event_start
    ).where(
        Signal.resident == entry.resident,
        Signal.partner_id.in_(list(reason.partners)),
        Signal.delivery_pk.in_(list(deliveries)),
        Signal.event_start >= reason.evidence_from,
        Signal.event_start <= reason.evidence_to,
    )
    if types is not None:
        query = query.where(Signal.event_type.in_(sorted(types)))
    rows = session.execute(query.order_by(Signal.event_start)).all()
    groups: dict[tuple[str, str, int, str], list[dt.datetime]] = defaultdict(list)
    for partner, event_type, delivery_pk, consent_id, start in rows:
        groups[(partner, event_type, delivery_pk, consent_id)].append(start)
    return tuple(
        SignalGroup(partner, event_type, deliveries[pk], consent_id, len(times), min(times), max(times))
        for (partner, event_type, pk, consent_id), times in sorted(groups.items())
    )


def _consent(session: Session, consent_id: str) -> ConsentLink | None:
    history = versions(session, consent_id)
    if history:
        r = history[-1]
        scope = f"{','.join(r.scope_partners)}/{','.join(r.scope_sectors)}"
        ends = r.withdrawn_on or r.expires_on
        return ConsentLink(consent_id, r.version, r.status, r.granted_on, ends, scope, False)
    tomb = session.get(ConsentTombstone, consent_id)
    if tomb is None:
        return None
    return ConsentLink(consent_id, None, tomb.reason, tomb.granted_on, tomb.ended_on, "-", True)


def chain(session: Session, entry_id: str, rules: RuleSet) -> Chain:
    """The chain of one entry (rules give each rule's event types), or NotFoundError for an unknown id."""
    entry = session.get(WatchlistEntry, entry_id)
    if entry is None:
        raise NotFoundError(f"no list entry {entry_id}")
    links = list(session.execute(select(LineageLink).where(LineageLink.entry_id == entry_id)).scalars())
    pks = sorted({int(link.ref) for link in links if link.kind == "delivery"})
    found = list(
        session.execute(select(Delivery).where(Delivery.id.in_(pks)).order_by(Delivery.id)).scalars()
    )
    names = {d.id: f"{d.partner_id}/{d.delivery_id}" for d in found}
    reasons = session.execute(
        select(WatchlistReason).where(WatchlistReason.entry_id == entry_id).order_by(WatchlistReason.id)
    ).scalars()
    types = event_types(rules)
    reasons_found = tuple(
        RuleLink(
            r.rule_id,
            r.rule_version,
            r.score,
            r.text_ja,
            tuple(r.partners),
            _signals(session, entry, r, names, types.get((r.rule_id, r.rule_version))),
            bool(r.partners and r.evidence_from and r.evidence_to),
        )
        for r in reasons
    )
    deliveries = tuple(
        DeliveryLink(
            d.partner_id,
            d.delivery_id,
            d.received_at,
            d.status,
            tuple((f["name"], f["sha256"], int(f["rows"])) for f in d.files),
        )
        for d in found
    )
    consent_ids = sorted({link.ref for link in links if link.kind == "consent"})
    consents = tuple(c for c in (_consent(session, cid) for cid in consent_ids) if c is not None)
    return Chain(
        entry.entry_id,
        entry.run_date,
        entry.district_code,
        entry.tier,
        entry.score,
        entry.rule_set_version,
        reasons_found,
        deliveries,
        consents,
        session.get(PipelineRun, entry.run_id),
        tuple((link.ref, dict(link.detail)) for link in links if link.kind == "abstained"),
    )


def _when(moment: dt.datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M}"


def render(found: Chain, namespace: str) -> str:
    """The chain as Japanese-first text, one link per line, indented by depth."""
    lines = [
        f"リスト項目 / entry {found.entry_id}  日付 {found.run_date}  地区 district {found.district_code}  "
        f"区分 tier {found.tier}  点数 score {found.score}",
        f"ルール集 / rule set {found.rule_set_version}",
    ]
    for rule in found.rules:
        lines.append(f"  ルール / rule {rule.rule_id} v{rule.version} [{rule.score}] {rule.text_ja}")
        for s in rule.signals:
            lines.append(
                f"    信号 / signals {s.partner_id} {s.event_type} ×{s.count} "
                f"({_when(s.first)}〜{_when(s.last)} JST) ← 配信 delivery {s.delivery} "
                f"← 同意 consent {s.consent_id}"
            )
        if rule.from_signals and not rule.signals:
            lines.append("    信号 / signals 保持期間の経過または消去により残っていません / no longer kept")
    for ref, detail in found.abstained:
        why = ", ".join(f"{k}={v}" for k, v in detail.items() if k != "rule_set")
        lines.append(f"  判定できなかったルール / rule abstained {ref}: {why}")
    for d in found.deliveries:
        lines.append(
            f"  配信 / delivery {d.partner_id}/{d.delivery_id}  受信 received {_when(d.received_at)} UTC  "
            f"状態 status {d.status}"
        )
        lines += [
            f"    ファイル / file {name}  行数 rows {rows}  sha256 {digest}" for name, digest, rows in d.files
        ]
    for c in found.consents:
        if c.purged:
            lines.append(
                f"  同意 / consent {c.consent_id} {c.status} on {c.ends_on}, 消去済み purged (tombstone only)"
            )
        else:
            lines.append(
                f"  同意 / consent {c.consent_id} v{c.version} {c.status}  付与 granted {c.granted_on}  "
                f"終了 ends {c.ends_on or '-'}  範囲 scope {c.scope}"
            )
    run = found.run
    if run is not None:
        lines.append(
            f"  実行 / run {run.run_id}  DAG実行 / DAG run {run.dag_run_id or '(なし / in process)'}  "
            f"コード版 / code {run.code_version}"
        )
        lines.append(f"  OpenLineage {namespace} {lineage_events.PIPELINE_JOB} run {run.run_id}")
    return "\n".join(lines)
