"""OpenLineage run events for each pipeline run and each of its steps, written through a small transport.

Every daily run is one OpenLineage run (its id is the warehouse run id, a UUID) of the job `daily_run`;
each step is a child run (`daily_run.<step>`, id derived from the run id and the step name) whose parent
facet names the daily run and, under Airflow, whose root is the DAG run. Events carry job and dataset
names, checksums, counts, schemas and expectation names, never a person's identifier or pseudonym.
Writing an event never fails the run: a transport error is logged and the step goes on.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.serde import Serde
from openlineage.client.transport import Transport
from openlineage.client.transport.file import FileConfig, FileTransport

from lineage import datasets
from lineage.facets import facet as build_facet
from lineage.steps import Declared, declares
from mimamori.settings import Settings, load_settings
from warehouse.db import session_scope
from warehouse.runs import get_run
from warehouse.vocabulary import JST

log = logging.getLogger(__name__)

PIPELINE_JOB = "daily_run"
AIRFLOW_NAMESPACE = "airflow"
DAILY_DAG = "mimamori_daily"
Event = dict[str, Any]
StepFunction = Callable[..., dict[str, Any]]
# The client's own configuration: with one of these set, events go where it says (HTTP to Marquez, Kafka,
# the console...); without, to the data home's event file.
CLIENT_SETTINGS = ("OPENLINEAGE_URL", "OPENLINEAGE_CONFIG", "OPENLINEAGE__TRANSPORT")


class MemoryTransport(Transport):
    """Keeps each event as the dict it serialises to (the test double)."""

    kind = "memory"

    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Any) -> None:
        """Keep one event."""
        self.events.append(Serde.to_dict(event))


_override: list[Transport] = []


def events_path(settings: Settings) -> Path:
    """The event file of a data home."""
    return settings.path("lineage", "events.jsonl")


def file_transport(path: Path) -> FileTransport:
    """The client's file transport, appending one JSON line per event to the file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return FileTransport(FileConfig(log_file_path=str(path), append=True))


def client_configured(environ: Mapping[str, str]) -> bool:
    """Whether the OpenLineage client is configured (OPENLINEAGE_URL, an openlineage.yml, transport vars)."""
    return any(name.startswith(CLIENT_SETTINGS) and value.strip() for name, value in environ.items())


@cache
def _configured_client(configuration: tuple[tuple[str, str], ...]) -> OpenLineageClient:
    """One client per configuration (the client reads it from the environment itself).

    Reading OPENLINEAGE_URL, the client writes the transport it implies back into the environment as
    OPENLINEAGE__TRANSPORT__* variables; those are taken out again so the setting stays the one given.
    """
    before = set(os.environ)
    try:
        return OpenLineageClient()
    finally:
        for added in set(os.environ) - before:
            del os.environ[added]


def transport_for(settings: Settings, environ: Mapping[str, str] = os.environ) -> Transport:
    """The transport in force: a redirected one (tests), the client's configured one, else the event file."""
    if _override:
        return _override[-1]
    if client_configured(environ):
        own = tuple(sorted((k, v) for k, v in environ.items() if k.startswith(CLIENT_SETTINGS)))
        return _configured_client(own).transport
    return file_transport(events_path(settings))


@contextmanager
def redirected(transport: Transport) -> Iterator[Transport]:
    """Send events to another transport inside the block."""
    _override.append(transport)
    try:
        yield transport
    finally:
        _override.remove(transport)


def read_events(path: Path) -> list[Event]:
    """Every event of an event file, in order."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def job_namespace(settings: Settings) -> str:
    """The job namespace: one per municipality, so a hub's lineage stays apart."""
    return f"mimamori/{datasets.municipality_code(settings)}"


def step_run_id(run_id: str, step: str, attempt: int = 1) -> str:
    """The OpenLineage run id of one attempt at a step of a run (the same whenever it is computed again)."""
    return str(uuid.uuid5(uuid.UUID(run_id), step if attempt == 1 else f"{step}#{attempt}"))


