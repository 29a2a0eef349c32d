"""Loss of daily rhythm, for every resident at once, over a (residents × half-hours) matrix of readings.

For each resident (one matrix row, NaN where no reading came), with `p` the rule's params:

- a half-hour is *lively* when its use changed since the previous reading by at least `lively_share` of
  the resident's typical large change (the 90th percentile of changes) and by `level_share` of the lower of
  the two values: a heater left on wobbles, it does not live;
- the *quiet run* is the trailing stretch of readings with no lively one; it counts when it lasts at least
  `min_hours` and the latest reading is from the last hour;
- the *baseline* is the `baseline_days` before the run began (at least `min_baseline_days` of them with
  readings), so a silence of several days is still measured against the life before it;
- the run is *unexpected* when it lasts `min_hours` and, slot by slot, the baseline's share of lively
  half-hours adds up to at least `min_expected_lively` over it, or when its use stays at
  `high_flat_ratio` times the baseline's mean or more for `stuck_hours` (a heater or light left on). The
  half-hour the light was left on in began the run; when it is already at the run's level it counts
  towards `stuck_hours`, so a light left on at 22:00 is two hours stuck by the midnight reading;
- each run also says how many of its readings on its last day came after the resident's usual bedtime
  (`past_bed`, see `_past_bed`): an evening with no light that outlasts the usual bedtime is no evening
  out that has yet to end.

A home whose quietest hours are as restless as the rest (an appliance cycling day and night) has no still
night to stand out from. Its rows are read against a *night ceiling* instead (`night_levels`): a
half-hour is lively when its use rises above what the appliance alone reaches in the resident's quietest
hours, that is, when a person added to it. That reading is coarser, so a run read this way counts from
`ceiling_min_expected` lively half-hours missed. A light left on in such a home lifts every reading
above the ceiling; with that lift taken away (`_raised`), what stays stuck high is found as well.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from warehouse.reading_days import SLOTS

BLOCK = 4_096  # residents per block: bounds the temporaries to about 300 MB


@dataclass(frozen=True)
class QuietRuns:
    """Residents (matrix rows) with an unexpected quiet run, and what describes each run."""

    rows: np.ndarray
    start: np.ndarray  # column of the run's first reading
    readings: np.ndarray  # readings in the run (two per hour)
    expected: np.ndarray  # lively half-hours the baseline expected in the run
    level: np.ndarray  # mean use during the run
    base_level: np.ndarray  # mean use over the baseline
    stuck: np.ndarray  # whether the use stayed high for `stuck_hours` (a heater or light left on)
    past_bed: np.ndarray  # readings of the run's last day after the resident's usual bedtime


def _row_quantile(values: np.ndarray, q: float) -> np.ndarray:
    """Per row, the linear-interpolated quantile of the non-NaN values (NaN for a row without any)."""
    ordered = np.sort(values, axis=1)  # NaN sorts last
    count = (~np.isnan(values)).sum(axis=1)
    at = np.maximum(count - 1, 0) * q
    low = np.floor(at).astype(np.int64)
    high = np.minimum(low + 1, np.maximum(count - 1, 0))
    lo = np.take_along_axis(ordered, low[:, None], axis=1)[:, 0]
    hi = np.take_along_axis(ordered, high[:, None], axis=1)[:, 0]
    found = lo + (hi - lo) * (at - low)
    return np.where(count > 0, found, np.nan)


def _by_slot(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """Count of True per half-hour of the day, over all days of each row."""
    counts: npt.NDArray[np.int64] = mask.reshape(mask.shape[0], mask.shape[1] // SLOTS, SLOTS).sum(axis=1)
    return counts


def _slot_mean(x: np.ndarray, counted: npt.NDArray[np.bool_], empty: float) -> np.ndarray:
    """Per row, the mean use of each half-hour of the day over the counted readings (`empty` where none)."""
    seen = _by_slot(counted)
    totals = np.where(counted, x, 0.0).reshape(x.shape[0], x.shape[1] // SLOTS, SLOTS).sum(axis=1)
    mean: np.ndarray = np.divide(totals, seen, out=np.full(seen.shape, empty), where=seen > 0)
    return mean


def _raised(x: np.ndarray, floor: np.ndarray, readings: int) -> np.ndarray:
    """The use less what keeps the floor raised: the lowest of the last `readings` above the night floor.

    A light left on lifts every reading by the same amount while the appliance cycles on top; taking that
    lift away leaves the appliance alone, as at night.
    """
    lowest = x.copy()
    for k in range(1, readings):
        lowest = np.fmin(lowest, np.concatenate([np.full((len(x), k), np.nan), x[:, :-k]], axis=1))
    lift = np.maximum(lowest - floor[:, None], 0.0)
    less: np.ndarray = x - lift
    return less


def _block(
    x: np.ndarray, p: dict[str, Any], ceiling: np.ndarray | None, floor: np.ndarray | None
) -> QuietRuns:
    rows, width = x.shape
    position = np.arange(width)
    valid = ~np.isnan(x)
    last_at_or_before = np.maximum.accumulate(np.where(valid, position, -1), axis=1)
    previous = np.concatenate([np.full((rows, 1), -1), last_at_or_before[:, :-1]], axis=1)
    has_previous = valid & (previous >= 0)
    before = np.where(has_previous, np.take_along_axis(x, np.maximum(previous, 0), axis=1), np.nan)
    change = np.where(has_previous, np.abs(x - before), np.nan)
    scale = _row_quantile(change, 0.9)
    level = np.where(has_previous, np.fmin(x, before), x)
    with np.errstate(invalid="ignore"):
        if ceiling is None:
            lively = (
                has_previous
                & (change >= p["lively_share"] * scale[:, None])
                & (change >= p.get("level_share", 0.0) * level)
            )
        elif floor is None:
            lively = valid & (x > ceiling[:, None])
        else:
            lively = valid & (_raised(x, floor, int(p["floor_readings"])) > ceiling[:, None])
    any_lively = lively.any(axis=1)
    last_lively = np.where(any_lively, width - 1 - np.argmax(lively[:, ::-1], axis=1), -1)
    after = position[None, :] > last_lively[:, None]
    in_run = valid & after
    quiet = in_run.sum(axis=1)
    ok = valid[:, -2:].any(axis=1) & (scale > 0) & (quiet >= 1)
    long_enough = quiet >= max(2, 2 * p.get("min_hours", 1))
    start = np.where(in_run.any(axis=1), np.argmax(in_run, axis=1), width)
    window = p["baseline_days"] * SLOTS
    baseline = valid & (position[None, :] < start[:, None]) & (position[None, :] >= (start - window)[:, None])
    days = baseline.reshape(rows, -1, SLOTS).any(axis=2).sum(axis=1)
    ok &= days >= p["min_baseline_days"]
    seen = _by_slot(baseline)
    share = np.divide(_by_slot(lively & baseline), seen, out=np.zeros(seen.shape), where=seen > 0)
    expected = (_by_slot(in_run) * share).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        run_values = np.where(in_run, x, 0.0).sum(axis=1) / quiet
        base_values = np.where(baseline, x, 0.0).sum(axis=1) / baseline.sum(axis=1)
        # the half-hour a light was left on in began the stretch: it counts when it is at the run's level
        began = np.take_along_axis(x, np.maximum(last_lively, 0)[:, None], axis=1)[:, 0]
        at_level = np.abs(began - run_values) <= p.get("level_share", 0.0) * run_values
        stuck_readings = quiet + ((last_lively >= 0) & at_level)
        # use stuck high (a heater or light left on) for `stuck_hours` needs no evening to miss
        stuck = (
            (stuck_readings >= 2 * p.get("stuck_hours", np.inf))
            & (base_values > 0)
            & (run_values >= p["high_flat_ratio"] * base_values)
        )
    # the night ceiling is the coarser reading: it asks for more of the usual activity missed
    least = p["min_expected_lively"]
    if ceiling is not None:
        least = p.get("ceiling_min_expected", least)
    if floor is None:
        ok &= (long_enough & (expected >= least)) | stuck
    else:  # with the floor's lift taken away, only use stuck high for longer counts (a light left on),
        # high against the same hours of the baseline days: a late evening with the lights on is no alarm
        slot_mean = _slot_mean(x, baseline, 0.0)
        # and the floor never came down in the run: every reading keeps `raised_min_lift` of the
        # appliance's night swing above the night floor
        lifted = floor + p["raised_min_lift"] * (ceiling - floor)
        lowest = np.where(in_run, x, np.inf).min(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            usual = (_by_slot(in_run) * slot_mean).sum(axis=1) / quiet
            ok &= long_enough & (quiet >= 2 * p["raised_stuck_hours"])
            ok &= run_values >= p["high_flat_ratio"] * usual
            ok &= lowest >= lifted
    chosen = np.flatnonzero(ok)
    return QuietRuns(
        chosen,
        start[chosen],
        quiet[chosen],
        expected[chosen],
        run_values[chosen],
        base_values[chosen],
        stuck[chosen],
        _past_bed(x[chosen], in_run[chosen], baseline[chosen], p),
    )


def _past_bed(
    x: np.ndarray, in_run: npt.NDArray[np.bool_], baseline: npt.NDArray[np.bool_], p: dict[str, Any]
) -> npt.NDArray[np.int64]:
    """Per row, the run's readings on its last day after the resident's usual bedtime.

    The usual bedtime is the end of the last half-hour whose mean use over the baseline days is at least
    `bed_ratio` times the resident's night (the mean of the `quiet_slots` quietest half-hours). A mean
    takes in every evening of the baseline: the bedtime is the latest the resident usually stays up.
    0 for a row without such a half-hour.
    """
    mean = _slot_mean(x, baseline, np.nan)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a row without a baseline has no night
        night = np.nanmean(np.sort(mean, axis=1)[:, : int(p.get("quiet_slots", 12))], axis=1)
        up = mean >= p.get("bed_ratio", np.inf) * night[:, None]
    bed = np.where(up.any(axis=1), SLOTS - 1 - np.argmax(up[:, ::-1], axis=1), SLOTS)
    after = np.arange(SLOTS)[None, :] > bed[:, None]
    counts: npt.NDArray[np.int64] = (in_run[:, -SLOTS:] & after).sum(axis=1)
    return counts


def quiet_runs(
    matrix: np.ndarray,
    p: dict[str, Any],
    ceiling: np.ndarray | None = None,
    floor: np.ndarray | None = None,
) -> QuietRuns:
    """Unexpected trailing quiet runs of every row of a (residents × half-hours) matrix.

    With `ceiling` (one value per row), a half-hour is lively when its use is above the row's ceiling.
    With `floor` as well, when its use less a raised floor's lift is (see `_raised`); then only runs
    stuck high for `raised_stuck_hours` count.
    """
    found = []
    for first in range(0, matrix.shape[0], BLOCK):
        part = _block(
            matrix[first : first + BLOCK].astype(np.float64, copy=False),
            p,
            None if ceiling is None else ceiling[first : first + BLOCK],
            None if floor is None else floor[first : first + BLOCK],
        )
        found.append(QuietRuns(part.rows + first, *(getattr(part, f) for f in FIELDS)))
    if not found:
        empty = np.zeros(0)
        ints = empty.astype(np.int64)
        return QuietRuns(ints, ints, empty, empty, empty, empty, empty.astype(bool), ints)
    return QuietRuns(*(np.concatenate([getattr(f, name) for f in found]) for name in ("rows", *FIELDS)))


FIELDS = ("start", "readings", "expected", "level", "base_level", "stuck", "past_bed")


def _quietest_slots(x: np.ndarray, n: int) -> np.ndarray:
    """Per row, the `n` half-hours of the day with the lowest mean use (the resident's night)."""
    mean = _slot_mean(x, ~np.isnan(x), np.inf)
    quietest: np.ndarray = np.argsort(mean, axis=1, kind="stable")[:, :n]
    return quietest


def night_levels(matrix: np.ndarray, p: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the night's ceiling and floor: what an appliance alone reaches, and where it rests.

    Read over the days before the last, in the resident's `quiet_slots` lowest half-hours (by mean use):
    the ceiling is their `ceiling_quantile` times `ceiling_margin` (above it, a person is adding to the
    appliance), the floor their `floor_quantile`. NaN for a row without such readings.
    """
    x = matrix[:, :-SLOTS].astype(np.float64, copy=False)
    if x.size == 0:
        return np.full(len(matrix), np.nan), np.full(len(matrix), np.nan)
    slots = _quietest_slots(x, int(p.get("quiet_slots", 12)))
    by_day = x.reshape(x.shape[0], -1, SLOTS)
    night = np.take_along_axis(by_day, slots[:, None, :], axis=2).reshape(x.shape[0], -1)
    ceiling = _row_quantile(night, float(p["ceiling_quantile"])) * float(p["ceiling_margin"])
    return np.asarray(ceiling), np.asarray(_row_quantile(night, float(p["floor_quantile"])))


def restless_nights(matrix: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    """Per row, the share of lively half-hours in the resident's own quietest hours (NaN without data).

    Read over the days before the last one. Most people's use is still at night: a quiet run then stands
    out. An appliance cycling day and night (a thermostat heater) keeps even the quietest half-hours
    changing: such a run never forms, and the rule says so rather than keep silent.
    """
    x = matrix[:, :-SLOTS].astype(np.float64, copy=False)
    if x.size == 0:
        return np.full(len(x), np.nan)
    valid = ~np.isnan(x)
    before = np.concatenate([np.full((x.shape[0], 1), np.nan), x[:, :-1]], axis=1)
    change = np.abs(x - before)
    scale = _row_quantile(change, 0.9)
    level = np.fmin(x, before)
    with np.errstate(invalid="ignore"):
        lively = (
            ~np.isnan(change)
            & (change >= p["lively_share"] * scale[:, None])
            & (change >= p.get("level_share", 0.0) * level)
        )
    seen = _by_slot(valid)
    share = np.sort(
        np.divide(_by_slot(lively), seen, out=np.full(seen.shape, np.nan), where=seen > 0), axis=1
    )
    quietest = share[:, : int(p.get("quiet_slots", 12))]  # NaN (a slot never read) sorts last
    counted = (~np.isnan(quietest)).sum(axis=1)
    night: np.ndarray = np.divide(
        np.nansum(quietest, axis=1), counted, out=np.full(len(x), np.nan), where=counted > 0
    )
    return night


def above_per_day(matrix: np.ndarray, ceiling: np.ndarray) -> np.ndarray:
    """Per row, the half-hours a day above the ceiling, over the days before the last (0 without data)."""
    x = matrix[:, :-SLOTS].astype(np.float64, copy=False)
    if x.size == 0:
        return np.zeros(len(matrix))
    days = (~np.isnan(x)).reshape(x.shape[0], -1, SLOTS).any(axis=2).sum(axis=1)
    with np.errstate(invalid="ignore"):
        above = (x > ceiling[:, None]).sum(axis=1)
    per_day: np.ndarray = np.divide(above, days, out=np.zeros(len(x)), where=days > 0)
    return per_day
