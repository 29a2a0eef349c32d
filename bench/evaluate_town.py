"""Print how a town's published lists compare with its ground truth (the figures of `mimamori eval`).

    MIMAMORI_HOME=var .venv/bin/python bench/evaluate_town.py [--truth var.truth.json] [--json out.json]

For a home already run (for instance by `mimamori demo --through-airflow`): collapse recall, false
alarms, slow cases, urgent entries during a known hospital stay, privacy checks and missed cases.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from mimamori_demo.eval_run import judge, report_lines


def main() -> None:
    home = Path(os.environ.get("MIMAMORI_HOME", "var")).resolve()
    parser = argparse.ArgumentParser()
    parser.add_argument("--truth", type=Path, default=home.with_name(home.name + ".truth.json"))
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    truth = json.loads(args.truth.read_text(encoding="utf-8"))
    days = [d for d in truth["run_dates"] if (home / "outbox" / d).is_dir()]
    result = {**judge(home, truth, days), "outcomes_recorded": None}
    print("\n".join(report_lines(result)))
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
