"""Print how a town's published lists compare with its ground truth.

    MIMAMORI_HOME=var .venv/bin/python bench/evaluate_town.py [--truth var.truth.json]

Figures: entries per day and tier, entries that break eligibility (must be 0), urgent entries
outside the scenarios (false-alarm pressure), and for each scenario resident the day first listed.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from mimamori.evaluation import evaluate


def main() -> None:
    home = Path(os.environ.get("MIMAMORI_HOME", "var")).resolve()
    parser = argparse.ArgumentParser()
    parser.add_argument("--truth", type=Path, default=home.with_name(home.name + ".truth.json"))
    args = parser.parse_args()
    truth = json.loads(args.truth.read_text(encoding="utf-8"))
    days = [d for d in truth["run_dates"] if (home / "outbox" / d).is_dir()]
    result = evaluate(home, args.truth, days)
    print(
        f"days evaluated: {len(days)}  entries: {result.entries}  "
        f"ineligible entries: {len(result.ineligible)}  "
        f"urgent outside scenarios: {result.unexpected_urgent}"
    )
    for day, tiers in result.per_day.items():
        print(f"  {day}  urgent {tiers['urgent']:3d}  high {tiers['high']:3d}  watch {tiers['watch']:3d}")
    print("scenarios (expected from / tier → first listed / tiers):")
    for s in result.scenarios:
        tiers = ", ".join(f"{d[5:]}:{t}" for d, t in s["tiers"].items())
        print(
            f"  {s['scenario']:14s} {s['resident_id']}  expected {s['expected_from'] or '-'} "
            f"{s['expected_tier'] or '-':7s} → first {s['first_listed'] or '-'}  {tiers}"
        )


if __name__ == "__main__":
    main()
