"""Splink 5 (DuckDB) on FEBRL4 without soc_sec_id; prints one JSON line of figures.

Runs in .venv-bench (splink is a benchmark dependency only): `make bench-venv`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

FEBRL = Path(__file__).resolve().parents[2] / "shared" / "data" / "febrl4"
COLUMNS = [
    "rec_id",
    "given_name",
    "surname",
    "street_number",
    "address_1",
    "address_2",
    "suburb",
    "postcode",
    "state",
    "date_of_birth",
]


def read(name: str) -> pd.DataFrame:
    frame = pd.read_csv(FEBRL / name, dtype=str, skipinitialspace=True, keep_default_na=False)
    frame.columns = [c.strip() for c in frame.columns]
    frame = frame[COLUMNS].apply(lambda s: s.str.strip()).replace("", None)
    return frame.rename(columns={"rec_id": "unique_id"})


def main() -> None:
    a, b = read("dataset4a.csv"), read("dataset4b.csv")
    start = time.monotonic()
    db_api = DuckDBAPI()
    settings = SettingsCreator(
        link_type="link_only",
        blocking_rules_to_generate_predictions=[
            block_on("given_name"),
            block_on("surname"),
            block_on("date_of_birth"),
            block_on("postcode"),
            block_on("address_1"),
            block_on("suburb"),
        ],
        comparisons=[
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.DamerauLevenshteinAtThresholds("date_of_birth", [1, 2]),
            cl.DamerauLevenshteinAtThresholds("street_number", [1]),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.8]),
            cl.JaroWinklerAtThresholds("address_2", [0.9, 0.8]),
            cl.JaroWinklerAtThresholds("suburb", [0.9, 0.8]),
            cl.DamerauLevenshteinAtThresholds("postcode", [1]),
            cl.ExactMatch("state"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker([db_api.register(a), db_api.register(b)], settings, log_level=None)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("surname"))
    pairs = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
    took = time.monotonic() - start
    # one link per duplicate: its best-scoring original
    best = pairs.sort_values("match_probability", ascending=False).drop_duplicates("unique_id_r")
    pairs_found = zip(best["unique_id_l"], best["unique_id_r"], strict=True)
    true = sum(left.split("-")[1] == right.split("-")[1] for left, right in pairs_found)
    false = len(best) - true
    precision, recall = true / max(len(best), 1), true / len(b)
    print(
        json.dumps(
            {
                "precision": precision,
                "recall": recall,
                "f1": 2 * precision * recall / (precision + recall),
                "false_links": false,
                "seconds": took,
            }
        )
    )


if __name__ == "__main__":
    main()
