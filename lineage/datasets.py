"""The datasets each step of the day reads and writes, as OpenLineage inputs and outputs with their facets.

Deliveries carry their checksums, row counts, the schema of the signal columns that cross the ingest
boundary and the Great Expectations verdict (expectation names and success only); warehouse tables
carry their schema; published lists and the register and consent files carry a checksum of their bytes.
Which tables and files a step reads and writes comes from the declaration beside the step (see
`lineage/steps.py`). Dataset names are paths and table names: no value of any row ever appears here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from consent.importer import due_files
from identity.register import newest_extract
from lineage.steps import FileIn, declared_for
from mimamori.municipality import load_municipality
from mimamori.settings import Settings
from warehouse.db import session_scope
from warehouse.errors import InputError
from warehouse.load import SIGNAL_COLUMNS
from warehouse.models import Base, ConsentForm, Delivery, ValidationResult, WatchlistEntry

Facet = Callable[..., Any]


@dataclass
class Dataset:
    """A dataset read or written: its name, its facets, and the facets of this reading or writing."""

    namespace: str
    name: str
    facets: dict[str, Any]
    side: dict[str, Any] = field(default_factory=dict)


@dataclass
class StepDatasets:
    """What one step read and wrote."""

    inputs: list[Dataset] = field(default_factory=list)
    outputs: list[Dataset] = field(default_factory=list)


def municipality_code(settings: Settings) -> str:
    """The municipality code of the data home (`default` before a municipality is configured)."""
    try:
        return load_municipality(settings.path("municipality.yaml")).code
    except InputError:
        return "default"


def warehouse_namespace(database_url: str) -> tuple[str, str]:
    """The dataset namespace and table-name prefix of the warehouse (never its credentials)."""
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        return f"postgres://{url.host or 'localhost'}:{url.port or 5432}", f"{url.database}.public"
    return f"sqlite://{url.database}", "main"


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def delivery_version(files: list[dict[str, Any]]) -> str:
    """A delivery's version: its file's SHA-256, or for several files the SHA-256 of `name sha256` lines."""
    if len(files) == 1:
        return str(files[0]["sha256"])
    lines = "\n".join(f"{f['name']} {f['sha256']}" for f in sorted(files, key=lambda f: f["name"]))
    return hashlib.sha256(lines.encode()).hexdigest()


def _fields(columns: Iterable[Any]) -> list[dict[str, Any]]:
    return [
        {"name": column.name, "type": str(column.type), "ordinal_position": position}
        for position, column in enumerate(columns, start=1)
    ]


def signal_fields() -> list[dict[str, Any]]:
    """Schema fields of the pseudonymous signal columns that cross the ingest boundary."""
    table = Base.metadata.tables["signals"]
    return _fields(table.columns[name] for name in SIGNAL_COLUMNS)


def table(settings: Settings, facet: Facet, name: str, rows: int | None = None) -> Dataset:
    """A warehouse table as a dataset with its schema (and, for an output, the rows written)."""
    namespace, prefix = warehouse_namespace(settings.database_url)
    schema = facet("schema", fields=_fields(Base.metadata.tables[name].columns))
    dataset = Dataset(namespace, f"{prefix}.{name}", {"schema": schema})
    if rows is not None:
        dataset.side = {"outputStatistics": facet("outputStatistics", rowCount=rows)}
    return dataset


def file_dataset(facet: Facet, path: Path, output_rows: int | None = None) -> Dataset:
    """A file as a dataset named by its path, versioned by the SHA-256 of its bytes."""
    dataset = Dataset("file", str(path), {"version": facet("version", datasetVersion=sha256_file(path))})
    if output_rows is None:
        size = path.stat().st_size
        dataset.side = {"inputStatistics": facet("inputStatistics", size=size, fileCount=1)}
    else:
        dataset.side = {"outputStatistics": facet("outputStatistics", rowCount=output_rows)}
    return dataset


@cache
def suite_expectations(sector: str) -> tuple[tuple[str, str | None], ...]:
    """(expectation type, column) of each expectation in a sector's suite, in suite order."""
    import great_expectations.expectations as gxe

    module = importlib.import_module(f"expectations.suites.{sector}")
    found = []
    for expectation in module.expectations(gxe):
        config = expectation.configuration
        found.append((str(config.type), config.kwargs.get("column")))
    return tuple(found)


def assertions(result: ValidationResult) -> list[dict[str, Any]]:
    """Each expectation of the suite with its success: names only, never a value."""
    failed = set(result.failed)
    found = []
    for kind, column in suite_expectations(result.suite.removeprefix("mimamori_")):
        name = f"{kind}({column})" if column else kind
        assertion: dict[str, Any] = {"assertion": kind, "name": name, "success": name not in failed}
        if column:
            assertion["column"] = column
        found.append(assertion)
    return found