def attempt(dag_run_id: str | None) -> int:
    """Which try of the running Airflow task this is (1 outside Airflow, or for another DAG run's task)."""
    if not dag_run_id or os.environ.get("AIRFLOW_CTX_DAG_RUN_ID") != dag_run_id:
        return 1
    number = os.environ.get("AIRFLOW_CTX_TRY_NUMBER", "1")
    return int(number) if number.isdigit() and int(number) > 0 else 1


def dag_run_uuid(dag_run_id: str, dag_id: str = DAILY_DAG) -> str:
    """A stable OpenLineage run id for an Airflow DAG run."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"airflow:{dag_id}:{dag_run_id}"))


def airflow_dag(dag_run_id: str) -> str:
    """The DAG of a DAG run, as Airflow exports it to the running task's environment (else the daily DAG)."""
    if os.environ.get("AIRFLOW_CTX_DAG_RUN_ID") == dag_run_id and os.environ.get("AIRFLOW_CTX_DAG_ID"):
        return os.environ["AIRFLOW_CTX_DAG_ID"]
    return DAILY_DAG


@dataclass(frozen=True)
class RunContext:
    """What every event of one run names: the run, its date, DAG run and code version."""

    settings: Settings
    run_id: str
    run_date: dt.date
    dag_run_id: str | None
    code_version: str

    @property
    def producer(self) -> str:
        """The producer URI: this code at its version."""
        return f"urn:mimamori:{self.code_version}"

    @property
    def namespace(self) -> str:
        """The job namespace of this run."""
        return job_namespace(self.settings)

    def facet(self, key: str, **fields: Any) -> Any:
        """The facet written under `key` (its typed class, naming this producer)."""
        return build_facet(self.producer, key, **fields)


def _context(run_id: str) -> RunContext:
    settings = load_settings()
    with session_scope(settings.database_url) as session:
        run = get_run(session, run_id)
        return RunContext(settings, run.run_id, run.run_date, run.dag_run_id, run.code_version)


def _job(ctx: RunContext, name: str, job_type: str) -> Job:
    job_facet = ctx.facet("jobType", processingType="BATCH", integration="MIMAMORI", jobType=job_type)
    return Job(namespace=ctx.namespace, name=name, facets={"jobType": job_facet})


def _run_facets(ctx: RunContext) -> dict[str, Any]:
    nominal = dt.datetime.combine(ctx.run_date, dt.time(6, 30), tzinfo=JST).astimezone(dt.UTC)
    tags = [
        {"key": "run_date", "value": ctx.run_date.isoformat(), "source": "MIMAMORI"},
        {"key": "code_version", "value": ctx.code_version, "source": "MIMAMORI"},
    ]
    if ctx.dag_run_id:
        tags.append({"key": "airflow.dag_id", "value": airflow_dag(ctx.dag_run_id), "source": "AIRFLOW"})
        tags.append({"key": "airflow.dag_run_id", "value": ctx.dag_run_id, "source": "AIRFLOW"})
    return {
        "nominalTime": ctx.facet("nominalTime", nominalStartTime=nominal.isoformat().replace("+00:00", "Z")),
        "processing_engine": ctx.facet("processing_engine", name="mimamori", version=ctx.code_version),
        "tags": ctx.facet("tags", tags=tags),
    }


# A run named for a parent facet: (job namespace, job name, run id).
RunRef = tuple[str, str, str]


def _ref(namespace: str, name: str, run_id: str) -> dict[str, Any]:
    return {"run": {"runId": run_id}, "job": {"namespace": namespace, "name": name}}


def _parent(ctx: RunContext, parent: RunRef, root: RunRef | None) -> Any:
    fields = _ref(*parent)
    if root is not None:
        fields["root"] = _ref(*root)
    return ctx.facet("parent", **fields)


def _airflow_run(ctx: RunContext) -> RunRef | None:
    """The Airflow DAG run this run belongs to, if it runs under Airflow."""
    if not ctx.dag_run_id:
        return None
    dag_id = airflow_dag(ctx.dag_run_id)
    return (AIRFLOW_NAMESPACE, dag_id, dag_run_uuid(ctx.dag_run_id, dag_id))


