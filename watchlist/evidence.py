"""Rule evaluators: each turns pseudonymous signals into explained evidence about residents."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd

from watchlist.rules import Rule

HALF_HOUR = pd.Timedelta(minutes=30)
DAY = pd.Timedelta(days=1)


@dataclass(frozen=True)
class Context:
    """What every evaluator sees: the signals, the end of the period, and which feeds arrived."""

    signals: pd.DataFrame
    period_end: pd.Timestamp
    received: frozenset[str]
    partner_names: dict[str, str]


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
    age_days = max((period_end.normalize() - (last.normalize() + DAY)).days, 0)
    return weight * 0.5 ** (age_days / rule.half_life_days)


def _evidence(
    rule: Rule,
    resident: str,
    group: pd.DataFrame,
    weight: float,
    news: pd.Timestamp | None = None,
    **facts: Any,
) -> Evidence:
    start = group["event_start"].min()
    return Evidence(
        resident=resident,
        rule=rule,
        weight=round(weight, 2),
        facts=facts,
        partners=tuple(sorted(group["partner_id"].unique())),
        sectors=tuple(sorted(group["sector"].unique())),
        start=start.to_pydatetime(),
        end=(group["event_end"].fillna(group["event_start"])).max().to_pydatetime(),
        deliveries=frozenset(int(x) for x in group["delivery_pk"].unique()),
        consents=frozenset(str(x) for x in group["consent_id"].unique()),
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
    runs = _runs(sector, hit) if p.get("count_runs") else None
    for resident, group in chosen.groupby("resident", sort=True):
        if runs is not None:
            count = int(runs.get(resident, 0))
        else:
            count = len(group.drop_duplicates(["partner_id", "event_type", "event_start"]))
        least = int(p.get("min_count", 1))
        if count < least:
            continue
        last = group["event_start"].max()
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


def _readings(ctx: Context, utility: str, since: pd.Timestamp) -> pd.DataFrame:
    s = ctx.signals
    return s.loc[
        (s["kind"] == "reading")
        & (s["event_type"] == utility)
        & (s["partner_id"].isin(ctx.received))
        & (s["event_start"] >= since)
        & (s["event_start"] < ctx.period_end)
    ]


def rhythm(rule: Rule, ctx: Context) -> Iterator[Evidence]:
    """Loss of the daily rhythm in half-hourly readings, against the resident's own baseline before it."""
    p = rule.params
    span = pd.Timedelta(days=p["baseline_days"] + p["max_quiet_days"])
    readings = _readings(ctx, p["utility"], ctx.period_end - span)
    readings = readings.loc[(readings["event_end"] - readings["event_start"]) == HALF_HOUR]
    for resident, group in readings.groupby("resident", sort=True):
        series = group.drop_duplicates("event_start").set_index("event_start")["value"].sort_index()
        found = _quiet_run(series, ctx.period_end, p)
        if found is None:
            continue
        run_start, hours, expected, level, base_level = found
        weight = rule.weight + (p["long_bonus"] if hours >= p["long_hours"] else 0.0)
        high = base_level > 0 and level >= p["high_flat_ratio"] * base_level
        recent = group.loc[group["event_start"] >= run_start]
        yield _evidence(
            rule,
            str(resident),
            recent,
            weight,
            channel=p["utility"],
            hours=int(hours),
            expected=round(expected, 1),
            pattern_ja="（使用量が高いまま：暖房や照明のつけっぱなしの可能性）"
            if high
            else "（使用量が低いまま）",
            pattern_en=" (stuck high: a heater or light may be left on)" if high else " (flat and low)",
        )


