"""FEBRL4 with our linker (the same engine as for residents, an English schema) and Splink 5 beside it.

    .venv/bin/python bench/linkage_febrl.py

Splink runs in its own environment (`make bench-venv` creates .venv-bench with splink and duckdb,
kept out of the product's dependencies); without it, only our figures are printed.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from febrl4 import read

from identity.scoring import LINK, REVIEW, Comparison, Linker, Schema, near_date, near_edit, near_jaro_winkler

ROOT = Path(__file__).resolve().parents[1]
LINK_AT, REVIEW_AT = 9.0, 6.0
# Disagreement costs little: a corrupted duplicate often has one field entirely wrong.
SCHEMA = Schema(
    comparisons=(
        Comparison("given_name", 4.0, 2.0, -1.0, near_jaro_winkler(0.88), "surname"),
        Comparison("surname", 5.0, 2.5, -1.5, near_jaro_winkler(0.88), "given_name"),
        Comparison("date_of_birth", 6.0, 3.0, -1.5, near_date),
        Comparison("street_number", 3.0, 1.0, -1.0, near_edit),
        Comparison("address_1", 5.0, 2.5, -1.0, near_jaro_winkler(0.88), "address_2"),
        Comparison("address_2", 4.0, 2.0, -0.5, near_jaro_winkler(0.88), "address_1"),
        Comparison("suburb", 3.0, 1.5, -1.0, near_jaro_winkler(0.88)),
        Comparison("postcode", 3.0, 1.5, -1.0, near_edit),
        Comparison("state", 0.5, 0.0, -0.5),
    ),
    blocks=(
        ("surname",),
        ("given_name",),
        ("names",),
        ("date_of_birth",),
        ("postcode",),
        ("address_1",),
        ("address_2",),
        ("suburb",),
        ("street_number", "suburb"),
    ),
    link_at=LINK_AT,
    review_at=REVIEW_AT,
    margin=2.0,
)


def ours() -> dict[str, float]:
    originals, duplicates = read("dataset4a.csv"), read("dataset4b.csv")
    start = time.monotonic()
    linker = Linker(SCHEMA, {p.rec_id: p for p in originals})
    by_id = {p.rec_id: p for p in originals}
    tp = fp = review = 0
    for dup in duplicates:
        decision = linker.decide(dup)
        review += decision.outcome == REVIEW
        if decision.outcome == LINK and decision.resident is not None:
            if by_id[decision.resident].entity == dup.entity:
                tp += 1
            else:
                fp += 1
    took = time.monotonic() - start
    fn = len(duplicates) - tp
    precision, recall = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    return {
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall),
        "false_links": fp,
        "review": review / len(duplicates),
        "seconds": took,
    }


def splink() -> dict[str, float] | None:
    python = ROOT / ".venv-bench" / "bin" / "python"
    if not python.exists():
        return None
    out = subprocess.run(
        [str(python), str(ROOT / "bench" / "febrl_splink.py")], capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    rows = [("mimamori", ours())]
    theirs = splink()
    if theirs is not None:
        rows.append(("splink 5", theirs))
    for name, r in rows:
        print(
            f"{name:9s} P {r['precision']:.4f}  R {r['recall']:.4f}  F1 {r['f1']:.4f}  "
            f"false links {int(r['false_links'])}  review {r.get('review', 0.0):.2%}  "
            f"wall {r['seconds']:.2f} s"
        )
    if theirs is None:
        print("splink: not installed here (make bench-venv)")


if __name__ == "__main__":
    main()
