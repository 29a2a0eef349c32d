"""Small signal frames for watchlist rule and combination tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from watchlist.evidence import Context
from watchlist.rules import load_rules

END = pd.Timestamp("2026-11-20")
RULES = load_rules()
BY_ID = {r.id: r for r in RULES.rules}
NAMES = {"midori-denki": "みどり電力", "suido": "上下水道局", "coop": "かんだ生協", "life": "さくら生命"}
CONSENT = "C-1"


def electricity(
    resident: str, days: int = 8, stop_at: pd.Timestamp | None = None, stuck: float = 0.08, seed: int = 1
) -> pd.DataFrame:
    """Half-hourly use with a daily rhythm (night low, morning and evening peaks), flat after stop_at."""
    rng = np.random.default_rng(seed)
    starts = pd.date_range(END - pd.Timedelta(days=days), END - pd.Timedelta(minutes=30), freq="30min")
    hours = starts.hour + starts.minute / 60
    use = (
        0.08
        + 0.5 * ((hours >= 7) & (hours < 9))
        + 0.6 * ((hours >= 18) & (hours < 22))
        + 0.15 * ((hours >= 9) & (hours < 18))
    )
    use = use * rng.uniform(0.6, 1.4, len(starts))
    if stop_at is not None:
        use = np.where(starts >= stop_at, stuck + rng.uniform(-0.003, 0.003, len(starts)), use)
    return pd.DataFrame(
        {
            "resident": resident,
            "partner_id": "midori-denki",
            "sector": "utility",
            "kind": "reading",
            "event_type": "electricity",
            "event_start": starts,
            "event_end": starts + pd.Timedelta(minutes=30),
            "value": use,
            "consent_id": CONSENT,
            "delivery_pk": 1,
        }
    )


def event(resident: str, partner: str, sector: str, event_type: str, when: str) -> dict[str, object]:
    return {
        "resident": resident,
        "partner_id": partner,
        "sector": sector,
        "kind": "event",
        "event_type": event_type,
        "event_start": pd.Timestamp(when),
        "event_end": pd.NaT,
        "value": np.nan,
        "consent_id": CONSENT,
        "delivery_pk": 2,
    }


def daily(resident: str, utility: str, partner: str, values: list[float], pk: int = 3) -> pd.DataFrame:
    """Daily readings of a utility ending the day before END, oldest first."""
    starts = pd.date_range(END - pd.Timedelta(days=len(values)), END - pd.Timedelta(days=1), freq="D")
    return pd.DataFrame(
        {
            "resident": resident,
            "partner_id": partner,
            "sector": "utility",
            "kind": "reading",
            "event_type": utility,
            "event_start": starts,
            "event_end": starts + pd.Timedelta(days=1),
            "value": values,
            "consent_id": CONSENT,
            "delivery_pk": pk,
        }
    )


def water(resident: str, last_day_use: float, days: int = 8) -> pd.DataFrame:
    return daily(resident, "water", "suido", [0.2] * (days - 1) + [last_day_use])


def context(*frames: pd.DataFrame, received=("midori-denki", "suido", "coop", "life")) -> Context:
    """A context over the frames as of END."""
    return Context.in_memory(pd.concat(frames, ignore_index=True), END, frozenset(received), NAMES)
