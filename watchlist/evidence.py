"""Rule evaluators: each turns pseudonymous signals into explained evidence about residents."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from warehouse.reading_days import HALF_HOUR, blobs, slot_matrix, summarise, with_times
from watchlist.rhythm import QuietRuns, above_per_day, night_levels, quiet_runs, restless_nights
from watchlist.rules import Rule, RuleSet

DAY = pd.Timedelta(days=1)


# (utility, first day, with half-hour slots) -> day rows of that utility, from feeds received today
DayReader = Callable[[str, pd.Timestamp, bool], pd.DataFrame]
# one row per watched resident: the register's facts (see watchlist.register_rules)
REGISTER_COLUMNS = ("resident", "household_since", "household_reason", "fed", "last_visit")


def no_register() -> pd.DataFrame:
    """A register frame without residents."""
    return pd.DataFrame(columns=list(REGISTER_COLUMNS))


@dataclass(frozen=True)
class Abstention:
    """A rule that could not judge a resident, and why (kept in the lineage of an entry, not on the list)."""

    resident: str
    rule: Rule
    reason: str
    facts: dict[str, Any]


@dataclass(frozen=True)
class Context:
    """What every evaluator sees: the events, reading days, the end of the period, which feeds arrived.

    Evaluators note in `abstentions` the residents a rule could not judge.
    """

    signals: pd.DataFrame  # events (readings, when present, are read through `days`)
    period_end: pd.Timestamp
    received: frozenset[str]
    partner_names: dict[str, str]
    days: DayReader
    register: pd.DataFrame = field(default_factory=no_register)
    abstentions: list[Abstention] = field(default_factory=list)

    @classmethod
    def in_memory(
        cls,
        signals: pd.DataFrame,
        period_end: pd.Timestamp,
        received: frozenset[str],
        names: dict[str, str],
        register: pd.DataFrame | None = None,
    ) -> Context:
        """A context over one frame of signals, its readings summarised in memory as the warehouse would."""
        summary = with_times(summarise(signals))

        def days(utility: str, since: pd.Timestamp, with_slots: bool) -> pd.DataFrame:
            chosen = summary.loc[
                (summary["utility"] == utility)
                & summary["partner_id"].isin(received)
                & (summary["day"] >= since)
                & (summary["day"] < period_end)
            ].sort_values("delivery_pk", kind="stable")
            if with_slots:
                chosen = chosen.assign(slots=blobs(chosen))
            return chosen.reset_index(drop=True)

        return cls(
            signals, period_end, received, names, days, no_register() if register is None else register
        )


@dataclass(frozen=True)
class Evidence:
    """One rule's finding about one resident, with the facts, sources and time range behind it."""

    resident: str
    rule: Rule
    weight: float
    facts: dict[str, Any]
    partners: tuple[str, ...]
    sectors: tuple[str, ...]
    start: dt.datetime
    end: dt.datetime
    deliveries: frozenset[int]
    consents: frozenset[str]
    news: dt.datetime  # when the finding last gained a new fact (a visit before it has seen it all)

    @property
    def channels(self) -> frozenset[str]:
        """Independent sources: the sector, or the utility for utility readings."""
        return frozenset(self.facts.get("channel", s) for s in self.sectors)


def _decay(weight: float, rule: Rule, last: pd.Timestamp, period_end: pd.Timestamp) -> float:
    age_days: int = max((period_end.normalize() - (last.normalize() + DAY)).days, 0)
    # typeshed types float ** float as Any (a negative base would give a complex); a power of 0.5 is a float.
    halved: float = 0.5 ** (age_days / rule.half_life_days)
    return weight * halved


def _evidence(
    rule: Rule,
    resident: str,
    group: pd.DataFrame,
    weight: float,
    news: pd.Timestamp | None = None,
    start: pd.Timestamp | None = None,
    **facts: Any,
) -> Evidence:
    # plain arrays and sets: this runs once per finding, thousands of times for a large town
    starts = group["event_start"].to_numpy()
    ends = group["event_end"].to_numpy()
    start = pd.Timestamp(starts.min()) if start is None else start
    return Evidence(
        resident=resident,
        rule=rule,
        weight=round(weight, 2),
        facts=facts,
        partners=tuple(sorted(set(group["partner_id"].to_numpy()))),
        sectors=tuple(sorted(set(group["sector"].to_numpy()))),
        start=start.to_pydatetime(),
        end=pd.Timestamp(np.where(np.isnat(ends), starts, ends).max()).to_pydatetime(),
        deliveries=frozenset(int(x) for x in set(group["delivery_pk"].to_numpy())),
        consents=frozenset(str(x) for x in set(group["consent_id"].to_numpy())),
        news=(start if news is None else news).to_pydatetime(),
    )


