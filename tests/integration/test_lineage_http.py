"""With OPENLINEAGE_URL set, a day's lineage events go over HTTP (as to Marquez) instead of to the file.

A tiny OpenLineage endpoint on 127.0.0.1 (a thread in this process, shut down by the fixture) receives
what the client's HTTP transport posts; every event must validate against the vendored schema.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from openlineage_schema import needs_spec, problems

from mimamori import daily
from mimamori.context import RunContext

pytestmark = pytest.mark.integration


class Endpoint(ThreadingHTTPServer):
    """Keeps each event posted to /api/v1/lineage, with the path it came to."""

    received: list[tuple[str, dict[str, Any]]]


class Handler(BaseHTTPRequestHandler):
    server: Endpoint

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.received.append((self.path, json.loads(body)))
        self.send_response(201)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # quiet
        return


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    server = Endpoint(("127.0.0.1", 0), Handler)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@needs_spec
def test_a_days_events_reach_the_http_endpoint_and_validate(
    tiny: Path, endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch
):
    host, port = endpoint.server_address[:2]
    monkeypatch.setenv("OPENLINEAGE_URL", f"http://{host!s}:{port}")
    run_id = daily.run_day(RunContext.from_environment(), "2026-11-02")["run_id"]
    assert not (tiny / "lineage" / "events.jsonl").exists()  # the file is only the default
    assert [k for k in os.environ if k.startswith("OPENLINEAGE_")] == ["OPENLINEAGE_URL"]
    paths = {path for path, _ in endpoint.received}
    events = [event for _, event in endpoint.received]
    assert paths == {"/api/v1/lineage"}
    assert len(events) == 2 * (1 + len(daily.STEPS))
    assert [p for e in events for p in problems(e)] == []
    mine = [e["eventType"] for e in events if e["job"]["name"] == "daily_run"]
    assert mine == ["START", "COMPLETE"] and events[0]["run"]["runId"] == run_id
    ingest = next(
        e for e in events if e["job"]["name"] == "daily_run.ingest" and e["eventType"] == "COMPLETE"
    )
    delivered = [
        d["facets"]["mimamori_delivery"] for d in ingest["inputs"] if "mimamori_delivery" in d["facets"]
    ]
    assert [(d["partner"], d["deliveryId"], d["status"]) for d in delivered] == [
        ("kanda-coop", "20261102-01", "loaded")
    ]
