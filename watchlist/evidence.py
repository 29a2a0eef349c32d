"""Rule evaluators: each turns pseudonymous signals into explained evidence about residents."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from warehouse.reading_days import HALF_HOUR, blobs, slot_matrix, summarise, with_times
from watchlist.rhythm import quiet_runs
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
class Context:
    """What every evaluator sees: the events, reading days, the end of the period, which feeds arrived."""

    signals: pd.DataFrame  # events (readings, when present, are read through `days`)
    period_end: pd.Timestamp
    received: frozenset[str]
    partner_names: dict[str, str]
    days: DayReader
    register: pd.DataFrame = field(default_factory=no_register)

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


def utility_none_lookback(p: dict[str, Any]) -> Lookback:
    """The baseline days and the last day, daily totals only."""
    return Lookback(int(p["baseline_days"]) + 1, False)


def usage_trend_lookback(p: dict[str, Any]) -> Lookback:
    """The recent days and the days before them, daily totals only."""
    return Lookback(int(p["recent_days"]) + int(p["before_days"]), False)


def rhythm(rule: Rule, ctx: Context) -> Iterator[Evidence]:
    """Loss of the daily rhythm in half-hourly readings, against the resident's own baseline before it."""
    p, span = rule.params, rhythm_lookback(rule.params)
    n_days = span.days
    first_day = ctx.period_end.normalize() - pd.Timedelta(days=n_days)
    days = ctx.days(p["utility"], first_day, span.slots)
    residents, matrix = slot_matrix(days, first_day, n_days)
    runs = quiet_runs(matrix, p)
    order = np.argsort(np.asarray(residents[runs.rows], dtype=object), kind="stable")
    members = _members(days, residents[runs.rows].to_numpy())
    for i in order:
        resident = residents[runs.rows[i]]
        run_start = first_day + HALF_HOUR * int(runs.start[i])
        hours = runs.readings[i] / 2
        weight = rule.weight + (p["long_bonus"] if hours >= p["long_hours"] else 0.0)
        base_level, level = float(runs.base_level[i]), float(runs.level[i])
        high = base_level > 0 and level >= p["high_flat_ratio"] * base_level
        rows = days.loc[members[resident]]
        recent = rows.loc[rows["day"] >= run_start.normalize()]
        yield _evidence(
            rule,
            str(resident),
            recent,
            weight,
            start=run_start,
            channel=p["utility"],
            hours=int(hours),
            expected=round(float(runs.expected[i]), 1),
            pattern_ja="（使用量が高いまま：暖房や照明のつけっぱなしの可能性）"
            if high
            else "（使用量が低いまま）",
            pattern_en=" (stuck high: a heater or light may be left on)" if high else " (flat and low)",
        )


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


def utility_none(rule: Rule, ctx: Context) -> Iterator[Evidence]:
    """No use of a utility for a whole day where the resident normally uses it."""
    p, span = rule.params, utility_none_lookback(rule.params)
    n_days = span.days
    first_day = ctx.period_end.normalize() - pd.Timedelta(days=n_days)
    days = ctx.days(p["utility"], first_day, span.slots)
    if days.empty:
        return
    residents, totals = _daily(days, first_day, n_days)
    baseline, last = totals[:, :-1], totals[:, -1]
    enough = (~np.isnan(baseline)).sum(axis=1) >= p["min_baseline_days"]
    usual = np.full(len(residents), np.nan)
    if enough.any():
        usual[enough] = np.nanmedian(baseline[enough], axis=1)
    with np.errstate(invalid="ignore"):
        fires = enough & (last <= p["max_use"]) & (usual >= p["min_baseline"])
    chosen = np.flatnonzero(fires)
    members = _members(days, residents[chosen].to_numpy())
    last_day = ctx.period_end.normalize() - DAY
    for i in sorted(chosen, key=lambda k: str(residents[k])):
        rows = days.loc[members[residents[i]]]
        group = rows.loc[rows["day"] == last_day]
        yield _evidence(
            rule,
            str(residents[i]),
            group,
            rule.weight,
            channel=p["utility"],
            baseline=round(float(usual[i]), 2),
        )


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
    "trend": trend,
    "usage_trend": usage_trend,
}


# The lookback of each rule kind that reads reading days: the same function its evaluator reads with.
LOOKBACKS: dict[str, Callable[[dict[str, Any]], Lookback]] = {
    "rhythm": rhythm_lookback,
    "utility_none": utility_none_lookback,
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