def _short(ts: pd.Timestamp) -> str:
    return f"{ts.month}/{ts.day}"


def events(rule: Rule, ctx: Context) -> Iterator[Evidence]:
    """Counted events of given types within a window (no answer, uncollected, missed appointments...).

    A rule fires once `min_count` distinct events are in the window; each further one adds `repeat_bonus`.
    With `count_runs`, back-to-back events count once (one trip's skipped orders are one run, not many).
    With `strong_count`, that many events are strong, an alarm on their own (meals left at the door again).
    """
    p = rule.params
    s = ctx.signals
    window_start = ctx.period_end - pd.Timedelta(days=p["window_days"])
    sector = s.loc[
        (s["kind"] == "event")
        & (s["sector"] == p["sector"])
        & (s["event_start"] >= window_start)
        & (s["event_start"] < ctx.period_end)
    ]
    hit = sector["event_type"].isin(p["event_types"])
    chosen = sector.loc[hit]
    if p.get("count_runs"):
        counts = _runs(sector, hit)
    else:
        distinct = chosen.drop_duplicates(["resident", "partner_id", "event_type", "event_start"])
        counts = distinct.groupby("resident").size()
    least = int(p.get("min_count", 1))
    enough = counts.index[counts >= least]
    chosen = chosen.loc[chosen["resident"].isin(enough)]
    lasts = chosen.groupby("resident")["event_start"].max()
    for resident, rows in sorted(chosen.groupby("resident", sort=False).indices.items()):
        group = chosen.iloc[rows]
        count, last = int(counts[resident]), lasts[resident]
        weight = rule.weight + min(p.get("repeat_bonus", 0.0) * (count - least), p.get("max_bonus", 0.0))
        yield _evidence(
            rule,
            str(resident),
            group,
            _decay(weight, rule, last, ctx.period_end),
            news=last,
            count=count,
            last=_short(last),
            strong=count >= p.get("strong_count", np.inf),
        )


def _runs(sector: pd.DataFrame, hit: pd.Series) -> pd.Series:
    """Per resident, how many separate runs of chosen events their sequence of sector events holds."""
    order = sector.assign(hit=hit).sort_values(["resident", "event_start"], kind="stable")
    previous = order.groupby("resident")["hit"].shift(fill_value=False).astype(bool)
    starts = order["hit"] & ~previous
    return starts.groupby(order["resident"]).sum()


def _members(days: pd.DataFrame, residents: np.ndarray) -> dict[object, np.ndarray]:
    """Positions of each chosen resident's day rows."""
    if len(residents) == 0:
        return {}
    chosen = days.loc[days["resident"].isin(residents)]
    return {k: chosen.index[v].to_numpy() for k, v in chosen.groupby("resident", sort=False).indices.items()}


@dataclass(frozen=True)
class Lookback:
    """How many days before the period end a reading rule reads, and whether it needs the half-hour slots."""

    days: int
    slots: bool


def rhythm_lookback(p: dict[str, Any]) -> Lookback:
    """The baseline days and the longest quiet stretch, with their slots."""
    return Lookback(int(p["baseline_days"] + p["max_quiet_days"]), True)


def usage_trend_lookback(p: dict[str, Any]) -> Lookback:
    """The recent days and the days before them, daily totals only."""
    return Lookback(int(p["recent_days"]) + int(p["before_days"]), False)


# a trailing quiet run: (resident, the runs found, its position in them, read against the night ceiling)
Run = tuple[str, QuietRuns, int, bool]


