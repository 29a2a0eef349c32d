"""Run a sector's suite on a pseudonymised frame with Great Expectations, keeping values out of results."""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from functools import cache
from typing import Any

import pandas as pd

# Results must never carry a value: no samples, no unexpected lists, no partial lists.
RESULT_FORMAT = {"result_format": "BOOLEAN_ONLY"}


@dataclass(frozen=True)
class Validation:
    """The verdict on one batch: success, and the failed expectations by name (no values)."""

    success: bool
    evaluated: int
    failed: tuple[str, ...]


@cache
def _context() -> tuple[Any, Any, Any]:
    os.environ["GX_ANALYTICS_ENABLED"] = "False"
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        progress_bars=ProgressBarsConfig(globally=False),
        analytics_enabled=False,
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    asset = context.data_sources.add_pandas("mimamori").add_dataframe_asset("signals")
    return gx, gxe, asset.add_batch_definition_whole_dataframe("batch")


@cache
def _suite(sector: str) -> Any:
    gx, gxe, _ = _context()
    module = importlib.import_module(f"expectations.suites.{sector}")
    suite = gx.ExpectationSuite(name=f"mimamori_{sector}")
    for expectation in module.expectations(gxe):
        suite.add_expectation(expectation)
    return suite


def _describe(result: Any) -> str:
    config = result.expectation_config
    column = config.kwargs.get("column")
    return f"{config.type}({column})" if column else str(config.type)


def validate(frame: pd.DataFrame, sector: str) -> Validation:
    """Validate a sector's pseudonymised frame; the outcome names failed expectations only."""
    _, _, batch_definition = _context()
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(_suite(sector), result_format=RESULT_FORMAT)
    failed = tuple(sorted(_describe(r) for r in result.results if not r.success))
    return Validation(bool(result.success), len(result.results), failed)
