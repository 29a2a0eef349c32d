"""Time the main job: `mimamori demo --through-airflow` on a fresh home, and print wall time and peak memory.

    .venv/bin/python bench/demo_time.py [--residents 2000] [--days 21] [--seed 7]

Peak memory is the largest resident set of the command and its children (the Airflow child that
runs the DAG), as the kernel reports it through getrusage.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=2000)
    parser.add_argument("--days", type=int, default=21)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    cli = Path(sys.executable).with_name("mimamori")
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "home"
        env = {**os.environ, "MIMAMORI_HOME": str(home)}
        began = time.monotonic()
        result = subprocess.run(
            [
                str(cli),
                "demo",
                "--residents",
                str(args.residents),
                "--days",
                str(args.days),
                "--seed",
                str(args.seed),
                "--through-airflow",
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        wall = time.monotonic() - began
        if result.returncode != 0:
            sys.exit(f"demo failed: {result.stderr[-2000:]}")
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        lists = sum(1 for _ in (home / "outbox").glob("*/*.html"))
    print(f"residents {args.residents}  days {args.days}  seed {args.seed}")
    print(
        f"wall time {wall:.1f} s  peak RSS {peak_mb:.0f} MB  "
        f"published HTML lists {lists}  cores {os.cpu_count()}"
    )


if __name__ == "__main__":
    main()
