"""Run days through the real Airflow DAG locally (`dag.test()`), with AIRFLOW_HOME inside the data home.

The parent process prepares Airflow's SQLite metadata and starts a child that imports the DAG file and
runs one DAG run per date; the child reports each finished day on a pipe, so Airflow's own console
logging goes to a log file while the user sees a progress bar.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from importlib import util
from pathlib import Path

from warehouse.errors import ConfigurationError, MimamoriError
from warehouse.vocabulary import JST

DAG_ID = "mimamori_daily"


def dags_folder() -> Path:
    """The repository's dags/ folder (Airflow's DAG folder, not an installed package)."""
    folder = Path(os.environ.get("MIMAMORI_DAGS_FOLDER") or Path(__file__).resolve().parents[2] / "dags")
    if not (folder / f"{DAG_ID}.py").exists():
        raise ConfigurationError(f"DAG file {DAG_ID}.py not found in {folder}; set MIMAMORI_DAGS_FOLDER")
    return folder


def airflow_env(home: Path) -> dict[str, str]:
    """Environment for an embedded Airflow: metadata in SQLite inside the data home, no examples."""
    airflow_home = home / "airflow"
    airflow_home.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "MIMAMORI_HOME": str(home),
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder()),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "GX_ANALYTICS_ENABLED": "False",
        # No scheduler watches a deadline here, and Airflow 3.3's dag.test() cannot finish a successful
        # run of a DAG that has one (it looks the alerts up by ids only a scheduler's DAG carries).
        "MIMAMORI_LIST_DEADLINE": os.environ.get("MIMAMORI_LIST_DEADLINE", "off"),
    }


def _airflow_bin() -> str:
    return str(Path(sys.executable).with_name("airflow"))


@contextmanager
def _progress_pipe() -> Iterator[tuple[int, int]]:
    read_fd, write_fd = os.pipe()
    try:
        yield read_fd, write_fd
    finally:
        for fd in (read_fd, write_fd):
            with suppress(OSError):
                os.close(fd)


def run_days(home: Path, dates: list[str], on_day: Callable[[str, str], None]) -> Path:
    """Run each date through the DAG in a child process; calls on_day(date, state); returns the log path."""
    env = airflow_env(home)
    log_path = home / "airflow" / "dag-test.log"
    with log_path.open("w") as log:
        migrated = subprocess.run([_airflow_bin(), "db", "migrate"], env=env, stdout=log, stderr=log)
        if migrated.returncode != 0:
            raise MimamoriError(f"airflow db migrate failed; see {log_path}")
        with _progress_pipe() as (read_fd, write_fd):
            child = subprocess.Popen(
                [sys.executable, "-m", "mimamori_demo.airflow_local", str(write_fd), *dates],
                env=env,
                stdout=log,
                stderr=log,
                pass_fds=(write_fd,),
            )
            os.close(write_fd)
            with os.fdopen(read_fd, closefd=False) as reports:
                for line in reports:
                    report = json.loads(line)
                    on_day(report["date"], report["state"])
            code = child.wait()
    if code != 0:
        raise MimamoriError(f"the DAG run failed; see {log_path}")
    return log_path


def _load_dag() -> object:
    path = dags_folder() / f"{DAG_ID}.py"
    spec = util.spec_from_file_location(DAG_ID, path)
    assert spec and spec.loader
    module = util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for value in vars(module).values():
        if getattr(value, "dag_id", None) == DAG_ID:
            return value
    raise ConfigurationError(f"{path} does not define {DAG_ID}")


def test_run(dag: object, run_date: str) -> str:
    """One DAG run for a date via dag.test(); returns the final state."""
    day = dt.date.fromisoformat(run_date)
    logical = dt.datetime.combine(day, dt.time(6, 30), tzinfo=JST)
    dag_run = dag.test(logical_date=logical, run_conf={"run_date": run_date})  # type: ignore[attr-defined]
    return str(dag_run.state)


def _child(argv: list[str]) -> int:
    write_fd, dates = int(argv[0]), argv[1:]
    dag = _load_dag()
    failed = 0
    with os.fdopen(write_fd, "w", buffering=1) as reports:
        for run_date in dates:
            state = test_run(dag, run_date)
            reports.write(json.dumps({"date": run_date, "state": state}) + "\n")
            if state != "success":
                failed += 1
                break
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
