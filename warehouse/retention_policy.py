"""How long each kind of data is kept: one typed setting, read once at the entry point and passed down."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

from warehouse.errors import ConfigurationError

PREFIX = "MIMAMORI_RETENTION_"


@dataclass(frozen=True)
class Retention:
    """Days each kind of data is kept before it is deleted (with an audit record)."""

    signals_days: int = 90  # pseudonymous signals and their reading-day summaries
    archive_days: int = 30  # sealed raw deliveries kept for re-processing after loading
    quarantine_days: int = 90  # sealed quarantined deliveries and rejected rows
    consent_forms_days: int = 30  # sealed consent form files after import (their checksum stays)
    outbox_days: int = 30  # published lists per district (they name residents)

    @staticmethod
    def variable(name: str) -> str:
        """The environment variable that sets one period, e.g. MIMAMORI_RETENTION_SIGNALS_DAYS."""
        return PREFIX + name.upper()

    def as_dict(self) -> dict[str, int]:
        """Every period by name, for summaries and documents."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def retention_from(env_vars: Mapping[str, str]) -> Retention:
    """The periods from MIMAMORI_RETENTION_* variables (defaults where unset); a bad value is refused."""
    values: dict[str, int] = {}
    for item in fields(Retention):
        name = Retention.variable(item.name)
        text = env_vars.get(name, "").strip()
        if not text:
            continue
        try:
            days = int(text)
        except ValueError:
            days = 0
        if days < 1:
            raise ConfigurationError(
                f"{name} は 1 以上の日数で指定してください / must be a whole number of days of at least 1, "
                f"not {text!r}"
            )
        values[item.name] = days
    return Retention(**values)