def delivery(settings: Settings, facet: Facet, d: Delivery, result: ValidationResult | None) -> Dataset:
    """One delivery as an input: checksums, rows, signal schema, status and its validation verdict."""
    files = [{"name": f["name"], "sha256": f["sha256"], "rows": f["rows"]} for f in d.files]
    facets: dict[str, Any] = {
        "schema": facet("schema", fields=signal_fields()),
        "mimamori_delivery": facet(
            "mimamori_delivery",
            partner=d.partner_id,
            deliveryId=d.delivery_id,
            sector=d.sector or "",
            status=d.status,
            receivedAt=d.received_at.replace(tzinfo=dt.UTC).isoformat().replace("+00:00", "Z"),
            files=files,
        ),
    }
    if files:
        facets["version"] = facet("version", datasetVersion=delivery_version(files))
    input_facets: dict[str, Any] = {
        "inputStatistics": facet("inputStatistics", rowCount=d.rows_total, fileCount=len(files))
    }
    if result is not None:
        input_facets["dataQualityAssertions"] = facet("dataQualityAssertions", assertions=assertions(result))
    return Dataset("file", str(settings.path("inbox", d.partner_id, d.delivery_id)), facets, input_facets)


def _deliveries(
    session: Session, settings: Settings, facet: Facet, run_id: str, partner: str | None
) -> list[Dataset]:
    query = (
        select(Delivery, ValidationResult)
        .outerjoin(ValidationResult, ValidationResult.delivery_pk == Delivery.id)
        .where(Delivery.run_id == run_id)
        .order_by(Delivery.partner_id, Delivery.delivery_id)
    )
    if partner is not None:
        query = query.where(Delivery.partner_id == partner)
    rows = session.execute(query).all()
    return [delivery(settings, facet, d, result) for d, result in rows]


def _published(session: Session, settings: Settings, facet: Facet, run_date: dt.date) -> list[Dataset]:
    counts = dict(
        session.execute(
            select(WatchlistEntry.district_code, func.count())
            .where(WatchlistEntry.run_date == run_date)
            .group_by(WatchlistEntry.district_code)
        ).all()
    )
    folder = settings.path("outbox", run_date.isoformat())
    files = sorted(folder.iterdir()) if folder.is_dir() else []
    return [file_dataset(facet, path, int(counts.get(path.stem, 0))) for path in files if path.is_file()]


def _consent_files(settings: Settings, facet: Facet, run_date: dt.date) -> list[Dataset]:
    """Consent forms due on the day: those still in `consents/` and those imported that day and sealed."""
    paths = due_files(settings.path("consents"), run_date)
    found = [file_dataset(facet, path) for path in paths]
    with session_scope(settings.database_url) as session:
        forms = session.execute(select(ConsentForm).where(ConsentForm.imported_on == run_date)).scalars()
        found += [
            Dataset(
                "file",
                str(settings.path("consents", form.name)),
                {"version": facet("version", datasetVersion=form.sha256)},
                {"inputStatistics": facet("inputStatistics", fileCount=1)},
            )
            for form in forms
            if settings.path("consents", form.name) not in paths
        ]
    return found


def _rows_written(step: str, result: dict[str, Any]) -> dict[str, int]:
    """Rows a step wrote to its main table, from the step's own summary."""
    if step == "ingest":
        return {"signals": int(result.get("rows_loaded", 0))}
    if step == "build" and "skipped" not in result:
        return {"watchlist_entries": sum(int(n) for n in result.get("tiers", {}).values())}
    return {}


def _file_inputs(
    settings: Settings,
    facet: Facet,
    run_id: str,
    run_date: dt.date,
    kinds: tuple[FileIn, ...],
    partner: str | None,
) -> list[Dataset]:
    """The files a step read, of the kinds it declares: register and consent files, inbox deliveries."""
    found: list[Dataset] = []
    if "register" in kinds and (register := newest_extract(settings.path("register"), run_date)):
        found.append(file_dataset(facet, register))
    if "consents" in kinds:
        found += _consent_files(settings, facet, run_date)
    if "inbox" in kinds:
        with session_scope(settings.database_url) as session:
            found += _deliveries(session, settings, facet, run_id, partner)
    return found


def for_step(
    settings: Settings,
    facet: Facet,
    run_id: str,
    run_date: dt.date,
    step: str,
    result: dict[str, Any] | None,
    partner: str | None = None,
) -> StepDatasets:
    """Inputs and outputs a step declares; without a result (START, FAIL) only the tables it works on."""
    declared = declared_for(step)
    written = {} if result is None else _rows_written(step, result)
    found = StepDatasets(
        inputs=[table(settings, facet, name) for name in declared.reads],
        outputs=[table(settings, facet, name, written.get(name)) for name in declared.writes],
    )
    if result is None:
        return found
    found.inputs = (
        _file_inputs(settings, facet, run_id, run_date, declared.reads_files, partner) + found.inputs
    )
    if "outbox" in declared.writes_files:
        with session_scope(settings.database_url) as session:
            found.outputs = _published(session, settings, facet, run_date) + found.outputs
    return found
