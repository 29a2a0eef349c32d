"""Resident register extracts (住民基本台帳): a full snapshot on the start date and then every week."""

from __future__ import annotations

import datetime
from pathlib import Path

from mimamori_demo.town.lives import Timeline
from mimamori_demo.town.population import Town
from mimamori_demo.town.writer import csv_bytes, write_bytes

__all__ = ["REGISTER_COLUMNS", "register_rows", "write_register"]

REGISTER_COLUMNS = (
    "resident_id", "name_kanji", "name_kana", "birth_date", "sex", "address", "district_code",
    "household_id", "household_size", "phone", "status", "status_date", "household_since", "household_reason",
)  # fmt: skip
_REASONS = {"deceased": "death", "moved_out": "move_out"}


def _encoding(index: int) -> str:
    """The core system's export changed over time: BOM first, then CP932 and plain UTF-8 alternate."""
    return "utf-8-sig" if index == 0 else ("cp932" if index % 2 else "utf-8")


def register_rows(
    town: Town, changes: dict[str, tuple[str, int]], tl: Timeline, extract_day: int
) -> list[list[str]]:
    """Every resident on the extract date; one who died or moved out keeps their last household size.

    `household_since` is the latest change of the household as the register shows it (a member
    registered there, or one who died or moved out), and `household_reason` what that change was.
    """
    gone = {rid: change for rid, change in changes.items() if change[1] < extract_day}
    rows = []
    for rid, p in town.residents.items():
        status, day = gone.get(rid, ("active", -1))
        members = town.households[p.household_id]
        if status == "active":
            size, since = sum(m not in gone for m in members), p.registered_on
        else:
            size, since = sum(m not in gone or gone[m][1] >= day for m in members), tl.date(day)
        household_since, reason = _household_change(
            town, members, gone, tl, day if status != "active" else None
        )
        rows.append(
            [
                rid,
                p.name.kanji,
                p.name.kana,
                p.birth.isoformat(),
                p.sex,
                p.address.register,
                p.district_code,
                p.household_id,
                str(size),
                p.phone,
                status,
                since.isoformat(),
                household_since.isoformat(),
                reason,
            ]
        )
    return rows


def _household_change(
    town: Town, members: tuple[str, ...], gone: dict[str, tuple[str, int]], tl: Timeline, until: int | None
) -> tuple[datetime.date, str]:
    """The household's latest change up to a day (None: the extract date) and its reason."""
    changes = [
        (
            town.residents[m].registered_on,
            "birth" if town.residents[m].registered_on == town.residents[m].birth else "move_in",
        )
        for m in members
    ]
    changes += [
        (tl.date(day), _REASONS[status])
        for m, (status, day) in gone.items()
        if m in members and (until is None or day < until)
    ]
    return max(changes)


def write_register(home: Path, town: Town, changes: dict[str, tuple[str, int]], tl: Timeline) -> list[str]:
    """Write register/register_YYYYMMDD.csv for each extract day; return the file names."""
    names = []
    for index, day in enumerate(tl.extract_days):
        name = f"register_{tl.date(day):%Y%m%d}.csv"
        rows = register_rows(town, changes, tl, day)
        write_bytes(home / "register" / name, csv_bytes(REGISTER_COLUMNS, rows, _encoding(index)))
        names.append(name)
    return names
