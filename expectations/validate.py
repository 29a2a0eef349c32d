"""Run a sector's suite on a pseudonymised frame with Great Expectations, keeping values out of results.

With a data home, each sector has one validation definition and one Checkpoint in a file-backed GX project
under `<home>/gx/`. A delivery runs its sector's Checkpoint under a run name of `partner/delivery`: GX stores
the result (keyed by suite, run name and time) and the Checkpoint's action updates the Data Docs for
auditors; `expire_results` deletes results past their retention period. Without a home (unit tests), an
ephemeral context is used. Either way the result format is BOOLEAN_ONLY: no value ever reaches a result.
"""

from __future__ import annotations

import datetime as dt
import importlib
import shutil
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

RESULT_FORMAT = {"result_format": "BOOLEAN_ONLY"}
SITE = Path("gx") / "uncommitted" / "data_docs" / "local_site"
DATA_DOCS = SITE / "index.html"


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
    source: Any


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
    return _Gx(gx, gxe, context, source)


@cache
def _batches(home: str | None, sector: str) -> Any:
    """The sector's whole-frame batch definition: its data asset is named after the sector."""
    source = _gx(home).source
    asset = _get_or_add(source.get_asset, source.add_dataframe_asset, sector)
    return _get_or_add(asset.get_batch_definition, asset.add_batch_definition_whole_dataframe, "batch")


@cache
def _suite(home: str | None, sector: str) -> Any:
    g = _gx(home)
    module = importlib.import_module(f"expectations.suites.{sector}")
    suite = g.gx.ExpectationSuite(name=f"mimamori_{sector}")
    for expectation in module.expectations(g.gxe):
        suite.add_expectation(expectation)
    return g.context.suites.add_or_update(suite) if home else suite


@cache
def _checkpoint(home: str, sector: str) -> Any:
    """The sector's Checkpoint over its one validation definition; definitions of other names are removed."""
    g = _gx(home)
    from great_expectations.checkpoint import UpdateDataDocsAction

    name = f"mimamori_{sector}"
    definition = g.context.validation_definitions.add_or_update(
        g.gx.ValidationDefinition(data=_batches(home, sector), suite=_suite(home, sector), name=name)
    )
    _remove_stale_definitions(home)
    checkpoint = g.gx.Checkpoint(
        name=name,
        validation_definitions=[definition],
        actions=[UpdateDataDocsAction(name="update_data_docs")],
        result_format=RESULT_FORMAT,
    )
    return g.context.checkpoints.add_or_update(checkpoint)


def _remove_stale_definitions(home: str) -> None:
    """Delete validation definitions that no Checkpoint runs (one per delivery, as earlier versions made)."""
    from connectors.sectors import SECTORS

    context = _gx(home).context
    wanted = {f"mimamori_{sector}" for sector in SECTORS}
    for definition in list(context.validation_definitions.all()):
        if definition.name not in wanted:
            context.validation_definitions.delete(definition.name)


def _describe(result: Any) -> str:
    config = result.expectation_config
    column = config.kwargs.get("column")
    return f"{config.type}({column})" if column else str(config.type)


def validate(frame: pd.DataFrame, sector: str, *, home: Path | None = None, name: str = "") -> Validation:
    """Validate a sector's pseudonymised frame; with a home, the result is kept under `name` for Data Docs."""
    key = str(home) if home else None
    if key and name:
        from great_expectations.core.run_identifier import RunIdentifier

        run_id = RunIdentifier(run_name=name, run_time=dt.datetime.now(dt.UTC))
        done = _checkpoint(key, sector).run(batch_parameters={"dataframe": frame}, run_id=run_id)
        (result,) = done.run_results.values()
    else:
        batch = _batches(key, sector).get_batch(batch_parameters={"dataframe": frame})
        result = batch.validate(_suite(key, sector), result_format=RESULT_FORMAT)
    failed = tuple(sorted(_describe(r) for r in result.results if not r.success))
    return Validation(bool(result.success), len(result.results), failed)


def expire_results(home: Path, before: dt.datetime) -> int:
    """Delete validation results run before `before` (UTC) and rebuild the Data Docs; returns how many."""
    if not (home / "gx").is_dir():
        return 0
    context = _gx(str(home)).context
    store = context.validation_results_store
    old = [key for key in store.list_keys() if _run_time(key) < before.replace(tzinfo=dt.UTC)]
    for key in old:
        store.remove_key(key)
    if old:
        shutil.rmtree(home / SITE, ignore_errors=True)  # pages of deleted results go with them
        context.build_data_docs()
    return len(old)


def _run_time(key: Any) -> dt.datetime:
    run_time: dt.datetime = key.run_id.run_time
    return run_time if run_time.tzinfo else run_time.replace(tzinfo=dt.UTC)