def _event(
    ctx: RunContext,
    event_type: str,
    run_id: str,
    job: Job,
    run_facets: dict[str, Any],
    found: datasets.StepDatasets | None = None,
) -> RunEvent:
    found = found or datasets.StepDatasets()
    return RunEvent(
        eventType=RunState(event_type),
        eventTime=dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
        run=Run(runId=run_id, facets=run_facets),
        job=job,
        producer=ctx.producer,
        inputs=[InputDataset(d.namespace, d.name, facets=d.facets, inputFacets=d.side) for d in found.inputs],
        outputs=[
            OutputDataset(d.namespace, d.name, facets=d.facets, outputFacets=d.side) for d in found.outputs
        ],
    )


def _error(ctx: RunContext, reason: str) -> Any:
    first_line = (reason.strip().splitlines() or ["failed"])[0][:300]
    return ctx.facet("errorMessage", message=first_line, programmingLanguage="PYTHON")


def _brief(problem: Exception) -> str:
    """The exception's type and first line only (a database error's later lines list its parameters)."""
    return f"{type(problem).__name__}: " + (str(problem).strip().splitlines() or [""])[0][:200]


def _emit(ctx: RunContext, event: RunEvent) -> None:
    transport_for(ctx.settings).emit(event)


def pipeline_event(run_id: str, event_type: str, reason: str | None = None) -> None:
    """START, COMPLETE or FAIL of a daily run; under Airflow its parent is the DAG run."""
    try:
        ctx = _context(run_id)
        facets = _run_facets(ctx)
        dag_run = _airflow_run(ctx)
        if dag_run is not None:
            facets["parent"] = _parent(ctx, dag_run, None)
        if reason is not None:
            facets["errorMessage"] = _error(ctx, reason)
        _emit(ctx, _event(ctx, event_type, run_id, _job(ctx, PIPELINE_JOB, "DAG"), facets))
    except Exception as problem:  # lineage must never stop the run it describes
        log.warning("OpenLineage %s event of run %s not written: %s", event_type, run_id, _brief(problem))


def step_job(step: str, partner: str | None = None) -> str:
    """The job name of a step (of one partner's share of it, when the step runs per partner)."""
    return f"{PIPELINE_JOB}.{step}" + (f".{partner}" if partner else "")


def step_event(
    run_id: str,
    step: str,
    event_type: str,
    result: dict[str, Any] | None = None,
    reason: str | None = None,
    partner: str | None = None,
) -> None:
    """One event of a step; COMPLETE carries the step's inputs and outputs."""
    try:
        ctx = _context(run_id)
        facets = _run_facets(ctx)
        facets["parent"] = _parent(ctx, (ctx.namespace, PIPELINE_JOB, ctx.run_id), _airflow_run(ctx))
        if reason is not None:
            facets["errorMessage"] = _error(ctx, reason)
        name = step_job(step, partner)
        found = datasets.for_step(ctx.settings, ctx.facet, run_id, ctx.run_date, step, result, partner)
        step_run = step_run_id(run_id, name, attempt(ctx.dag_run_id))
        _emit(ctx, _event(ctx, event_type, step_run, _job(ctx, name, "TASK"), facets, found))
    except Exception as problem:  # lineage must never stop the run it describes
        log.warning("OpenLineage %s event of step %s not written: %s", event_type, step, _brief(problem))


def step(name: str, declared: Declared) -> Callable[[StepFunction], StepFunction]:
    """Declare what a step of the day reads and writes, and wrap it to emit START, then COMPLETE or FAIL."""

    def wrap(function: StepFunction) -> StepFunction:
        declares(name, declared)(function)

        @functools.wraps(function)
        def run(run_id: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
            partner = kwargs.get("partner", args[0] if args else None)
            step_event(run_id, name, "START", partner=partner)
            try:
                result = function(run_id, *args, **kwargs)
            except Exception as problem:
                reason = f"{type(problem).__name__}: {problem}"
                step_event(run_id, name, "FAIL", reason=reason, partner=partner)
                raise
            step_event(run_id, name, "COMPLETE", result, partner=partner)
            return result

        return run

    return wrap
