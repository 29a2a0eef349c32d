"""Run DAG runs through dag.test() in this process and print one JSON line per run (state and task states).

Usage: python dag_runner.py '[{"dag_id": ..., "logical_date": ISO, "conf": {...}}, ...]'
A run may say `"retries": 0` (each failure is final at once) and `"expect": "failed"`; the entry
`{"missed_deadlines": true}` then does what the scheduler and triggerer do with deadlines that have passed:
marks them missed, which queues their callbacks, and runs each callback's trigger to its end.
The environment (AIRFLOW_HOME, metadata database, MIMAMORI_HOME, dags folder) is the caller's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path


def load_dags(folder: Path) -> dict[str, object]:
    """Every DAG defined in the folder's files, by id."""
    found = {}
    for path in sorted(folder.glob("*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for value in vars(module).values():
            if type(value).__name__ == "DAG":
                found[value.dag_id] = value  # type: ignore[attr-defined]
    return found


def missed_deadlines() -> list[dict]:
    """Mark passed deadlines missed, as the scheduler does; run their callback triggers, as the triggerer."""
    from airflow.models.deadline import Deadline
    from airflow.sdk._shared.module_loading import import_string
    from airflow.utils.session import create_session
    from sqlalchemy import select

    triggers = []
    with create_session() as session:
        passed = select(Deadline).where(Deadline.deadline_time < dt.datetime.now(dt.UTC), ~Deadline.missed)
        for deadline in session.scalars(passed):
            deadline.handle_miss(session)
            trigger = deadline.callback.trigger
            triggers.append((deadline.dagrun.dag_id, import_string(trigger.classpath)(**trigger.kwargs)))

    async def finish(trigger: object) -> list[dict]:
        return [event.payload async for event in trigger.run()]  # type: ignore[attr-defined]

    return [{"dag_id": dag_id, "events": asyncio.run(finish(trigger))} for dag_id, trigger in triggers]


def main(runs: list[dict]) -> int:
    """Run each requested DAG run in order; stop at the first that does not end as expected."""
    dags = load_dags(Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"]))
    for run in runs:
        if run.get("missed_deadlines"):
            print("DEADLINES " + json.dumps(missed_deadlines(), default=str), flush=True)
            continue
        dag = dags[run["dag_id"]]
        if "retries" in run:
            for task in dag.tasks:  # type: ignore[attr-defined]
                task.retries = run["retries"]
        dag_run = dag.test(  # type: ignore[attr-defined]
            logical_date=dt.datetime.fromisoformat(run["logical_date"]), run_conf=run.get("conf") or None
        )
        tasks = {
            f"{ti.task_id}[{ti.map_index}]" if ti.map_index >= 0 else ti.task_id: str(ti.state)
            for ti in dag_run.get_task_instances()
        }
        report = {
            "dag_id": run["dag_id"],
            "run_id": dag_run.run_id,
            "state": str(dag_run.state),
            "tasks": tasks,
        }
        print("DAG-RUN " + json.dumps(report), flush=True)
        if report["state"] != run.get("expect", "success"):
            return 1
    return 0


def run_dags(home: Path, template: Path, runs: list[dict], **env: str) -> list[dict]:
    """Run DAG runs in one child process with the home's embedded Airflow; returns each entry's report."""
    from mimamori_demo.airflow_local import airflow_env

    child_env = {**airflow_env(home), **env}
    shutil.copy(template, home / "airflow" / "airflow.db")
    done = subprocess.run(
        [sys.executable, __file__, json.dumps(runs)],
        env=child_env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    reports = []
    for line in done.stdout.splitlines():
        if line.startswith("DAG-RUN "):
            reports.append(json.loads(line[8:]))
        elif line.startswith("DEADLINES "):
            reports.append({"deadlines": json.loads(line[10:])})
    assert done.returncode == 0 and len(reports) == len(runs), (
        reports,
        done.stdout[-4000:],
        done.stderr[-2000:],
    )
    return reports


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.argv[1])))
