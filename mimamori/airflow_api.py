"""Start a DAG run through Airflow 3's REST API: a JWT from `POST /auth/token`, then
`POST /api/v2/dags/{dag_id}/dagRuns` (the FAB and the simple auth manager both issue the token there)."""

from __future__ import annotations

from typing import Any

import httpx

from mimamori.settings import AirflowApi
from warehouse.errors import MimamoriError

TIMEOUT = 15.0


class AirflowUnavailable(MimamoriError):
    """Airflow refused or did not answer; the message names the step, never the credentials."""


def trigger(api: AirflowApi, dag_id: str, conf: dict[str, Any]) -> str:
    """Queue a run of the DAG with `conf` (no logical date: a manual run); returns Airflow's dag_run_id."""
    step = "sign-in"
    try:
        with httpx.Client(base_url=api.url, timeout=TIMEOUT) as client:
            answer = client.post("/auth/token", json={"username": api.user, "password": api.password})
            answer.raise_for_status()
            token = str(answer.json()["access_token"])
            step = f"dag run of {dag_id}"
            answer = client.post(
                f"/api/v2/dags/{dag_id}/dagRuns",
                json={"logical_date": None, "conf": conf},
                headers={"Authorization": f"Bearer {token}"},
            )
            answer.raise_for_status()
            return str(answer.json()["dag_run_id"])
    except (httpx.HTTPError, KeyError, ValueError) as problem:
        status = problem.response.status_code if isinstance(problem, httpx.HTTPStatusError) else None
        reason = f"HTTP {status}" if status else type(problem).__name__
        raise AirflowUnavailable(
            f"Airflow に処理を依頼できませんでした / Airflow refused the {step} ({reason})"
        ) from None
