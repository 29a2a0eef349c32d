"""The resident register: the newest extract on or before a date, kept in step with vault and population."""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from identity.dates import parse_birth_date
from identity.errors import InvalidIdentifier
from identity.keys import KeyRing
from identity.pseudonym import pseudonymise
from identity.vault import payload_digest, seal
from warehouse.db import utcnow
from warehouse.errors import InputError
from warehouse.models import IdentityVault, WatchPopulation

EXTRACT_RE = re.compile(r"^register_(\d{8})\.csv$")
COLUMNS = (
    "resident_id",
    "name_kanji",
    "name_kana",
    "birth_date",
    "sex",
    "address",
    "district_code",
    "household_id",
    "household_size",
    "phone",
    "status",
    "status_date",
)
# since feed contract 1.1: the household's latest change and its reason (older extracts leave them out)
OPTIONAL_COLUMNS = ("household_since", "household_reason")
HOUSEHOLD_REASONS = frozenset({"birth", "move_in", "move_out", "death", "other"})
VAULT_FIELDS = (
    "resident_id",
    "name_kanji",
    "name_kana",
    "birth_date",
    "sex",
    "address",
    "phone",
    "household_id",
    "district_code",
)
ACTIVE = "active"
ABSENT = "absent"


@dataclass(frozen=True)
class RegisterSync:
    """What one sync did: which extract, how many residents, and how many consented ones changed."""

    extract: str
    residents: int
    active: int
    consented: int
    vault_written: int
    left: int


def extracts(folder: Path) -> list[tuple[dt.date, Path]]:
    """Every register extract in the folder with its date, oldest first."""
    found = []
    for path in folder.glob("register_*.csv") if folder.is_dir() else []:
        match = EXTRACT_RE.match(path.name)
        if match:
            found.append((dt.datetime.strptime(match.group(1), "%Y%m%d").date(), path))
    return sorted(found)


def newest_extract(folder: Path, run_date: dt.date) -> Path | None:
    """The newest extract dated on or before the run date."""
    dated = [path for day, path in extracts(folder) if day <= run_date]
    return dated[-1] if dated else None


def read_extract(path: Path) -> pd.DataFrame:
    """Read an extract in UTF-8 (with or without BOM) or CP932, all columns as strings."""
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "cp932"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InputError(f"{path.name}: neither UTF-8 nor CP932")
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(f"{path.name}: register columns missing: {', '.join(missing)}")
    for name in OPTIONAL_COLUMNS:
        if name not in frame.columns:
            frame[name] = ""
    return frame


def household_change(since: str, reason: str) -> tuple[dt.date | None, str | None]:
    """The household's latest change from the optional columns: (date, reason), None where not given.

    A reason the contract does not know is kept as `other`; a date that does not parse is left out.
    """
    try:
        day = dt.date.fromisoformat(since.strip()) if since.strip() else None
    except ValueError:
        day = None
    text = reason.strip()
    return day, (text if text in HOUSEHOLD_REASONS else "other") if text else None


def kept_since(since: dt.date | None, reason: str | None, birth: str, run_date: dt.date) -> dt.date | None:
    """What the warehouse keeps of a household's change date: nothing when it is the birth date (an
    identifier: a household unchanged since birth), the exact day within the last year (the register
    rules' windows are weeks), only its year before that."""
    if since is None or reason == "birth" or since.isoformat() == birth:
        return None
    return since if (run_date - since).days <= 365 else since.replace(month=1, day=1)


def age_on(birth: dt.date, day: dt.date) -> int:
    """Age in completed years on a day."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def age_band(age: int) -> str:
    """Five-year band (`65-69`), `90+` at the top: the only age the warehouse keeps."""
    if age >= 90:
        return "90+"
    low = age - age % 5
    return f"{low}-{low + 4}"


def _guard_truncation(folder: Path, path: Path, frame: pd.DataFrame, max_drop: float) -> None:
    """Refuse an extract missing too many residents of the previous one (a truncated export)."""
    earlier = [p for _, p in extracts(folder) if p.name < path.name]
    if not earlier:
        return
    before = set(read_extract(earlier[-1])["resident_id"])
    missing = len(before - set(frame["resident_id"]))
    if before and missing / len(before) > max_drop:
        raise InputError(
            f"{path.name}: would drop {missing} of {len(before)} residents at once "
            f"(more than {max_drop:.0%}); refused as a likely truncated export"
        )


def sync_register(
    session: Session,
    folder: Path,
    run_date: dt.date,
    keys: KeyRing,
    vault_keys: KeyRing,
    consented: set[str],
    max_drop: float = 0.2,
) -> RegisterSync:
    """Bring vault identities and the population of consented residents in step with the extract."""
    path = newest_extract(folder, run_date)
    if path is None:
        raise InputError(f"no register extract dated on or before {run_date} in {folder}")
    frame = read_extract(path)
    _guard_truncation(folder, path, frame, max_drop)
    frame["resident"] = [pseudonymise(keys, rid) for rid in frame["resident_id"]]
    mine = frame.loc[frame["resident"].isin(consented)]
    vault = {v.resident: v for v in session.execute(select(IdentityVault)).scalars()}
    population = {p.resident: p for p in session.execute(select(WatchPopulation)).scalars()}
    written = 0
    for row in mine.itertuples(index=False):
        payload = {name: str(getattr(row, name)) for name in VAULT_FIELDS}
        try:
            birth = parse_birth_date(payload["birth_date"])
            payload["birth_date"] = birth.isoformat()
            band = age_band(age_on(birth, run_date))
        except InvalidIdentifier:
            band = "unknown"
        current = vault.get(row.resident)
        digest = payload_digest(vault_keys, row.resident, payload)
        if current is None or current.payload_digest != digest:
            key_id, blob = seal(vault_keys, row.resident, payload)
            session.merge(
                IdentityVault(
                    resident=row.resident,
                    key_id=key_id,
                    ciphertext=blob,
                    payload_digest=digest,
                    district_code=str(row.district_code),
                    updated_at=utcnow(),
                )
            )
            written += 1
        household_since, household_reason = household_change(
            str(row.household_since), str(row.household_reason)
        )
        household_since = kept_since(household_since, household_reason, payload["birth_date"], run_date)
        attrs = {
            "household_since": household_since,
            "household_reason": household_reason,
            "district_code": str(row.district_code),
            "age_band": band,
            "single_household": str(row.household_size).strip() == "1",
            "status": str(row.status) or ACTIVE,
            "as_of": run_date,
            "extract": path.name,
        }
        entry = population.get(row.resident)
        if entry is None:
            session.add(WatchPopulation(resident=row.resident, **attrs))
        else:
            for name, value in attrs.items():
                setattr(entry, name, value)
    seen = set(mine["resident"])
    left = 0
    for resident, entry in population.items():
        if resident not in seen and entry.status != ABSENT:
            entry.status, entry.as_of, entry.extract = ABSENT, run_date, path.name
            left += 1
    session.flush()
    return RegisterSync(
        extract=path.name,
        residents=len(frame),
        active=int((frame["status"] == ACTIVE).sum()),
        consented=len(mine),
        vault_written=written,
        left=left,
    )
