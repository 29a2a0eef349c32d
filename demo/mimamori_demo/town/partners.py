"""The six partners of みどり市's watch-over agreements and how each one writes its files."""

from __future__ import annotations

from dataclasses import dataclass, field

from mimamori_demo.town.variants import IdentityStyle

__all__ = [
    "CANONICAL_EVENTS",
    "IDENTIFIER_COLUMNS",
    "PARTNERS",
    "SECTOR_COLUMNS",
    "PartnerSpec",
    "partners_yaml",
]

IDENTIFIER_COLUMNS = ("partner_customer_id", "name_kana", "name_kanji", "birth_date", "address", "phone")
SECTOR_COLUMNS: dict[str, tuple[str, ...]] = {
    "delivery": ("event_time", "event_type"),
    "utility": (
        "utility", "meter_id", "record_type", "period_start", "period_end",
        "consumption", "unit", "event_date", "event_type",
    ),
    "insurer": ("event_date", "event_type"),
    "clinic": ("event_date", "event_type"),
}  # fmt: skip
CANONICAL_EVENTS: dict[str, tuple[str, ...]] = {
    "delivery": (
        "handed_over", "left_unattended", "no_answer", "previous_uncollected", "order_skipped", "mail_piling",
    ),
    "utility": ("payment_overdue", "supply_stop_notice"),
    "insurer": (
        "hospital_admission", "hospital_discharge", "care_claim", "premium_overdue",
        "policy_lapsed", "spouse_death_claim", "contact_failed",
    ),
    "clinic": ("attended", "missed_appointment", "prescription_uncollected", "follow_up_overdue"),
}  # fmt: skip
_VALID = ("2025-04-01", "2028-03-31")


@dataclass(frozen=True)
class PartnerSpec:
    """One partner: registry entry, file layout, identifier habits and how many customers it has."""

    id: str
    name: str
    sector: str
    encoding: str
    due_by: str
    agreement_ref: str
    file_name: str
    customer_id: str
    style: IdentityStyle
    reach_alone: float
    reach_other: float
    codes: dict[str, str] = field(default_factory=dict)
    free_text: str = ""
    time_format: str = "%Y-%m-%dT%H:%M:%S+09:00"

    @property
    def columns(self) -> tuple[str, ...]:
        """Header of the data file."""
        return (
            IDENTIFIER_COLUMNS + SECTOR_COLUMNS[self.sector] + ((self.free_text,) if self.free_text else ())
        )

    def code(self, event_type: str) -> str:
        """The partner's own code for a canonical event type."""
        return next((own for own, canonical in self.codes.items() if canonical == event_type), event_type)


