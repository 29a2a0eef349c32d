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
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.serde import Serde
from openlineage.client.transport import Transport, get_default_factory
from openlineage.client.transport.file import FileConfig, FileTransport

from lineage import datasets
from lineage.facets import facet as build_facet
from lineage.steps import Declared, declares
from mimamori.settings import AirflowTask, Settings
from warehouse.vocabulary import JST

if TYPE_CHECKING:
    from mimamori.context import RunContext

log = logging.getLogger(__name__)

PIPELINE_JOB = "daily_run"
AIRFLOW_NAMESPACE = "airflow"
DAILY_DAG = "mimamori_daily"
Event = dict[str, Any]
StepFunction = Callable[..., dict[str, Any]]
# The client's own configuration: with one of these set, events go where it says (HTTP to Marquez, Kafka,
# the console...); without, to the data home's event file.


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


def client_config(environ: Mapping[str, str]) -> dict[str, Any]:
    """The client's configuration named by an environment mapping, as the client itself reads it:
    OPENLINEAGE_CONFIG (an openlineage.yml), else OPENLINEAGE_URL (HTTP, with OPENLINEAGE_ENDPOINT and
    OPENLINEAGE_API_KEY), else OPENLINEAGE__SECTION__KEY variables; empty when nothing is configured."""
    if path := environ.get("OPENLINEAGE_CONFIG", "").strip():
        return dict(yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {})
    if url := environ.get("OPENLINEAGE_URL", "").strip():
        http: dict[str, Any] = {
            "type": "http",
            "url": url,
            "endpoint": environ.get("OPENLINEAGE_ENDPOINT", "api/v1/lineage"),
        }
        if key := environ.get("OPENLINEAGE_API_KEY", "").strip():
            http["auth"] = {"type": "api_key", "apiKey": key}
        return {"transport": http}
    config: dict[str, Any] = {}
    for name, value in sorted(environ.items()):
        if not name.startswith("OPENLINEAGE__") or not value.strip():
            continue
        *parents, leaf = name.removeprefix("OPENLINEAGE__").lower().split("__")
        node = config
        for part in parents:
            node = node.setdefault(part, {})
        try:
            node[leaf] = json.loads(value)
        except ValueError:
            node[leaf] = value
    return config


@cache
def _configured_transport(configuration: str) -> Transport:
    """One transport per configuration, made by the client's transport factory from it alone (the client
    object would read the process environment and write OPENLINEAGE__* variables back into it)."""
    transport = json.loads(configuration).get("transport") or {"type": "console"}
    return get_default_factory().create(transport)


def transport_for(settings: Settings, environ: Mapping[str, str]) -> Transport:
    """The transport in force: a redirected one (tests), the client's configured one, else the event file."""
    if _override:
        return _override[-1]
    if config := client_config(environ):
        return _configured_transport(json.dumps(config, sort_keys=True))
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


def attempt(task: AirflowTask | None, dag_run_id: str | None) -> int:
    """Which try of the running Airflow task this is (1 outside Airflow, or for another DAG run's task)."""
    if not dag_run_id or task is None or task.dag_run_id != dag_run_id:
        return 1
    return task.try_number


