"""Rules over the municipality's own register: a household left alone by a death, a move in, no feed at all.

The register is what defines the watched population (single residents 65+ with consent in force), so
these rules read only what the population already holds about a watched resident, under the same
consent; they cite no partner and no sector. Each resident's register facts come as one row of
`Context.register` (see `register_frame`):

- `household_since`, `household_reason`: the household's latest change on the register and why;
- `fed`: whether any partner sent anything about the resident in the rule set's lookback;
- `last_visit`: the latest outreach visit recorded for the resident (any outcome), if any.

A register change is news once: a visit on or after the day the list first showed it has seen it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from warehouse.models import Outcome, ReadingDay, WatchPopulation
from watchlist.evidence import REGISTER_COLUMNS, Context, Evidence
from watchlist.rules import Rule


def register_frame(
    session: Session, watched: set[str], events: pd.DataFrame, since: dt.date, run_date: dt.date
) -> pd.DataFrame:
    """The register facts of the watched residents, one row each (see the module docstring)."""
    rows = session.execute(
        select(WatchPopulation.resident, WatchPopulation.household_since, WatchPopulation.household_reason)
    ).all()
    read = set(
        session.execute(
            select(ReadingDay.resident).where(ReadingDay.day >= since, ReadingDay.day < run_date).distinct()
        ).scalars()
    )
    fed = read | set(events["resident"])
    visits = {
        resident: on
        for resident, on in session.execute(
            select(Outcome.resident, func.max(Outcome.visited_on))
            .where(Outcome.visited_on < run_date)
            .group_by(Outcome.resident)
        ).tuples()
    }
    frame = pd.DataFrame(
        [
            (r, household_since, reason, r in fed, visits.get(r))
            for r, household_since, reason in rows
            if r in watched
        ],
        columns=list(REGISTER_COLUMNS),
    )
    return frame.sort_values("resident", kind="stable").reset_index(drop=True)


def _register_evidence(
    rule: Rule, resident: str, on: dt.date, ctx: Context, weight: float, **facts: object
) -> Evidence:
    moment = dt.datetime.combine(on, dt.time())
    return Evidence(
        resident=resident,
        rule=rule,
        weight=round(weight, 2),
        facts={"since": f"{on.month}/{on.day}", **facts},
        partners=(),
        sectors=(),
        start=moment,
        end=ctx.period_end.to_pydatetime(),
        deliveries=frozenset(),
        consents=frozenset(),
        news=moment,
    )


def _visited(last: object) -> dt.date | None:
    """The last visit's date, None when there was none."""
    return last if isinstance(last, dt.date) else None


def register_change(rule: Rule, ctx: Context) -> Iterator[Evidence]:
    """The register shows the household changed for one of `reasons` within `window_days` (a death...).

    Weighs `weight` halved every `half_life_days` since the change; a visit since the change has seen it.
    """
    p = rule.params
    today = ctx.period_end.date()
    for row in ctx.register.itertuples(index=False):
        on = row.household_since
        if row.household_reason not in p["reasons"] or on is None or pd.isna(on):
            continue
        age = (today - on).days
        last = _visited(row.last_visit)
        if not 0 < age <= int(p["window_days"]) or (last is not None and last >= on):
            continue
        weight = rule.weight * 0.5 ** (max(age - 1, 0) / rule.half_life_days)
        yield _register_evidence(rule, str(row.resident), on, ctx, weight, days=age)


def register_unseen(rule: Rule, ctx: Context) -> Iterator[Evidence]:
    """A household unchanged for `min_years` that no partner feed has seen in the lookback.

    Nobody else has a view of such a resident: the list suggests a visit, then rests `revisit_days`.
    """
    p = rule.params
    today = ctx.period_end.date()
    for row in ctx.register.itertuples(index=False):
        on = row.household_since
        known = on is not None and not pd.isna(on)
        since_birth = not known and row.household_reason == "birth"  # the date is not kept: an identifier
        if row.fed or not (since_birth or (known and (today - on).days >= 365 * int(p["min_years"]))):
            continue
        last = _visited(row.last_visit)
        if last is not None and (today - last).days <= int(p["revisit_days"]):
            continue
        born: dict[str, object] = {}
        if since_birth:  # the date is not kept: the evidence starts `min_years` back and says so
            years = int(p["min_years"])
            start, born = today - dt.timedelta(days=365 * years), {"since": "出生時"}
        else:
            years, start = (today - on).days // 365, on
        yield _register_evidence(rule, str(row.resident), start, ctx, rule.weight, years=years, **born)
