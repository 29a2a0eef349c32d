"""Run a sector's suite on a pseudonymised frame with Great Expectations, keeping values out of results.

With a data home, results are kept in a file-backed GX project under `<home>/gx/` (one validation
definition per delivery) and Data Docs are built there for auditors; without one (unit tests), an
ephemeral context is used. Either way the result format is BOOLEAN_ONLY: no value ever reaches a result.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

RESULT_FORMAT = {"result_format": "BOOLEAN_ONLY"}
DATA_DOCS = Path("gx") / "uncommitted" / "data_docs" / "local_site" / "index.html"


@dataclass(frozen=True)
class Validation:
    """The verdict on one batch: success, and the failed expectations by name (no values)."""

    success: bool
    evaluated: int
    failed: tuple[str, ...]


@dataclass(frozen=True)
class _Gx:
    gx: Any
    gxe: Any
    context: Any
    batches: Any


def _get_or_add(getter: Any, adder: Any, name: str) -> Any:
    try:
        return getter(name)
    except (LookupError, ValueError):
        return adder(name)


@cache
def _gx(home: str | None) -> _Gx:
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    context: Any
    if home is None:
        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(),
            progress_bars=ProgressBarsConfig(globally=False),
            analytics_enabled=False,
        )
        context = gx.get_context(mode="ephemeral", project_config=config)
    else:
        context = gx.get_context(mode="file", project_root_dir=home)
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        context.variables.analytics_enabled = False
        context.variables.save()
    source = _get_or_add(context.data_sources.get, context.data_sources.add_pandas, "mimamori")
    asset = _get_or_add(source.get_asset, source.add_dataframe_asset, "signals")
    batches = _get_or_add(asset.get_batch_definition, asset.add_batch_definition_whole_dataframe, "batch")
    return _Gx(gx, gxe, context, batches)


@cache
def _suite(home: str | None, sector: str) -> Any:
    g = _gx(home)
    module = importlib.import_module(f"expectations.suites.{sector}")
    suite = g.gx.ExpectationSuite(name=f"mimamori_{sector}")
    for expectation in module.expectations(g.gxe):
        suite.add_expectation(expectation)
    return g.context.suites.add_or_update(suite) if home else suite


def _describe(result: Any) -> str:
    config = result.expectation_config
    column = config.kwargs.get("column")
    return f"{config.type}({column})" if column else str(config.type)


def validate(frame: pd.DataFrame, sector: str, *, home: Path | None = None, name: str = "") -> Validation:
    """Validate a sector's pseudonymised frame; with a home, the result is kept under `name` for Data Docs."""
    key = str(home) if home else None
    g, suite = _gx(key), _suite(key, sector)
    if key and name:
        definition = g.context.validation_definitions.add_or_update(
            g.gx.ValidationDefinition(data=g.batches, suite=suite, name=name)
        )
        result = definition.run(batch_parameters={"dataframe": frame}, result_format=RESULT_FORMAT)
    else:
        batch = g.batches.get_batch(batch_parameters={"dataframe": frame})
        result = batch.validate(suite, result_format=RESULT_FORMAT)
    failed = tuple(sorted(_describe(r) for r in result.results if not r.success))
    return Validation(bool(result.success), len(result.results), failed)


def build_data_docs(home: Path) -> Path:
    """Build the Data Docs of every kept validation result into the data home; returns the index page."""
    _gx(str(home)).context.build_data_docs()
    return home / DATA_DOCS
