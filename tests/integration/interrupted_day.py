"""Run one day's steps in a child process and wait at a named point to be killed (for test_crash_safety).

Usage: python interrupted_day.py DATE STOP

STOP is a step of `mimamori.daily.STEPS` (wait after it returned) or `load` (wait inside ingest,
between the first batch of signals inserted and the next).
"""

from __future__ import annotations

import sys
from typing import Any

from sqlalchemy import Engine, event

from mimamori import daily
from mimamori.context import RunContext


def wait(point: str, run_id: str) -> None:
    """Tell the test where we are, then block until it kills this process."""
    print(f"ready {point} {run_id}", flush=True)
    sys.stdin.read()
    raise SystemExit(f"still alive at {point}: the test should have killed this process")


def stop_inside_signal_load(run_id: str) -> None:
    """Wait between two batches of signals: the first INSERT has run, the second has not begun."""
    batches = []

    def before_cursor_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO SIGNALS"):
            batches.append(statement)
            if len(batches) == 2:
                wait("load", run_id)

    event.listen(Engine, "before_cursor_execute", before_cursor_execute)


def main(run_date: str, stop: str) -> None:
    """Open the day's run and run its steps in order, stopping where asked."""
    run_id = daily.open_run(RunContext.from_environment(), run_date)
    if stop == "load":
        stop_inside_signal_load(run_id)
    for name in daily.STEPS:
        getattr(daily, name)(RunContext.from_environment(), run_id)
        if name == stop:
            wait(name, run_id)
    raise SystemExit(f"{stop} was never reached")


if __name__ == "__main__":
    main(*sys.argv[1:])