PARTNERS: tuple[PartnerSpec, ...] = (
    PartnerSpec(
        "kanda-coop", "かんだ生活協同組合", "delivery", "cp932", "06:00", "KYOTEI-2025-014",
        "deliveries.csv", "KC{:07d}",
        IdentityStyle(
            kana="halfwidth_legacy", separators=((" ", 0.6), ("", 0.4)), old_forms=0.5, no_kanji=0.15,
            birth_formats=(("compact", 1.0),),
            address_forms=(("arabic", 0.4), ("dash", 0.35), ("kanji", 0.1), ("fullwidth", 0.15)),
            address_prefixes=(("none", 0.5), ("city", 0.4), ("full", 0.1)), keep_building=0.6,
            phone_forms=(("plain", 0.5), ("digits", 0.3), ("paren", 0.2)), no_phone=0.1,
        ),
        0.45, 0.35,
        codes={
            "受渡済": "handed_over", "置き配": "left_unattended", "不在": "no_answer",
            "前回分残置": "previous_uncollected", "注文なし": "order_skipped", "郵便物滞留": "mail_piling",
        },
        free_text="備考", time_format="%Y-%m-%d %H:%M:%S",
    ),
    PartnerSpec(
        "hikari-bento", "ひかり配食サービス", "delivery", "utf-8", "07:00", "KYOTEI-2025-015",
        "events.jsonl", "HB-{:05d}",
        IdentityStyle(
            kana="hiragana_sometimes", separators=((" ", 0.5), ("\u3000", 0.3), ("", 0.2)), long_vowels=0.3,
            birth_formats=(("slash", 1.0),),
            address_forms=(("kanji", 0.3), ("arabic", 0.4), ("dash", 0.3)),
            address_prefixes=(("city", 0.6), ("full", 0.2), ("none", 0.2)), keep_building=0.8,
            phone_forms=(("paren", 0.4), ("plain", 0.4), ("fullwidth", 0.2)),
        ),
        0.45, 0.15,
    ),
    PartnerSpec(
        "midori-denki", "みどり電力", "utility", "utf-8", "05:00", "KYOTEI-2025-021",
        "usage.csv", "EC-{:08d}",
        IdentityStyle(
            separators=(("\u3000", 0.7), ("", 0.3)), no_birth=0.4,
            address_forms=(("fullwidth", 0.5), ("arabic", 0.3), ("dash_fullwidth", 0.2)),
            address_prefixes=(("full", 0.8), ("none", 0.2)), keep_building=0.9,
            phone_forms=(("plain", 0.6), ("digits", 0.4)), no_phone=0.2,
        ),
        0.92, 0.85,
    ),
    PartnerSpec(
        "minato-suido", "みどり市上下水道局", "utility", "utf-8-sig", "06:00", "KYOTEI-2025-022",
        "readings.csv", "SW{:07d}",
        IdentityStyle(
            separators=(("", 0.5), ("\u3000", 0.5)), old_forms=0.3, no_birth=0.6,
            address_forms=(("dash", 0.5), ("kanji", 0.2), ("arabic", 0.3)),
            address_prefixes=(("city", 0.5), ("none", 0.5)), keep_building=0.5,
            phone_forms=(("space", 0.5), ("plain", 0.5)), no_phone=0.3,
        ),
        0.88, 0.8, time_format="%Y-%m-%dT%H:%M:%S",
    ),
    PartnerSpec(
        "sakura-life", "さくら生命保険", "insurer", "utf-8-sig", "08:00", "KYOTEI-2025-030",
        "events.csv", "SL{:09d}",
        IdentityStyle(
            separators=(("\u3000", 0.5), (" ", 0.5)), old_forms=0.8,
            birth_formats=(("era_kanji", 0.6), ("era_letter", 0.4)),
            address_forms=(("kanji", 0.4), ("fullwidth", 0.3), ("arabic", 0.3)),
            address_prefixes=(("full", 0.7), ("city", 0.3)), keep_building=0.7,
            phone_forms=(("paren", 0.5), ("fullwidth", 0.3), ("plain", 0.2)),
        ),
        0.4, 0.4,
    ),
    PartnerSpec(
        "aoba-clinic", "あおば内科クリニック", "clinic", "utf-8", "07:30", "KYOTEI-2025-031",
        "events.csv", "P{:06d}",
        IdentityStyle(
            separators=((" ", 0.6), ("\u3000", 0.4)), old_forms=0.2,
            birth_formats=(("iso", 0.7), ("slash", 0.3)),
            address_forms=(("arabic", 0.5), ("dash", 0.5)),
            address_prefixes=(("none", 0.6), ("city", 0.4)), keep_building=0.4,
            phone_forms=(("plain", 0.6), ("digits", 0.4)), no_phone=0.1,
        ),
        0.5, 0.4,
    ),
)  # fmt: skip


def partners_yaml() -> str:
    """The registry file in the docs/feeds.md format, written by hand so it reads like the contract."""
    lines = ["partners:"]
    for p in PARTNERS:
        lines += [
            f"  - id: {p.id}",
            f"    name: {p.name}",
            f"    sector: {p.sector}",
            f"    encoding: {p.encoding}",
            f'    due_by: "{p.due_by}"',
            f"    agreement: {{ref: {p.agreement_ref}, valid_from: {_VALID[0]}, valid_to: {_VALID[1]}}}",
        ]
        lines += ["    codes:", *(f"      {own}: {canonical}" for own, canonical in p.codes.items())]
        if not p.codes:
            lines[-1] += " {}"
    return "\n".join(lines) + "\n"
