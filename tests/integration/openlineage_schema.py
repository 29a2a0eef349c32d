"""Validation of OpenLineage events against the JSON Schema vendored in ../shared (never the network).

Each event is checked against the core RunEvent schema, and each facet against the schema its
`_schemaURL` names (the vendored standard facets, or the project's own delivery facet), under the key the
schema gives it. Tests skip, saying why, when the shared folder is not beside the repository.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT.parent / "shared" / "vendor" / "openlineage-spec"
OWN_FACETS = (ROOT / "lineage" / "delivery_facet.json",)
needs_spec = pytest.mark.skipif(
    not (SPEC / "OpenLineage.json").exists(),
    reason=f"the vendored OpenLineage spec is not beside this checkout ({SPEC})",
)


@cache
def _documents() -> tuple[dict[str, Any], ...]:
    paths = [SPEC / "OpenLineage.json", *sorted((SPEC / "facets").glob("*.json")), *OWN_FACETS]
    return tuple(json.loads(path.read_text(encoding="utf-8")) for path in paths)


@cache
def registry() -> Registry:
    """Every vendored schema (and ours) under its `$id`."""
    return Registry().with_resources(
        (doc["$id"], Resource.from_contents(doc, default_specification=DRAFT202012)) for doc in _documents()
    )


@cache
def facet_keys() -> dict[str, frozenset[str]]:
    """Schema id -> the keys a facet of that schema is written under."""
    return {doc["$id"]: frozenset(doc.get("properties", {})) for doc in _documents()}


def _validator(ref: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": ref}, registry=registry(), format_checker=FormatChecker())


def _facets(event: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    yield from (("run", k, v) for k, v in event["run"].get("facets", {}).items())
    yield from (("job", k, v) for k, v in event["job"].get("facets", {}).items())
    for side in ("inputs", "outputs"):
        for index, dataset in enumerate(event.get(side, [])):
            for group in ("facets", "inputFacets", "outputFacets"):
                for key, facet in dataset.get(group, {}).items():
                    yield f"{side}[{index}].{group}", key, facet


def problems(event: dict[str, Any]) -> list[str]:
    """Every way the event departs from the vendored schema; empty when it validates."""
    found = [f"event: {e.message}" for e in _validator(event.get("schemaURL", "")).iter_errors(event)]
    if found:
        return found
    try:
        uuid.UUID(event["run"]["runId"])
        dt.datetime.fromisoformat(event["eventTime"])
    except ValueError as problem:
        found.append(f"event: {problem}")
    for where, key, facet in _facets(event):
        url = facet["_schemaURL"]
        base = url.split("#")[0]
        if base not in facet_keys():
            found.append(f"{where}.{key}: schema {url} is not vendored")
            continue
        if key not in facet_keys()[base]:
            found.append(f"{where}.{key}: {base} facets go under {sorted(facet_keys()[base])}")
        found += [f"{where}.{key}: {e.message}" for e in _validator(url).iter_errors(facet)]
    return found
