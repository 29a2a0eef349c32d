"""Consent receipts: a record following ISO/IEC TS 27560, and a Japanese page for the resident."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from consent.provision import BASIS, CATEGORIES, KEEP_YEARS
from warehouse.models import ConsentRecord
from warehouse.retention_policy import Retention

SCHEMA_NAME = "receipt.schema.json"
PURPOSE = {
    "id": "watch_over",
    "ja": "ひとり暮らしの高齢者の見守り（異変の早期発見と訪問）",
    "en": "Watching over residents aged 65+ who live alone (early notice of trouble and a visit)",
}
WITHDRAWAL = {
    "ja": "いつでも撤回できます。市役所の担当窓口または電話で「見守りの同意を撤回したい」とお伝えください。"
    "撤回後は新しい情報を受け取らず、これまでの情報も削除します。",
    "en": "You can withdraw at any time at the city office or by telephone; after that no new information is "
    "taken in and what we hold is deleted.",
}


def schema() -> dict[str, Any]:
    """The JSON Schema every receipt validates against (the 27560 structure as this project uses it)."""
    data: dict[str, Any] = json.loads(
        resources.files("consent").joinpath(SCHEMA_NAME).read_text(encoding="utf-8")
    )
    return data


def build(
    versions: list[ConsentRecord],
    controller: dict[str, str],
    partners: list[dict[str, str]],
    retention: Retention,
) -> dict[str, Any]:
    """The receipt of one consent from all its versions (oldest first) and the partners it covers."""
    current = versions[-1]
    covered = [p for p in partners if _covers(current, p)]
    return {
        "header": {
            "schema": "ISO/IEC TS 27560:2023 consent record",
            "record_id": current.consent_id,
            "version": current.version,
            "created_at": current.recorded_at.isoformat(timespec="seconds") + "Z",
            "language": "ja",
        },
        "principal": {
            "id": current.resident,
            "proxy": {"relation": current.proxy_relation} if current.proxy_relation else None,
        },
        "parties": {
            "controller": controller,
            "recipients": [{"id": controller["code"], "name": controller["name"], "role": "controller"}],
            "sources": [{"id": p["id"], "name": p["name"], "sector": p["sector"]} for p in covered],
        },
        "processing": {
            "purposes": [PURPOSE],
            "data_categories": sorted({c for p in covered for c in CATEGORIES[p["sector"]]}),
            "legal_basis": BASIS,
            "special_category": False,
            "retention": {"signals_days": retention.signals_days, "records_of_provision_years": KEEP_YEARS},
        },
        "validity": {
            "from": current.granted_on.isoformat(),
            "until": current.expires_on.isoformat() if current.expires_on else None,
            "status": current.status,
        },
        "withdrawal": {"method": WITHDRAWAL, "withdrawn_on": _iso(current.withdrawn_on)},
        "events": [
            {
                "type": v.status,
                "version": v.version,
                "recorded_at": v.recorded_at.isoformat(timespec="seconds") + "Z",
                "recorded_by": v.recorded_by,
                "method": v.method,
                "evidence": v.evidence_ref,
                "source": v.source,
            }
            for v in versions
        ],
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def _covers(record: ConsentRecord, partner: dict[str, str]) -> bool:
    return ("*" in record.scope_partners or partner["id"] in record.scope_partners) and (
        "*" in record.scope_sectors or partner["sector"] in record.scope_sectors
    )


_env = Environment(loader=PackageLoader("consent", "templates"), autoescape=select_autoescape(["html"]))


def page(receipt: dict[str, Any], name: str) -> str:
    """The printable Japanese page for the resident (their name comes from the vault, audited)."""
    return _env.get_template("receipt.html").render(r=receipt, name=name, categories=CATEGORIES)