def _quiet_run(
    series: pd.Series, period_end: pd.Timestamp, p: dict[str, Any]
) -> tuple[pd.Timestamp, float, float, float, float] | None:
    """The trailing run of half-hours without activity, if the days before it expected activity in it.

    A half-hour is lively when its use changes by at least `lively_share` of the resident's typical
    large change and by `level_share` of the level itself (a heater left on wobbles, it does not live);
    the baseline is the `baseline_days` before the quiet run began, so a silence of
    several days is still measured against the life before it.
    """
    if series.empty or series.index.max() < period_end - 2 * HALF_HOUR:
        return None
    changes = series.diff().abs()
    scale = float(changes.quantile(0.9))
    if not scale > 0:
        return None
    level = pd.concat([series, series.shift()], axis=1).min(axis=1)
    lively = (
        (changes >= p["lively_share"] * scale) & (changes >= p.get("level_share", 0.0) * level)
    ).to_numpy()
    quiet = 0
    for value in reversed(lively):
        if value:
            break
        quiet += 1
    if quiet < max(2, 2 * p.get("min_hours", 1)):
        return None
    run = series.index[-quiet:]
    baseline_start = run[0] - pd.Timedelta(days=p["baseline_days"])
    before = (series.index < run[0]) & (series.index >= baseline_start)
    if pd.Index(series.index[before].normalize()).nunique() < p["min_baseline_days"]:
        return None
    base_index = series.index[before]
    slots = base_index.hour * 2 + base_index.minute // 30
    share = pd.Series(lively[before], index=slots).groupby(level=0).mean()
    expected = float(sum(share.get(h * 2 + m // 30, 0.0) for h, m in zip(run.hour, run.minute, strict=True)))
    if expected < p["min_expected_lively"]:
        return None
    return run[0], quiet / 2, expected, float(series.loc[run].mean()), float(series[before].mean())


def utility_none(rule: Rule, ctx: Context) -> Iterator[Evidence]:
    """No use of a utility for a whole day where the resident normally uses it."""
    p = rule.params
    last_day = (ctx.period_end - DAY).date()
    readings = _readings(ctx, p["utility"], ctx.period_end - pd.Timedelta(days=p["baseline_days"] + 1))
    if readings.empty:
        return
    daily = readings.groupby(["resident", readings["event_start"].dt.date])["value"].sum()
    for resident, totals in daily.groupby(level=0, sort=True):
        totals = totals.droplevel(0)
        if last_day not in totals.index:
            continue
        baseline = totals.loc[[d for d in totals.index if d < last_day]]
        if len(baseline) < p["min_baseline_days"]:
            continue
        usual = float(baseline.median())
        if totals[last_day] <= p["max_use"] and usual >= p["min_baseline"]:
            group = readings.loc[
                (readings["resident"] == resident) & (readings["event_start"].dt.date == last_day)
            ]
            yield _evidence(
                rule, str(resident), group, rule.weight, channel=p["utility"], baseline=round(usual, 2)
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
    for resident, group in chosen.groupby("resident", sort=True):
        recent = group["event_start"] >= ctx.period_end - window
        before, after = int((~recent).sum()), int(recent.sum())
        if before >= p["min_before"] and after <= p["max_ratio"] * before:
            yield _evidence(
                rule, str(resident), group, rule.weight, before=before, after=after, window=p["window_days"]
            )


def usage_trend(rule: Rule, ctx: Context) -> Iterator[Evidence]:
    """Activity declining over weeks: the recent days' typical daily use well below the weeks before."""
    p = rule.params
    recent_days, before_days = int(p["recent_days"]), int(p["before_days"])
    since = ctx.period_end - pd.Timedelta(days=recent_days + before_days)
    readings = _readings(ctx, p["utility"], since)
    if readings.empty:
        return
    days = readings["event_start"].dt.normalize()
    daily = readings.groupby(["resident", days])["value"].sum()
    cut = ctx.period_end - pd.Timedelta(days=recent_days)
    for resident, totals in daily.groupby(level=0, sort=True):
        totals = totals.droplevel(0)
        recent, before = totals[totals.index >= cut], totals[totals.index < cut]
        if len(recent) < recent_days or len(before) < p["min_before_days"]:
            continue
        usual = float(before.median())
        now = float(recent.quantile(p.get("recent_quantile", 0.5)))
        if usual > 0 and now <= p["max_ratio"] * usual:
            group = readings.loc[readings["resident"] == resident]
            yield _evidence(
                rule,
                str(resident),
                group,
                rule.weight,
                channel=p["utility"],
                percent=round(100 * (1 - now / usual)),
                weeks=round(before_days / 7),
            )


EVALUATORS: dict[str, Callable[[Rule, Context], Iterator[Evidence]]] = {
    "events": events,
    "rhythm": rhythm,
    "utility_none": utility_none,
    "trend": trend,
    "usage_trend": usage_trend,
}


def evaluate(rules: tuple[Rule, ...], ctx: Context) -> list[Evidence]:
    """Every rule's evidence over the context."""
    return [found for rule in rules for found in EVALUATORS[rule.kind](rule, ctx)]
