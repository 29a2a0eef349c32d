"""The simulated calendar and what each watched person's days look like."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from warehouse.vocabulary import JST

__all__ = ["JST", "NORMAL", "Life", "Timeline", "jst_iso"]


def jst_iso(moment: datetime.datetime) -> str:
    """ISO text with the +09:00 offset for a naive JST moment."""
    return moment.replace(tzinfo=JST).isoformat()


@dataclass(frozen=True)
class Timeline:
    """Day d (0-based) covers [start+d, start+d+1) JST and is delivered for the run on start+d+1."""

    start: datetime.date
    days: int

    def date(self, day: int) -> datetime.date:
        """Calendar date of simulated day `day`."""
        return self.start + datetime.timedelta(days=day)

    def at(self, day: int, hour: float) -> datetime.datetime:
        """Naive JST moment `hour` hours into day `day` (hour may exceed 24)."""
        midnight = datetime.datetime.combine(self.date(day), datetime.time())
        return midnight + datetime.timedelta(minutes=round(hour * 60))

    def run_date(self, day: int) -> datetime.date:
        """The run date whose deliveries cover day `day` (its period_end date)."""
        return self.date(day + 1)

    @property
    def run_dates(self) -> list[str]:
        """ISO run dates, one per simulated day."""
        return [self.run_date(d).isoformat() for d in range(self.days)]

    @property
    def extract_step(self) -> int:
        """Days between register extracts: weekly, or twice per period in short simulations."""
        return 7 if self.days >= 14 else max(1, self.days // 2)

    @property
    def extract_days(self) -> list[int]:
        """Day offsets of register extracts, the first on the start date."""
        return list(range(0, self.days + 1, self.extract_step))

    def first_extract_after(self, day: int) -> int | None:
        """Offset of the first extract that reflects a change on day `day`, if any."""
        later = [e for e in self.extract_days if e > day]
        return later[0] if later else None


@dataclass(frozen=True)
class Life:
    """What happens to one person; everything not set here is an ordinary day."""

    scenario: str = "normal"
    down_at: datetime.datetime | None = None
    flat: str = ""
    away_from: datetime.datetime | None = None
    away_until: datetime.datetime | None = None
    away_kind: str = ""
    decline_from: int | None = None
    decline_days: int = 1
    claim_day: int | None = None
    alone_from: int | None = None
    variant: str = ""  # a harder form of the scenario (town.collapses, town.prevention)

    def state(self, at: datetime.datetime) -> str:
        """`down` (collapsed), `hospital`, `trip` or `home` at a naive JST moment."""
        if self.down_at is not None and at >= self.down_at:
            return "down"
        if (
            self.away_from is not None
            and self.away_until is not None
            and self.away_from <= at < self.away_until
        ):
            return self.away_kind
        return "home"

    def decline(self, day: int) -> float:
        """How far a decline has gone on day `day`, from 0 (not started) to 1."""
        if self.decline_from is None or day < self.decline_from:
            return 0.0
        return min(1.0, (day - self.decline_from + 1) / self.decline_days)

    def decline_reaches(self, level: float, days: int) -> int | None:
        """The first day (of `days`) on which a decline has gone at least `level` far, if any."""
        if self.decline_from is None:
            return None
        return next((d for d in range(days) if self.decline(d) >= level), None)


NORMAL = Life()
