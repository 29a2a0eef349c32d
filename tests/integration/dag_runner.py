"""Run DAG runs through dag.test() in this process and print one JSON line per run (state and task states).

Usage: python dag_runner.py '[{"dag_id": ..., "logical_date": ISO, "conf": {...}}, ...]'
The environment (AIRFLOW_HOME, metadata database, MIMAMORI_HOME, dags folder) is the caller's.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
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


def main(runs: list[dict]) -> int:
    """Run each requested DAG run in order; stop at the first that does not succeed."""
    dags = load_dags(Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"]))
    for run in runs:
        dag = dags[run["dag_id"]]
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
        if report["state"] != "success":
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.argv[1])))
