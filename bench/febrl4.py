"""The FEBRL4 benchmark data (5,000 originals vs 5,000 corrupted duplicates), read as plain records."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

FEBRL = Path(__file__).resolve().parents[2] / "shared" / "data" / "febrl4"


@dataclass(frozen=True)
class Person:
    """One FEBRL record without soc_sec_id (which would make the task trivial)."""

    rec_id: str
    given_name: str
    surname: str
    street_number: str
    address_1: str
    address_2: str
    suburb: str
    postcode: str
    state: str
    date_of_birth: str

    @property
    def names(self) -> str:
        """Given and family name in either order (they are often swapped)."""
        return "|".join(sorted((self.given_name, self.surname))) if self.given_name and self.surname else ""

    @property
    def entity(self) -> str:
        """The number shared by an original and its duplicate."""
        return self.rec_id.split("-")[1]


def read(name: str) -> list[Person]:
    """Read one FEBRL4 file, stripping the space after each comma."""
    with (FEBRL / name).open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle, skipinitialspace=True))
    header = [h.strip() for h in rows[0]]
    fields = [f for f in Person.__dataclass_fields__]
    return [Person(**{f: row[header.index(f)].strip() for f in fields}) for row in rows[1:] if row]
