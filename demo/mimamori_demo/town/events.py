"""Event rows of the delivery, insurer and clinic partners, day by day, from each customer's life."""

from __future__ import annotations

import datetime
import random
from collections import defaultdict

from mimamori_demo.town.customers import Customer
from mimamori_demo.town.lives import NORMAL, Life, Timeline
from mimamori_demo.town.partners import IDENTIFIER_COLUMNS, PartnerSpec

__all__ = ["Rows", "clinic_rows", "delivery_rows", "insurer_rows"]

Rows = dict[int, list[list[str]]]  # day -> data rows in column order
_MISSED = ("no_answer", "left_unattended", "previous_uncollected")
# kanda-coop's free-text 備考 per event (most rows blank)
_REMARKS: dict[str, tuple[str, ...]] = {
    "handed_over": ("",) * 9 + ("お元気そうでした",),
    "left_unattended": ("", "", "置き配指定"),
    "no_answer": ("", "ご不在のため持ち帰り", "インターホン応答なし", "ご家族（長男様）へ連絡済"),
    "previous_uncollected": ("前回の商品が玄関前に残っています", ""),
    "order_skipped": ("", "次回注文なし"),
    "mail_piling": ("郵便受けに新聞・郵便物がたまっている",),
}

# daily chance of an unremarkable insurer event for any policy holder
_INSURER_NOISE = {
    "care_claim": 0.002,
    "premium_overdue": 0.002,
    "contact_failed": 0.001,
    "policy_lapsed": 0.0004,
}


def _delivery_outcome(
    rng: random.Random,
    life: Life,
    at: datetime.datetime,
    day: int,
    last: tuple[datetime.datetime, str] | None,
    unattended: bool,
) -> str:
    """The canonical event of one delivery attempt, given the previous attempt to the same customer."""
    state = life.state(at)
    if state == "down" and life.down_at is not None:
        missed_before = last is not None and last[0] >= life.down_at and last[1] in _MISSED
        return "previous_uncollected" if missed_before else ("left_unattended" if unattended else "no_answer")
    if state == "hospital" and life.away_from is not None:
        return "order_skipped" if last is not None and last[0] >= life.away_from else "no_answer"
    if state == "trip":
        return "order_skipped"
    p, roll = life.decline(day), rng.random()
    if roll < 0.02 + 0.4 * p:
        return "order_skipped"
    if roll < 0.035 + 0.65 * p:  # a single no_answer now and then is ordinary noise
        return "no_answer"
    return "left_unattended" if unattended else "handed_over"


def delivery_rows(
    rng: random.Random, spec: PartnerSpec, customers: list[Customer], lives: dict[str, Life], tl: Timeline
) -> Rows:
    """Delivery attempts on each customer's weekdays and hours; kanda-coop also reports mail piling up."""
    rows: Rows = defaultdict(list)
    for c in customers:
        life, last = lives.get(c.key, NORMAL), None
        for day in range(tl.days):
            if tl.date(day).weekday() not in c.habits.weekdays:
                continue
            for slot in c.habits.slots:
                at = tl.at(day, slot + rng.uniform(-0.3, 0.3))
                event = _delivery_outcome(rng, life, at, day, last, c.habits.unattended)
                last = (at, event)
                events = [(at, event)]
                piling = life.down_at is not None and at - life.down_at > datetime.timedelta(days=2)
                if piling and "mail_piling" in spec.codes.values():
                    events.append((at + datetime.timedelta(minutes=1), "mail_piling"))
                for moment, ev in events:
                    row = [*c.identity, moment.strftime(spec.time_format), spec.code(ev)]
                    rows[day].append(row + ([rng.choice(_REMARKS[ev])] if spec.free_text else []))
    return _sorted(rows, len(IDENTIFIER_COLUMNS))


def _sorted(rows: Rows, time_column: int) -> Rows:
    """Rows of each day ordered by event time, then customer id."""
    return {
        day: sorted(day_rows, key=lambda r: (r[time_column], r[0])) for day, day_rows in sorted(rows.items())
    }


def _insurer_events(rng: random.Random, life: Life, tl: Timeline) -> list[tuple[int, int, str]]:
    """(day recorded, event day, event type) for one policy holder."""
    found: list[tuple[int, int, str]] = []
    if life.away_kind == "hospital" and life.away_from and life.away_until:
        admitted = (life.away_from.date() - tl.start).days
        found.append((admitted + 1, admitted, "hospital_admission"))
        discharged = (life.away_until.date() - tl.start).days
        found.append((discharged + 1, discharged, "hospital_discharge"))
    if life.claim_day is not None:
        found.append((life.claim_day, life.claim_day, "spouse_death_claim"))
    if life.down_at is not None and rng.random() < 0.5:
        day = (life.down_at.date() - tl.start).days + 2
        found.append((day, day, "contact_failed"))
    for level, event in ((0.4, "premium_overdue"), (0.7, "contact_failed")):
        reached = life.decline_reaches(level, tl.days)
        found += [(reached, reached, event)] if reached is not None else []
    for day in range(tl.days):  # ordinary noise across the whole customer base
        for event, chance in _INSURER_NOISE.items():
            if rng.random() < chance:
                found.append((day, day, event))
    return [(min(rec, tl.days - 1), d, e) for rec, d, e in found if d < tl.days]


def insurer_rows(
    rng: random.Random, spec: PartnerSpec, customers: list[Customer], lives: dict[str, Life], tl: Timeline
) -> Rows:
    """Sparse insurer events, each delivered on the day the insurer recorded it (often a day late)."""
    rows: Rows = defaultdict(list)
    for c in customers:
        for recorded, day, event in _insurer_events(rng, lives.get(c.key, NORMAL), tl):
            rows[recorded].append([*c.identity, tl.date(day).isoformat(), spec.code(event)])
    return _sorted(rows, len(IDENTIFIER_COLUMNS))


def clinic_rows(
    rng: random.Random, spec: PartnerSpec, customers: list[Customer], lives: dict[str, Life], tl: Timeline
) -> Rows:
    """Appointments every 2-4 weeks, attended or missed, then uncollected prescriptions and follow-ups."""
    rows: Rows = defaultdict(list)
    for c in customers:
        life, interval = lives.get(c.key, NORMAL), c.habits.interval
        found: list[tuple[int, str]] = []
        for day in range(c.habits.offset - interval, tl.days, interval):
            at = tl.at(day, c.habits.slots[0])
            state = life.state(at)
            if state == "trip":  # rescheduled before leaving
                continue
            p = life.decline(day)
            if state in ("down", "hospital") or rng.random() < 0.04 + 0.6 * p:
                found += [(day, "missed_appointment"), (day + 7, "follow_up_overdue")]
                continue
            found.append((day, "attended"))
            later = life.state(tl.at(day + 3, 12.0))
            if later in ("down", "hospital") or rng.random() < 0.01 + 0.5 * p:
                found.append((day + 3, "prescription_uncollected"))
        for day, event in found:
            if 0 <= day < tl.days:
                rows[day].append([*c.identity, tl.date(day).isoformat(), spec.code(event)])
    return _sorted(rows, len(IDENTIFIER_COLUMNS))