def _restless_runs(
    rule: Rule, ctx: Context, residents: pd.Index, matrix: np.ndarray, weak: np.ndarray, restless: np.ndarray
) -> list[Run]:
    """The runs of restless homes, read against their night (watchlist.rhythm.night_levels).

    A run under the ceiling wins; without one, a raised floor stuck high. Where a day rarely rises above
    the ceiling, the rule abstains and notes why in `ctx.abstentions`.
    """
    p = rule.params
    homes = matrix[weak]
    ceiling, floor = night_levels(homes, p)
    above = above_per_day(homes, ceiling)
    readable = np.isfinite(ceiling) & (above >= p["min_above_per_day"])
    ctx.abstentions.extend(
        Abstention(
            str(residents[i]),
            rule,
            "weak_rhythm",
            {"night_share": round(float(restless[i]), 2), "above_night_per_day": round(float(a), 1)},
        )
        for i, a in zip(weak[~readable], above[~readable], strict=True)
    )
    read, ceiling, floor = weak[readable], ceiling[readable], floor[readable]
    low = quiet_runs(homes[readable], p, ceiling)
    runs: list[Run] = [(str(residents[read[r]]), low, i, True) for i, r in enumerate(low.rows)]
    rest = np.setdiff1d(np.arange(len(read)), low.rows)  # only homes without a run under the ceiling
    raised = quiet_runs(homes[readable][rest], p, ceiling[rest], floor[rest])
    runs += [(str(residents[read[rest[r]]]), raised, i, True) for i, r in enumerate(raised.rows)]
    return runs


def rhythm(rule: Rule, ctx: Context) -> Iterator[Evidence]:
    """Loss of the daily rhythm in half-hourly readings, against the resident's own baseline before it.

    The weight follows how much of the resident's own usual activity the run missed (`expected` lively
    half-hours): under `full_expected` (a quiet evening) it weighs `short_factor`. A run is `strong`, an
    alarm on its own, when it missed `strong_expected` over at least `strong_hours`, when the use stays
    high (a heater or light left on) for `stuck_hours`, or when it missed a whole evening
    (`evening_expected` over `evening_hours`) and the resident's usual bedtime is `past_bed_hours` past
    with no light: nobody came home to go to bed. A resident whose quietest hours are as restless as
    the rest (an appliance cycling day and night) is read against the night ceiling
    (watchlist.rhythm.night_levels): use above what the appliance reaches at night is the person's; with
    no such run, use that stays raised (a light left on, the appliance cycling on top) for
    `raised_stuck_hours` is stuck high. Where a day rarely rises above the ceiling (under
    `min_above_per_day` half-hours), the rule abstains and says why.
    """
    p, span = rule.params, rhythm_lookback(rule.params)
    n_days = span.days
    first_day = ctx.period_end.normalize() - pd.Timedelta(days=n_days)
    days = ctx.days(p["utility"], first_day, span.slots)
    residents, matrix = slot_matrix(days, first_day, n_days)
    restless = restless_nights(matrix, p)
    weak = np.flatnonzero(np.nan_to_num(restless) >= p["max_night_share"])
    plain = quiet_runs(matrix, p)
    restless_rows = set(weak.tolist())
    runs = [(str(residents[r]), plain, i, False) for i, r in enumerate(plain.rows) if r not in restless_rows]
    runs += _restless_runs(rule, ctx, residents, matrix, weak, restless)
    runs.sort(key=lambda run: run[0])
    members = _members(days, np.asarray([run[0] for run in runs], dtype=object))
    for resident, found, i, night in runs:
        run_start = first_day + HALF_HOUR * int(found.start[i])
        hours, expected = found.readings[i] / 2, float(found.expected[i])
        base_level, level = float(found.base_level[i]), float(found.level[i])
        high = base_level > 0 and level >= p["high_flat_ratio"] * base_level
        stuck = bool(found.stuck[i])
        # a whole evening missed, and the usual bedtime long past with no sign of coming home
        evening = (
            hours >= p["evening_hours"]
            and expected >= p["evening_expected"]
            and found.past_bed[i] / 2 >= p["past_bed_hours"]
        )
        weight = rule.weight + (p["long_bonus"] if hours >= p["long_hours"] else 0.0)
        if expected < p["full_expected"] and not stuck:
            weight *= p["short_factor"]
        rows = days.loc[members[resident]]
        recent = rows.loc[rows["day"] >= run_start.normalize()]
        pattern = PATTERNS["high" if high else "night" if night else "evening" if evening else "low"]
        yield _evidence(
            rule,
            resident,
            recent,
            weight,
            start=run_start,
            channel=p["utility"],
            hours=int(hours),
            expected=round(expected, 1),
            strong=stuck or evening or (hours >= p["strong_hours"] and expected >= p["strong_expected"]),
            pattern_ja=pattern[0],
            pattern_en=pattern[1],
        )


# how a quiet run looked: (Japanese, English) inserted in the rhythm rule's text
PATTERNS = {
    "high": (
        "（使用量が高いまま：暖房や照明のつけっぱなしの可能性）",
        " (stuck high: a heater or light may be left on)",
    ),
    "low": ("（使用量が低いまま）", " (flat and low)"),
    "evening": (
        "（使用量が低いまま、普段の就寝時刻を過ぎても変化なし）",
        " (flat and low, even past the usual bedtime)",
    ),
    "night": (
        "（常に動く機器があるため、夜間の機器の水準を超える使用がないことで判断）",
        " (an appliance runs day and night: no use above its night level)",
    ),
}


