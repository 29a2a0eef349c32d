"""A data steward's reads and decisions, shared by the CLI and the portal: held deliveries, a delivery's
story, release and discard with a reason, the link review queue a pair at a time, and consent search."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from expectations import quarantine
from expectations.advice import Advice, advise
from identity.rotation import active_pseudonym_keys
from mimamori.settings import Settings
from warehouse.errors import InputError, NotFoundError
from warehouse.models import (
    Delivery,
    DeliveryCount,
    HeldRows,
    LinkReview,
    ProvisionRecord,
    ValidationResult,
)
from warehouse.vocabulary import DeliveryStatus, ReviewStatus

DELIVERY_LABELS: dict[str, str] = {
    DeliveryStatus.WAITING: "未完了（待機中）",
    DeliveryStatus.REFUSED: "受付拒否",
    DeliveryStatus.READY: "読込待ち",
    DeliveryStatus.LOADED: "取込済み",
    DeliveryStatus.QUARANTINED: "隔離中",
    DeliveryStatus.RELEASED: "解放済み（次回再処理）",
    DeliveryStatus.DISCARDED: "破棄済み",
    DeliveryStatus.SUPERSEDED: "訂正配信で置換",
}
# Why rows of a loaded delivery were dropped, in the words of the feeds page.
DROP_LABELS = {
    "no_consent": "同意なし",
    "out_of_scope": "同意の範囲外",
    "expired": "同意期限切れ",
    "withdrawn": "同意撤回後",
    "before_grant": "同意日より前",
    "unmatched": "住民と照合できず",
    "held_for_review": "名寄せ確認待ち",
    "review_rejected": "名寄せ却下",
    "invalid": "不正な値",
}
MIN_REASON = 4  # characters a steward's reason for a decision must have


@dataclass
class DeliveryStory:
    """One delivery as a steward opens it: status, files, counts per reason, validation, provision."""

    delivery: Delivery
    advice: Advice | None
    counts: list[tuple[str, str, int]]  # (stage, reason label, count)
    validation: ValidationResult | None
    provision: ProvisionRecord | None
    held_rows: int = 0
    files: list[dict[str, Any]] = field(default_factory=list)


def held_deliveries(session: Session) -> list[tuple[Delivery, Advice]]:
    """Deliveries not loaded (held back, waiting, released, discarded), oldest first, with advice."""
    rows = session.execute(
        select(Delivery)
        .where(Delivery.status != DeliveryStatus.LOADED)
        .order_by(Delivery.received_at, Delivery.id)
    ).scalars()
    return [(d, advise(d.reason)) for d in rows]


def delivery_story(session: Session, delivery_pk: int) -> DeliveryStory:
    """Everything recorded about one delivery (never a row's contents)."""
    delivery = session.get(Delivery, delivery_pk)
    if delivery is None:
        raise NotFoundError(f"配信 {delivery_pk} はありません / no delivery {delivery_pk}")
    counts = session.execute(
        select(DeliveryCount.stage, DeliveryCount.reason, DeliveryCount.count)
        .where(DeliveryCount.delivery_pk == delivery_pk)
        .order_by(DeliveryCount.stage, DeliveryCount.reason)
    ).tuples()
    held = session.execute(
        select(func.coalesce(func.sum(HeldRows.rows), 0)).where(HeldRows.delivery_pk == delivery_pk)
    ).scalar_one()
    held_back = delivery.status in quarantine.HELD_BACK
    return DeliveryStory(
        delivery=delivery,
        advice=advise(delivery.reason) if held_back else None,
        counts=[(stage, DROP_LABELS.get(reason, reason), int(n)) for stage, reason, n in counts],
        validation=session.get(ValidationResult, delivery_pk),
        provision=session.get(ProvisionRecord, delivery_pk),
        held_rows=int(held),
        files=[f for f in delivery.files if isinstance(f, dict)],
    )


def _reason(why: str) -> str:
    why = " ".join(why.split())
    if len(why) < MIN_REASON:
        raise InputError(f"理由を{MIN_REASON}文字以上で入力してください / give a reason")
    return why


def release(session: Session, settings: Settings, delivery: Delivery, actor: str, why: str) -> Delivery:
    """Release a held delivery for the next run, with the steward's reason (audited)."""
    return quarantine.release(
        session,
        settings.path("quarantine"),
        settings.vault_keys,
        settings.path("inbox"),
        delivery.partner_id,
        delivery.delivery_id,
        actor,
        released=settings.path("released"),
        why=_reason(why),
    )


def discard(session: Session, settings: Settings, delivery: Delivery, actor: str, why: str) -> Delivery:
    """Discard a held delivery for good, with the steward's reason (audited)."""
    return quarantine.discard(
        session,
        settings.path("quarantine"),
        delivery.partner_id,
        delivery.delivery_id,
        actor,
        why=_reason(why),
    )


@dataclass(frozen=True)
class ReviewPage:
    """One pending review with both sides, where it stands in the queue, and which fields differ."""

    review: LinkReview
    partner: dict[str, Any]
    register: dict[str, Any]
    position: int
    total: int
    differs: frozenset[str]


REVIEW_FIELDS = (
    ("name_kana", "カナ氏名"),
    ("name_kanji", "氏名"),
    ("birth_date", "生年月日"),
    ("address", "住所"),
    ("phone", "電話"),
)


def _norm(value: Any) -> str:
    return "".join(str(value or "").split())


def review_page(session: Session, settings: Settings, position: int, actor: str) -> ReviewPage | None:
    """The pending review at a position (1-based) with both identities (the vault read audited)."""
    from identity import review
    from identity.access import read_identities

    total = session.execute(
        select(func.count()).select_from(LinkReview).where(LinkReview.status == ReviewStatus.PENDING)
    ).scalar_one()
    if total == 0:
        return None
    position = min(max(position, 1), total)
    found = session.execute(
        select(LinkReview)
        .where(LinkReview.status == ReviewStatus.PENDING)
        .order_by(LinkReview.id)
        .offset(position - 1)
        .limit(1)
    ).scalar_one()
    theirs = review.partner_side(settings.vault_keys, found)
    ours = read_identities(
        session,
        settings.vault_keys,
        [found.candidate],
        actor=actor,
        purpose="link_review",
        subject=f"review/{found.id}",
    ).get(found.candidate, {})
    differs = frozenset(k for k, _ in REVIEW_FIELDS if _norm(theirs.get(k)) != _norm(ours.get(k)))
    return ReviewPage(found, theirs, ours, position, int(total), differs)


def decide_review(
    session: Session, settings: Settings, review_id: int, accept: bool, actor: str
) -> LinkReview:
    """Accept or reject a pending review (audited); its held rows go at the next run."""
    from identity import review

    return review.decide(
        session,
        review_id,
        accept,
        actor,
        active_pseudonym_keys(session, settings.pseudonym_keys).current_id,
    )


def pseudonym_of(session: Session, settings: Settings, resident_id: str) -> str:
    """The pseudonym a resident id has under the key in use (the id itself is never stored)."""
    from identity.pseudonym import pseudonymise

    resident_id = resident_id.strip()
    if not resident_id.isdigit() or len(resident_id) > 20:
        raise InputError("宛名番号は数字で入力してください / a resident id is digits")
    return pseudonymise(active_pseudonym_keys(session, settings.pseudonym_keys), resident_id)


def receipt_for(session: Session, settings: Settings, consent_id: str, fmt: str, actor: str) -> str:
    """A consent's receipt: JSON (ISO/IEC TS 27560) or the Japanese page (the name read audited)."""
    import json

    from consent import receipt
    from consent.book import versions
    from identity.access import read_identities

    if fmt not in ("json", "html"):
        raise InputError(f"形式は json か html です / unknown format {fmt!r}")
    controller, partners = _controller_and_partners(settings)
    history = versions(session, consent_id)
    if not history:
        raise NotFoundError(f"同意 {consent_id} はありません / no consent {consent_id}")
    document = receipt.build(history, controller, partners, settings.retention)
    if fmt == "json":
        return json.dumps(document, ensure_ascii=False, indent=2)
    who = read_identities(
        session,
        settings.vault_keys,
        [history[-1].resident],
        actor=actor,
        purpose="receipt",
        subject=consent_id,
    )
    return receipt.page(document, next(iter(who.values()), {}).get("name_kanji", "（本人）"))


FEED_LABELS = {
    "on_time": "受信",
    "late": "遅延",
    "late_incomplete": "未完了",
    "missing": "欠落",
    "quarantined": "隔離",
}
FLAG_SHARE = 0.2  # a no-consent share above this, or rising by FLAG_RISE over a week with rows, is flagged
FLAG_RISE = 0.05


def drop_counts(
    session: Session, start: dt.date | None, end: dt.date | None
) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """Per partner, rows kept and rows dropped per reason, for deliveries feeding runs in (start, end]."""
    query = (
        select(Delivery.partner_id, DeliveryCount.reason, func.sum(DeliveryCount.count))
        .join(DeliveryCount, DeliveryCount.delivery_pk == Delivery.id)
        .where(DeliveryCount.stage == "dropped")
    )
    loaded = select(Delivery.partner_id, func.sum(Delivery.rows_loaded)).group_by(Delivery.partner_id)
    for bound, compare in ((start, Delivery.period_end.__gt__), (end, Delivery.period_end.__le__)):
        if bound:
            condition = compare(dt.datetime.combine(bound, dt.time()))
            query, loaded = query.where(condition), loaded.where(condition)
    dropped: dict[str, dict[str, int]] = {}
    for partner, reason, count in session.execute(query.group_by(Delivery.partner_id, DeliveryCount.reason)):
        dropped.setdefault(partner, {})[reason] = int(count)
    kept = {p: int(n or 0) for p, n in session.execute(loaded)}
    return kept, dropped


def no_consent_share(kept: dict[str, int], dropped: dict[str, dict[str, int]], partner: str) -> float:
    """The share of a partner's rows dropped for want of any consent."""
    d = dropped.get(partner, {})
    total = kept.get(partner, 0) + sum(d.values())
    return d.get("no_consent", 0) / total if total else 0.0


@dataclass(frozen=True)
class FeedGrid:
    """Partners x days: each cell's feed status and the delivery behind it; partners to check flagged."""

    days: list[dt.date]
    partners: list[str]
    cells: dict[tuple[str, dt.date], tuple[str, int | None]]
    shares: dict[str, tuple[float, float]]  # partner -> (previous week, last week)
    flagged: frozenset[str]


def feed_grid(session: Session, last_day: dt.date, days: int = 14) -> FeedGrid:
    """The last `days` run dates up to `last_day`, with feed health and the no-consent shares."""
    from warehouse.models import FeedHealth

    span = [last_day - dt.timedelta(days=n) for n in range(days - 1, -1, -1)]
    health = session.execute(
        select(FeedHealth).where(FeedHealth.day >= span[0], FeedHealth.day <= last_day)
    ).scalars()
    start = dt.datetime.combine(span[0], dt.time()) - dt.timedelta(hours=1)
    deliveries = session.execute(
        select(Delivery.id, Delivery.partner_id, Delivery.period_end, Delivery.status)
        .where(Delivery.period_end > start, Delivery.period_end <= dt.datetime.combine(last_day, dt.time()))
        .order_by(Delivery.id)
    ).tuples()
    behind: dict[tuple[str, dt.date], int] = {}
    for pk, partner, period_end, status in deliveries:
        if period_end is None:
            continue
        day = (period_end - dt.timedelta(seconds=1)).date() + dt.timedelta(days=1)
        if status != DeliveryStatus.SUPERSEDED:
            behind[(partner, day)] = pk  # the newest delivery for the day wins
    cells = {(h.partner_id, h.day): (h.status, behind.get((h.partner_id, h.day))) for h in health}
    partners = sorted({p for p, _ in cells} | {p for p, _ in behind})
    week = dt.timedelta(days=7)
    before = drop_counts(session, last_day - 2 * week, last_day - week)
    recent = drop_counts(session, last_day - week, last_day)
    shares = {p: (no_consent_share(*before, p), no_consent_share(*recent, p)) for p in partners}
    compared = {p for p in partners if before[0].get(p, 0) + sum(before[1].get(p, {}).values())}
    flagged = frozenset(
        p for p, (was, now) in shares.items() if now > FLAG_SHARE or (p in compared and now - was > FLAG_RISE)
    )
    return FeedGrid(span, partners, cells, shares, flagged)


def _controller_and_partners(settings: Settings) -> tuple[dict[str, str], list[dict[str, str]]]:
    from connectors.registry import load_registry
    from mimamori.municipality import load_municipality

    place = load_municipality(settings.path("municipality.yaml"))
    partners = [
        {"id": p.id, "name": p.name, "sector": p.sector}
        for p in load_registry(settings.path("partners.yaml")).values()
    ]
    return {"name": f"{place.prefecture}{place.city}", "code": place.code}, partners


def disclosure(session: Session, settings: Settings, resident_id: str, fmt: str, actor: str) -> str:
    """The APPI Art. 33 report for one resident id: the printable Japanese page or JSON (audited)."""
    import json

    from consent import disclosure as report

    if fmt not in ("json", "html"):
        raise InputError(f"形式は json か html です / unknown format {fmt!r}")
    controller, partners = _controller_and_partners(settings)
    built = report.build(
        session,
        pseudonym_of(session, settings, resident_id),
        settings.vault_keys,
        controller,
        partners,
        settings.retention,
        actor,
    )
    return json.dumps(built, ensure_ascii=False, indent=2) if fmt == "json" else report.page(built)
