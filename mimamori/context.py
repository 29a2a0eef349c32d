"""What an entry point builds once and hands down: settings, municipality, partners, rules and storage.

An entry point (a CLI command, a DAG task in `mimamori.jobs`, a hub task, the eval and the demo) builds
one RunContext from the environment it was handed; nothing below it reads the environment or the
settings again. Several contexts, each from its own mapping, live side by side (the hub, the eval).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from connectors.registry import Partner, load_registry
from lineage.events import Transport, transport_for
from mimamori.municipality import Municipality, load_municipality
from mimamori.settings import AirflowTask, Settings, airflow_task, load_settings, process_environment
from warehouse.db import migrate, session_scope
from warehouse.models import PipelineRun
from warehouse.runs import get_run
from watchlist.rules import RuleSet, load_rules


@dataclass(frozen=True)
class Storage:
    """The folders of a data home that the pipeline reads and writes."""

    inbox: Path  # partners' drop folders
    released: Path  # deliveries a steward released from quarantine
    quarantine: Path
    outbox: Path  # the published lists, one folder per day
    register: Path

    @classmethod
    def of(cls, settings: Settings) -> Storage:
        """The folders of the settings' data home."""
        home = settings.path
        return cls(
            inbox=home("inbox"),
            released=home("released"),
            quarantine=home("quarantine"),
            outbox=home("outbox"),
            register=home("register"),
        )


@dataclass(frozen=True)
class RunContext:
    """One data home's settings and what is read from it, resolved once per entry point and passed down."""

    settings: Settings
    task: AirflowTask | None = None  # the Airflow task running this, if any
    environ: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def open(cls, environ: Mapping[str, str]) -> RunContext:
        """The context of the home an environment mapping names (nothing else is read from anywhere)."""
        return cls(load_settings(environ), airflow_task(environ), dict(environ))

    @classmethod
    def from_environment(cls) -> RunContext:
        """The context of the process environment: for entry points only."""
        return cls.open(process_environment())

    def reloaded(self) -> RunContext:
        """The same environment resolved again (after a development key file changed)."""
        return RunContext.open(self.environ)

    def with_warehouse(self) -> RunContext:
        """This context, the warehouse brought up to date (a new warehouse's empty log signed first)."""
        open_warehouse(self.settings)
        return self

    @cached_property
    def storage(self) -> Storage:
        """The data home's folders."""
        return Storage.of(self.settings)

    @cached_property
    def municipality(self) -> Municipality:
        """The municipality the home serves (municipality.yaml)."""
        return load_municipality(self.settings.path("municipality.yaml"))

    @cached_property
    def partners(self) -> dict[str, Partner]:
        """The partner registry (partners.yaml), by partner id."""
        return load_registry(self.settings.path("partners.yaml"))

    @cached_property
    def rules(self) -> RuleSet:
        """The watchlist rules in force (shipped, overridden by the home's rules.yaml)."""
        return load_rules(self.settings.home)

    @property
    def lineage(self) -> Transport:
        """Where this home's lineage events go."""
        return transport_for(self.settings, self.environ)

    def run(self, run_id: str) -> PipelineRun:
        """A pipeline run of this home's warehouse (detached), or NotFoundError."""
        with session_scope(self.settings.database_url) as session:
            return get_run(session, run_id)


def open_warehouse(settings: Settings) -> Settings:
    """The warehouse brought up to date; a new warehouse's empty log is signed before anything is written."""
    from mimamori import daily

    migrate(settings.database_url)
    daily.start_audit(settings)
    return settings


def warehouse_settings() -> Settings:
    """Settings of the process environment, warehouse up to date: for CLI commands (entry points) only."""
    return RunContext.from_environment().with_warehouse().settings
