"""The four sectors of the feed contract: their columns and canonical event codes."""

from __future__ import annotations

from dataclasses import dataclass

IDENTIFIER_COLUMNS = ("partner_customer_id", "name_kana", "name_kanji", "birth_date", "address", "phone")


@dataclass(frozen=True)
class Sector:
    """What a sector's rows carry beyond the identifier columns."""

    name: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    event_types: frozenset[str]
    time_column: str


UTILITY_READING = "reading"
UTILITY_BILLING = "billing"
UTILITIES = frozenset({"electricity", "gas", "water"})
UNITS = {"electricity": "kWh", "gas": "m3", "water": "m3"}

SECTORS: dict[str, Sector] = {
    "delivery": Sector(
        "delivery",
        ("event_time", "event_type"),
        ("event_time", "event_type"),
        frozenset(
            {
                "handed_over",
                "left_unattended",
                "no_answer",
                "previous_uncollected",
                "order_skipped",
                "mail_piling",
            }
        ),
        "event_time",
    ),
    "utility": Sector(
        "utility",
        (
            "utility",
            "meter_id",
            "record_type",
            "period_start",
            "period_end",
            "consumption",
            "unit",
            "event_date",
            "event_type",
        ),
        ("utility", "record_type"),
        frozenset({"payment_overdue", "supply_stop_notice"}),
        "event_date",
    ),
    "insurer": Sector(
        "insurer",
        ("event_date", "event_type"),
        ("event_date", "event_type"),
        frozenset(
            {
                "hospital_admission",
                "hospital_discharge",
                "care_claim",
                "premium_overdue",
                "policy_lapsed",
                "spouse_death_claim",
                "contact_failed",
            }
        ),
        "event_date",
    ),
    "clinic": Sector(
        "clinic",
        ("event_date", "event_type"),
        ("event_date", "event_type"),
        frozenset({"attended", "missed_appointment", "prescription_uncollected", "follow_up_overdue"}),
        "event_date",
    ),
}
