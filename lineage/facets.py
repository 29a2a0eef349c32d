"""The facets our events carry, as the typed classes of `openlineage-python` (and one class of our own).

`facet(producer, key, **fields)` builds the facet written under `key` from plain fields, so the code that
knows what a dataset or run is (`lineage/datasets.py`, `lineage/events.py`) never spells a schema URL.
Every standard facet class carries the schema URL of its version (all vendored with the OpenLineage spec);
the delivery facet is ours, its schema in `delivery_facet.json`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import attr
from openlineage.client.facet_v2 import (
    DatasetFacet,
    data_quality_assertions_dataset,
    dataset_version_dataset,
    error_message_run,
    input_statistics_input_dataset,
    job_type_job,
    nominal_time_run,
    output_statistics_output_dataset,
    parent_run,
    processing_engine_run,
    schema_dataset,
    tags_run,
)


@attr.define
class DeliveryDatasetFacet(DatasetFacet):
    """A partner delivery as received: partner, delivery id, sector, status, receipt time, each file's
    checksum and row count (never its contents)."""

    partner: str
    deliveryId: str
    sector: str
    status: str
    receivedAt: str
    files: list[dict[str, Any]] = attr.field(factory=list)

    _additional_skip_redact: ClassVar[list[str]] = ["partner", "deliveryId", "sector", "status", "files"]

    @staticmethod
    def _get_schema() -> str:
        return "urn:mimamori:openlineage:DeliveryDatasetFacet:1-0-0#/$defs/DeliveryDatasetFacet"


def _ref(run_id: str, namespace: str, name: str) -> tuple[parent_run.Run, parent_run.Job]:
    return parent_run.Run(runId=run_id, facets=None), parent_run.Job(namespace, name, facets=None)


def _parent(run: dict[str, str], job: dict[str, str], root: dict[str, Any] | None = None, **p: Any) -> Any:
    own_run, own_job = _ref(run["runId"], job["namespace"], job["name"])
    found = None
    if root is not None:
        found = parent_run.Root(
            run=parent_run.RootRun(runId=root["run"]["runId"], facets=None),
            job=parent_run.RootJob(root["job"]["namespace"], root["job"]["name"], facets=None),
        )
    return parent_run.ParentRunFacet(run=own_run, job=own_job, root=found, **p)


def _schema(fields: list[dict[str, Any]], **p: Any) -> Any:
    return schema_dataset.SchemaDatasetFacet(
        fields=[schema_dataset.SchemaDatasetFacetFields(**f, fields=None) for f in fields], **p
    )


def _tags(tags: list[dict[str, str]], **p: Any) -> Any:
    return tags_run.TagsRunFacet(tags=[tags_run.TagsRunFacetFields(**t) for t in tags], **p)


def _assertions(assertions: list[dict[str, Any]], **p: Any) -> Any:
    return data_quality_assertions_dataset.DataQualityAssertionsDatasetFacet(
        assertions=[data_quality_assertions_dataset.Assertion(**a, params=None) for a in assertions], **p
    )


# Facet key -> how it is built from its fields (plus `producer`).
BUILDERS: dict[str, Callable[..., Any]] = {
    "parent": _parent,
    "nominalTime": nominal_time_run.NominalTimeRunFacet,
    "processing_engine": processing_engine_run.ProcessingEngineRunFacet,
    "tags": _tags,
    "errorMessage": error_message_run.ErrorMessageRunFacet,
    "jobType": job_type_job.JobTypeJobFacet,
    "schema": _schema,
    "version": dataset_version_dataset.DatasetVersionDatasetFacet,
    "dataQualityAssertions": _assertions,
    "inputStatistics": input_statistics_input_dataset.InputStatisticsInputDatasetFacet,
    "outputStatistics": output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet,
    "mimamori_delivery": DeliveryDatasetFacet,
}


def facet(producer: str, key: str, **fields: Any) -> Any:
    """The facet written under `key`, built from its fields, naming this producer."""
    return BUILDERS[key](**fields, producer=producer)
