"""The matrix rhythm rule finds what the plain per-resident definition finds, resident by resident."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from watchlist.rhythm import SLOTS, quiet_runs
from watchlist.rules import load_rules

pytestmark = pytest.mark.unit

PARAMS = next(r.params for r in load_rules().rules if r.id == "electricity_rhythm_lost")
DAYS = PARAMS["baseline_days"] + PARAMS["max_quiet_days"]
FIRST = pd.Timestamp("2026-11-06")
END = FIRST + pd.Timedelta(days=DAYS)


def reference(series: pd.Series, p: dict[str, Any]) -> tuple[pd.Timestamp, float, float, float, float] | None:
    """The rule as written for one resident's readings (time-indexed, only those that came)."""
    half = pd.Timedelta(minutes=30)
    if series.empty or series.index.max() < END - 2 * half:
        return None
    changes = series.diff().abs()
    scale = float(changes.quantile(0.9))
    if not scale > 0:
        return None
    level = pd.concat([series, series.shift()], axis=1).min(axis=1)
    lively = ((changes >= p["lively_share"] * scale) & (changes >= p["level_share"] * level)).to_numpy()
    quiet = 0
    for value in reversed(lively):
        if value:
            break
        quiet += 1
    if quiet == 0:
        return None
    run = series.index[-quiet:]
    before = (series.index < run[0]) & (series.index >= run[0] - pd.Timedelta(days=p["baseline_days"]))
    if pd.Index(series.index[before].normalize()).nunique() < p["min_baseline_days"]:
        return None
    slots = series.index[before].hour * 2 + series.index[before].minute // 30
    share = pd.Series(lively[before], index=slots).groupby(level=0).mean()
    expected = float(sum(share.get(h * 2 + m // 30, 0.0) for h, m in zip(run.hour, run.minute, strict=True)))
    level, base = float(series.loc[run].mean()), float(series[before].mean())
    # the reading that began the run counts towards being stuck when it is already at the run's level
    began = series.iloc[-quiet - 1] if len(series) > quiet else np.nan
    stuck_for = quiet + int(abs(began - level) <= p["level_share"] * level)
    stuck = stuck_for >= 2 * p["stuck_hours"] and level >= p["high_flat_ratio"] * base
    long_enough = quiet >= max(2, 2 * p["min_hours"])
    if not (long_enough and expected >= p["min_expected_lively"]) and not stuck:
        return None
    return run[0], quiet / 2, expected, level, base


def town(seed: int, residents: int = 120) -> np.ndarray:
    """Residents with a daily rhythm, some going flat (low or high) at random times, with gaps."""
    rng = np.random.default_rng(seed)
    hours = np.tile(np.arange(SLOTS) / 2, DAYS)
    shape = 0.08 + 0.5 * ((hours >= 7) & (hours < 9)) + 0.6 * ((hours >= 18) & (hours < 22))
    use = (
        shape[None, :]
        * rng.uniform(0.3, 1.7, (residents, DAYS * SLOTS))
        * rng.uniform(0.5, 2, (residents, 1))
    )
    use = use.round(3)
    for i in range(residents):
        kind = i % 4
        if kind in (1, 2):  # flat from a random slot on, low or high
            at = rng.integers(DAYS * SLOTS - 5 * SLOTS, DAYS * SLOTS - 4)
            use[i, at:] = (0.08 if kind == 1 else 1.4) + rng.uniform(-0.01, 0.01, DAYS * SLOTS - at)
        if kind == 3:  # readings missing here and there, sometimes at the end
            use[i, rng.random(DAYS * SLOTS) < 0.1] = np.nan
            if i % 8 == 3:
                use[i, -rng.integers(1, 6) :] = np.nan
    use[0, :] = np.nan  # a resident without readings in the window
    use[5, : 11 * SLOTS] = np.nan  # too short a baseline
    return use


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matrix_and_plain_definition_agree_for_every_resident(seed: int):
    matrix = town(seed)
    runs = quiet_runs(matrix, PARAMS)
    found = {int(r): i for i, r in enumerate(runs.rows)}
    index = pd.date_range(FIRST, periods=DAYS * SLOTS, freq="30min")
    expected_hits = 0
    for row in range(matrix.shape[0]):
        series = pd.Series(matrix[row].astype(np.float64), index=index).dropna()
        want = reference(series, PARAMS)
        assert (row in found) == (want is not None), row
        if want is None:
            continue
        expected_hits += 1
        i = found[row]
        assert FIRST + pd.Timedelta(minutes=30) * int(runs.start[i]) == want[0]
        assert runs.readings[i] / 2 == want[1]
        assert runs.expected[i] == pytest.approx(want[2])
        assert runs.level[i] == pytest.approx(want[3])
        assert runs.base_level[i] == pytest.approx(want[4])
    assert expected_hits >= 20  # the town really has quiet runs to find


def test_blocks_of_residents_give_the_same_runs(monkeypatch: pytest.MonkeyPatch):
    matrix = town(4)
    whole = quiet_runs(matrix, PARAMS)
    monkeypatch.setattr("watchlist.rhythm.BLOCK", 7)
    blocked = quiet_runs(matrix, PARAMS)
    assert whole.rows.tolist() == blocked.rows.tolist()
    assert np.allclose(whole.expected, blocked.expected)


def test_no_residents_no_runs():
    assert (
        quiet_runs(
            np.zeros(
                (0, DAYS * SLOTS),
            ),
            PARAMS,
        ).rows.size
        == 0
    )