def dag_run_uuid(dag_run_id: str, dag_id: str = DAILY_DAG) -> str:
    """A stable OpenLineage run id for an Airflow DAG run."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"airflow:{dag_id}:{dag_run_id}"))


def airflow_dag(task: AirflowTask | None, dag_run_id: str) -> str:
    """The DAG of a DAG run when the running task belongs to it (else the daily DAG)."""
    if task is not None and task.dag_run_id == dag_run_id and task.dag_id:
        return task.dag_id
    return DAILY_DAG


@dataclass(frozen=True)
class RunFacts:
    """What every event of one run names: the run, its date, DAG run and code version."""

    context: RunContext
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
        return job_namespace(self.context.settings)

    @property
    def task(self) -> AirflowTask | None:
        """The Airflow task emitting the event, if any."""
        return self.context.task

    def facet(self, key: str, **fields: Any) -> Any:
        """The facet written under `key` (its typed class, naming this producer)."""
        return build_facet(self.producer, key, **fields)


def _facts(context: RunContext, run_id: str) -> RunFacts:
    run = context.run(run_id)
    return RunFacts(context, run.run_id, run.run_date, run.dag_run_id, run.code_version)


def _job(ctx: RunFacts, name: str, job_type: str) -> Job:
    job_facet = ctx.facet("jobType", processingType="BATCH", integration="MIMAMORI", jobType=job_type)
    return Job(namespace=ctx.namespace, name=name, facets={"jobType": job_facet})


def _run_facets(ctx: RunFacts) -> dict[str, Any]:
    nominal = dt.datetime.combine(ctx.run_date, dt.time(6, 30), tzinfo=JST).astimezone(dt.UTC)
    tags = [
        {"key": "run_date", "value": ctx.run_date.isoformat(), "source": "MIMAMORI"},
        {"key": "code_version", "value": ctx.code_version, "source": "MIMAMORI"},
    ]
    if ctx.dag_run_id:
        tags.append(
            {"key": "airflow.dag_id", "value": airflow_dag(ctx.task, ctx.dag_run_id), "source": "AIRFLOW"}
        )
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


def _parent(ctx: RunFacts, parent: RunRef, root: RunRef | None) -> Any:
    fields = _ref(*parent)
    if root is not None:
        fields["root"] = _ref(*root)
    return ctx.facet("parent", **fields)


def _airflow_run(ctx: RunFacts) -> RunRef | None:
    """The Airflow DAG run this run belongs to, if it runs under Airflow."""
    if not ctx.dag_run_id:
        return None
    dag_id = airflow_dag(ctx.task, ctx.dag_run_id)
    return (AIRFLOW_NAMESPACE, dag_id, dag_run_uuid(ctx.dag_run_id, dag_id))


def _event(
    ctx: RunFacts,
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


def _error(ctx: RunFacts, reason: str) -> Any:
    first_line = (reason.strip().splitlines() or ["failed"])[0][:300]
    return ctx.facet("errorMessage", message=first_line, programmingLanguage="PYTHON")


def _brief(problem: Exception) -> str:
    """The exception's type and first line only (a database error's later lines list its parameters)."""
    return f"{type(problem).__name__}: " + (str(problem).strip().splitlines() or [""])[0][:200]


def _emit(ctx: RunFacts, event: RunEvent) -> None:
    ctx.context.lineage.emit(event)


def pipeline_event(context: RunContext, run_id: str, event_type: str, reason: str | None = None) -> None:
    """START, COMPLETE or FAIL of a daily run; under Airflow its parent is the DAG run."""
    try:
        ctx = _facts(context, run_id)
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
    context: RunContext,
    run_id: str,
    step: str,
    event_type: str,
    result: dict[str, Any] | None = None,
    reason: str | None = None,
    partner: str | None = None,
) -> None:
    """One event of a step; COMPLETE carries the step's inputs and outputs."""
    try:
        ctx = _facts(context, run_id)
        facets = _run_facets(ctx)
        facets["parent"] = _parent(ctx, (ctx.namespace, PIPELINE_JOB, ctx.run_id), _airflow_run(ctx))
        if reason is not None:
            facets["errorMessage"] = _error(ctx, reason)
        name = step_job(step, partner)
        found = datasets.for_step(
            ctx.context.settings, ctx.facet, run_id, ctx.run_date, step, result, partner
        )
        step_run = step_run_id(run_id, name, attempt(ctx.task, ctx.dag_run_id))
        _emit(ctx, _event(ctx, event_type, step_run, _job(ctx, name, "TASK"), facets, found))
    except Exception as problem:  # lineage must never stop the run it describes
        log.warning("OpenLineage %s event of step %s not written: %s", event_type, step, _brief(problem))


def step(name: str, declared: Declared) -> Callable[[StepFunction], StepFunction]:
    """Declare what a step of the day reads and writes, and wrap it to emit START, then COMPLETE or FAIL."""

    def wrap(function: StepFunction) -> StepFunction:
        declares(name, declared)(function)

        @functools.wraps(function)
        def run(context: RunContext, run_id: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
            partner = kwargs.get("partner", args[0] if args else None)
            step_event(context, run_id, name, "START", partner=partner)
            try:
                result = function(context, run_id, *args, **kwargs)
            except Exception as problem:
                reason = f"{type(problem).__name__}: {problem}"
                step_event(context, run_id, name, "FAIL", reason=reason, partner=partner)
                raise
            step_event(context, run_id, name, "COMPLETE", result, partner=partner)
            return result

        return run

    return wrap