def _daily(days: pd.DataFrame, first_day: pd.Timestamp, n_days: int) -> tuple[pd.Index, np.ndarray]:
    """Each resident's daily totals, oldest day first: (residents, n_days), NaN for a day without readings."""
    d = ((days["day"] - first_day) // DAY).to_numpy()
    residents = pd.Index(pd.unique(days["resident"]))
    totals = np.zeros((len(residents), n_days))
    seen = np.zeros((len(residents), n_days), dtype=bool)
    r = residents.get_indexer(days["resident"])
    np.add.at(totals, (r, d), days["total"].to_numpy(dtype="float64"))
    seen[r, d] = True
    return residents, np.where(seen, totals, np.nan)


DayTest = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (tail days, baseline days) -> rows that hold


def _day_runs(totals: np.ndarray, p: dict[str, Any], holds: DayTest) -> np.ndarray:
    """Per row, the longest run of last days (up to `max_days`) that `holds` against the baseline before it.

    Each candidate run k is judged against the `baseline_days` just before it (at least
    `min_baseline_days` of them with readings), so a silence is never measured against itself.
    """
    n_days, base_days = totals.shape[1], int(p["baseline_days"])
    found = np.zeros(len(totals), dtype=np.int64)
    for k in range(1, min(int(p.get("max_days", 1)), n_days - base_days) + 1):
        baseline, tail = totals[:, n_days - k - base_days : n_days - k], totals[:, n_days - k :]
        enough = (~np.isnan(baseline)).sum(axis=1) >= p["min_baseline_days"]
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a row without a baseline gives NaN
            found[enough & holds(tail, baseline)] = k
    return found


def utility_none_lookback(p: dict[str, Any]) -> Lookback:
    """The baseline days and the longest run of days counted, daily totals only."""
    return Lookback(int(p["baseline_days"]) + int(p.get("max_days", 1)), False)


def _day_totals(rule: Rule, ctx: Context, span: Lookback) -> tuple[pd.DataFrame, pd.Index, np.ndarray]:
    first_day = ctx.period_end.normalize() - pd.Timedelta(days=span.days)
    days = ctx.days(rule.params["utility"], first_day, span.slots)
    if days.empty:
        return days, pd.Index([]), np.zeros((0, span.days))
    residents, totals = _daily(days, first_day, span.days)
    return days, residents, totals


def _run_evidence(
    rule: Rule,
    days: pd.DataFrame,
    residents: pd.Index,
    runs: np.ndarray,
    period_end: pd.Timestamp,
    facts: Callable[[int, int], dict[str, Any]],
) -> Iterator[Evidence]:
    """Evidence for each resident with a run of days, its rows those days; `facts(row, days)` describes it.

    Each day after the first adds `day_bonus` (up to `max_bonus`); a run of `strong_days` is strong.
    """
    p = rule.params
    chosen = np.flatnonzero(runs > 0)
    members = _members(days, residents[chosen].to_numpy())
    for i in sorted(chosen, key=lambda k: str(residents[k])):
        n = int(runs[i])
        rows = days.loc[members[residents[i]]]
        group = rows.loc[rows["day"] >= period_end.normalize() - pd.Timedelta(days=n)]
        weight = rule.weight + min(p.get("day_bonus", 0.0) * (n - 1), p.get("max_bonus", 0.0))
        found = facts(int(i), n)
        strong = bool(found.pop("strong", False)) or n >= p.get("strong_days", np.inf)
        yield _evidence(
            rule, str(residents[i]), group, weight, channel=p["utility"], days=n, strong=strong, **found
        )


def utility_none(rule: Rule, ctx: Context) -> Iterator[Evidence]:
    """No use of a utility for whole days where the resident normally uses it; days in a row add up."""
    p = rule.params
    days, residents, totals = _day_totals(rule, ctx, utility_none_lookback(p))
    if days.empty:
        return

    def holds(tail: np.ndarray, baseline: np.ndarray) -> np.ndarray:
        held: np.ndarray = (tail <= p["max_use"]).all(axis=1) & (
            np.nanmedian(baseline, axis=1) >= p["min_baseline"]
        )
        return held

    runs = _day_runs(totals, p, holds)

    def facts(row: int, n: int) -> dict[str, Any]:
        base = totals[row, totals.shape[1] - n - int(p["baseline_days"]) : totals.shape[1] - n]
        return {"baseline": round(float(np.nanmedian(base)), 2)}

    yield from _run_evidence(rule, days, residents, runs, ctx.period_end, facts)


def utility_low_lookback(p: dict[str, Any]) -> Lookback:
    """The baseline days and the run of days counted; the half-hours too where restless nights matter."""
    return Lookback(int(p["baseline_days"]) + int(p.get("max_days", 1)), bool(p.get("only_restless")))


def utility_low(rule: Rule, ctx: Context) -> Iterator[Evidence]:
    """Far less use than on the resident's own lowest day of the baseline, but some (none is another rule).

    Days in a row add up. A day at or under `strong_share` of the lowest day is strong; for a resident
    whose last day brought no `alone_without` readings (no half-hours to tell an afternoon out from a
    fall), at or under `strong_share_alone`. With
    `only_restless`, only residents whose rhythm the rhythm rule cannot read (restless nights) are judged:
    for the others the rhythm says more, and sooner.
    """
    p = rule.params
    span = utility_low_lookback(p)
    days, residents, totals = _day_totals(rule, ctx, span)
    if days.empty:
        return
    judged = np.ones(len(residents), dtype=bool)
    if p.get("only_restless"):
        first_day = ctx.period_end.normalize() - pd.Timedelta(days=span.days)
        slotted, matrix = slot_matrix(days, first_day, span.days)
        restless = pd.Series(restless_nights(matrix, p), index=slotted).reindex(residents).to_numpy()
        judged = np.nan_to_num(restless) >= p["max_night_share"]

    def holds(tail: np.ndarray, baseline: np.ndarray) -> np.ndarray:
        lowest = np.nanmin(baseline, axis=1)[:, None]
        low = (tail > p["above"]) & (tail <= p["max_ratio"] * lowest)
        held: np.ndarray = judged & low.all(axis=1) & (lowest[:, 0] >= p["min_baseline"])
        return held

    runs = _day_runs(totals, p, holds)
    alone = _without_readings(ctx, p.get("alone_without"), residents)

    def facts(row: int, n: int) -> dict[str, Any]:
        lowest = float(
            np.nanmin(totals[row, totals.shape[1] - n - int(p["baseline_days"]) : totals.shape[1] - n])
        )
        last = float(totals[row, -1])
        share = p["strong_share_alone"] if alone[row] else p.get("strong_share", 0.0)
        return {"percent": round(100 * (1 - last / lowest)), "strong": last <= share * lowest}

    yield from _run_evidence(rule, days, residents, runs, ctx.period_end, facts)


def _without_readings(ctx: Context, utility: str | None, residents: pd.Index) -> np.ndarray:
    """Per resident, whether the last day brought none of the utility's readings (False without one)."""
    if utility is None:
        return np.zeros(len(residents), dtype=bool)
    last_day = ctx.period_end.normalize() - DAY
    read = ctx.days(utility, last_day, False)
    alone: np.ndarray = ~residents.isin(read.loc[read["day"] >= last_day, "resident"])
    return alone


def trend(rule: Rule, ctx: Context) -> Iterator[Evidence]:
    """A slow decline: far fewer events in the recent window than in the one before (feeds received today)."""
    p = rule.params
    window = pd.Timedelta(days=p["window_days"])
    s = ctx.signals
    chosen = s.loc[
        (s["sector"] == p["sector"])
        & (s["event_type"].isin(p["event_types"]))
        & (s["partner_id"].isin(ctx.received))
        & (s["event_start"] >= ctx.period_end - 2 * window)
        & (s["event_start"] < ctx.period_end)
    ]
    recent = (chosen["event_start"] >= ctx.period_end - window).astype(int)
    counts = pd.DataFrame({"after": recent, "before": 1 - recent}).groupby(chosen["resident"]).sum()
    fires = counts.loc[
        (counts["before"] >= p["min_before"]) & (counts["after"] <= p["max_ratio"] * counts["before"])
    ]
    groups = chosen.loc[chosen["resident"].isin(fires.index)].groupby("resident", sort=True)
    for resident, group in groups:
        before, after = (int(fires.at[resident, k]) for k in ("before", "after"))
        yield _evidence(
            rule, str(resident), group, rule.weight, before=before, after=after, window=p["window_days"]
        )


def usage_trend(rule: Rule, ctx: Context) -> Iterator[Evidence]:
    """Activity declining over weeks: the recent days' typical daily use well below the weeks before."""
    p, span = rule.params, usage_trend_lookback(rule.params)
    recent_days, before_days = int(p["recent_days"]), int(p["before_days"])
    first_day = ctx.period_end.normalize() - pd.Timedelta(days=span.days)
    days = ctx.days(p["utility"], first_day, span.slots)
    if days.empty:
        return
    residents, totals = _daily(days, first_day, recent_days + before_days)
    before, recent = totals[:, :before_days], totals[:, before_days:]
    full = ~np.isnan(recent).any(axis=1) & ((~np.isnan(before)).sum(axis=1) >= p["min_before_days"])
    usual = np.full(len(residents), np.nan)
    now = np.full(len(residents), np.nan)
    if full.any():
        usual[full] = np.nanmedian(before[full], axis=1)
        now[full] = np.quantile(recent[full], p.get("recent_quantile", 0.5), axis=1)
    with np.errstate(invalid="ignore"):
        fires = full & (usual > 0) & (now <= p["max_ratio"] * usual)
    chosen = np.flatnonzero(fires)
    members = _members(days, residents[chosen].to_numpy())
    for i in sorted(chosen, key=lambda k: str(residents[k])):
        yield _evidence(
            rule,
            str(residents[i]),
            days.loc[members[residents[i]]],
            rule.weight,
            channel=p["utility"],
            percent=round(100 * (1 - now[i] / usual[i])),
            weeks=round(before_days / 7),
        )


EVALUATORS: dict[str, Callable[[Rule, Context], Iterator[Evidence]]] = {
    "events": events,
    "rhythm": rhythm,
    "utility_none": utility_none,
    "utility_low": utility_low,
    "trend": trend,
    "usage_trend": usage_trend,
}


# The lookback of each rule kind that reads reading days: the same function its evaluator reads with.
LOOKBACKS: dict[str, Callable[[dict[str, Any]], Lookback]] = {
    "rhythm": rhythm_lookback,
    "utility_none": utility_none_lookback,
    "utility_low": utility_low_lookback,
    "usage_trend": usage_trend_lookback,
}


EVENT_WINDOWS: dict[str, Callable[[dict[str, Any]], int]] = {
    "events": lambda p: int(p["window_days"]),
    "trend": lambda p: 2 * int(p["window_days"]),  # the recent window and the one before it
}


def event_days(rules: RuleSet) -> int:
    """How far back the day's events are read: the longest window any event rule looks at."""
    return max((EVENT_WINDOWS[r.kind](r.params) for r in rules.rules if r.kind in EVENT_WINDOWS), default=1)


def lookback(rule: Rule) -> Lookback | None:
    """The days a rule reads from its own params, or None for a rule over events only."""
    derive = LOOKBACKS.get(rule.kind)
    return derive(rule.params) if derive else None


def read_once(rules: tuple[Rule, ...], period_end: pd.Timestamp, read: DayReader) -> DayReader:
    """A reader that reads each utility once: the widest window its rules need, slots only where needed."""
    windows: dict[str, tuple[int, int]] = {}
    for rule in rules:
        if (span := lookback(rule)) is not None:
            total, slotted = windows.get(rule.params["utility"], (0, 0))
            windows[rule.params["utility"]] = (
                max(total, span.days),
                max(slotted, span.days if span.slots else 0),
            )
    frames: dict[str, pd.DataFrame] = {}
    midnight = period_end.normalize()

    def cached(utility: str, since: pd.Timestamp, with_slots: bool) -> pd.DataFrame:
        if utility not in windows:
            return read(utility, since, with_slots)
        if utility not in frames:
            total, slotted = windows[utility]
            parts = [read(utility, midnight - pd.Timedelta(days=slotted), True)] if slotted else []
            if total > slotted:  # the older days, without their slots
                older = read(utility, midnight - pd.Timedelta(days=total), False)
                parts.append(older.loc[older["day"] < midnight - pd.Timedelta(days=slotted)])
            frames[utility] = pd.concat(parts, ignore_index=True).sort_values("delivery_pk", kind="stable")
        frame = frames[utility]
        return frame.loc[frame["day"] >= since].reset_index(drop=True)

    return cached


def evaluate(rules: tuple[Rule, ...], ctx: Context) -> list[Evidence]:
    """Every rule's evidence over the context, of every kind (the table is watchlist.kinds)."""
    from watchlist.kinds import evaluate_all  # the table imports the evaluators of this module

    return evaluate_all(rules, ctx)
