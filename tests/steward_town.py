"""What a steward's tests need in a portal town: a delivery in the wrong encoding and a pair to review."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from pathlib import Path

from consent.importer import COLUMNS
from identity.register import newest_extract, read_extract
from identity.resolver import PENDING, review_context
from identity.vault import seal_bytes, unseal
from mimamori.settings import Settings
from warehouse.db import session_scope, utcnow
from warehouse.models import IdentityVault, LinkReview

WRONG_ENCODING = "kanda-coop"  # declares cp932; its last delivery is re-saved as UTF-8


def utf8_instead_of_cp932(home: Path) -> None:
    """Re-save the co-op's last delivery as UTF-8 (checksum updated): quarantined for its encoding."""
    folder = sorted((home / "inbox" / WRONG_ENCODING).iterdir())[-1]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["files"]:
        path = folder / entry["name"]
        body = path.read_bytes().decode("cp932").encode("utf-8")
        path.write_bytes(body)
        entry["sha256"] = hashlib.sha256(body).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")


def add_reviews(settings: Settings, count: int = 2) -> list[int]:
    """Pending link reviews of residents in the vault, the partner's side differing in phone and address."""
    made = []
    with session_scope(settings.database_url) as db:
        for n, record in enumerate(db.query(IdentityVault).order_by(IdentityVault.resident).limit(count)):
            ours = unseal(settings.vault_keys, record.key_id, record.resident, record.ciphertext)
            theirs = {
                "partner_customer_id": f"CUST-{n}",
                "name_kana": ours.get("name_kana", ""),
                "name_kanji": ours.get("name_kanji", ""),
                "birth_date": ours.get("birth_date", ""),
                "address": str(ours.get("address", "")) + "（旧住所）",
                "phone": "",
            }
            key = hashlib.sha256(f"review-{n}".encode()).hexdigest()
            review = LinkReview(
                partner_id="hikari-bento",
                customer_key=key,
                identity_digest=hashlib.sha256(json.dumps(theirs).encode()).hexdigest(),
                candidate=record.resident,
                score=7.5 - n,
                status=PENDING,
                created_at=utcnow(),
                partner_identity=seal_bytes(
                    settings.vault_keys, review_context(key), json.dumps(theirs, ensure_ascii=False).encode()
                ),
            )
            db.add(review)
            db.flush()
            made.append(review.id)
    return made


def consent_rows(home: Path) -> list[dict[str, str]]:
    """The demo town's consent forms as generated (copies beside the home; imported ones are sealed)."""
    rows: list[dict[str, str]] = []
    for path in sorted(home.with_name(home.name + ".consents").glob("*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as source:
            rows += list(csv.DictReader(source))
    assert rows, "the demo writes its consent forms beside the home"
    return rows


def newcomer(home: Path, day: str) -> str:
    """A resident of the register with no consent yet."""
    consented = {r["resident_id"] for r in consent_rows(home)}
    register = read_extract(newest_extract(home / "register", dt.date.fromisoformat(day)))
    return next(r for r in register["resident_id"] if r not in consented)


def cp932_form(resident_id: str, day: str, good_id: str, bad_id: str, bad: dict[str, str]) -> bytes:
    """A consent form as Japanese Excel saves it (CP932, CRLF): one good proxy row and one refused row."""
    good = dict.fromkeys(COLUMNS, "")
    good.update(
        resident_id=resident_id,
        consent_id=good_id,
        scope_partners="*",
        scope_sectors="*",
        purpose="watch_over",
        granted_on=day,
        method="proxy",
        proxy_name="見守 花子",
        proxy_relation="長女",
    )
    rows = (good, {**good, "consent_id": bad_id, **bad})
    body = "\r\n".join([",".join(COLUMNS), *(",".join(r[c] for c in COLUMNS) for r in rows)]) + "\r\n"
    return body.encode("cp932")
