"""The production stack's files hold together without a Docker engine: services, healthchecks, secrets."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from mimamori.settings import DEPLOYMENT_VARIABLES

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
AIRFLOW = (
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
)
ONE_SHOT = ("airflow-init",)
# Profile `lineage`: Marquez, its database and its web UI, started only when asked for.
LINEAGE = ("marquez-db", "marquez", "marquez-web")
# Settings that may stay empty in .env.example (empty means: not used).
OPTIONAL = {"OPENLINEAGE_URL", "MIMAMORI_ALERT_TO"}
# What each container's tasks need: Airflow's own processes run no Mimamori code; the migration needs the
# warehouse only; the worker runs every task (pseudonyms, the vault, the audit log it signs).
KEYS_BY_SERVICE = {
    "airflow-apiserver": set(),
    "airflow-scheduler": set(),
    "airflow-dag-processor": set(),
    "airflow-triggerer": set(),
    "airflow-init": {"MIMAMORI_DATABASE_URL"},
    "airflow-worker": {
        "MIMAMORI_DATABASE_URL",
        "MIMAMORI_PSEUDONYM_KEYS",
        "MIMAMORI_VAULT_KEYS",
        "MIMAMORI_AUDIT_KEYS",
    },
}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|KEYS?$|TOKEN|_URL$|CONN|BACKEND", re.IGNORECASE)
REFERENCE = re.compile(r"^\$\{(\w+)(:?[-?][^}]*)?\}$")
CREDENTIALS_IN_URL = re.compile(r"://[^/\s:@]+:[^/\s@]+@")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yaml").read_text(encoding="utf-8"))
    return loaded


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a mapping (compose allows a list of NAME=value too)."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return {str(k): ("" if v is None else str(v)) for k, v in env.items()}


def env_example() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if line.strip() and not line.lstrip().startswith("#"))


def test_the_file_follows_the_compose_specification(compose: dict[str, Any]):
    vendored = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    validator = jsonschema.Draft202012Validator(json.loads(vendored.read_text(encoding="utf-8")))
    assert [f"{e.json_path}: {e.message}" for e in validator.iter_errors(compose)] == []


def test_every_service_of_the_stack_is_there(compose: dict[str, Any]):
    assert set(compose["services"]) == {"postgres", "redis", "portal", *AIRFLOW, *ONE_SHOT, *LINEAGE}
    assert environment(compose["services"]["airflow-worker"])["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert compose["services"]["airflow-worker"]["command"][:3] == ["airflow", "celery", "worker"]


def test_every_long_running_service_has_a_healthcheck(compose: dict[str, Any]):
    for name, service in compose["services"].items():
        if name in ONE_SHOT:
            assert service["restart"] == "no" and "healthcheck" not in service
            continue
        check = service.get("healthcheck", {})
        assert check.get("test") and check.get("interval"), name


def test_airflow_services_start_after_healthy_databases_and_the_migration(compose: dict[str, Any]):
    services = compose["services"]
    for name in AIRFLOW:
        depends = services[name]["depends_on"]
        assert depends["postgres"] == {"condition": "service_healthy"}, name
        assert depends["redis"] == {"condition": "service_healthy"}, name
        assert depends["airflow-init"] == {"condition": "service_completed_successfully"}, name
    assert services["airflow-worker"]["depends_on"]["airflow-apiserver"] == {"condition": "service_healthy"}
    assert services["airflow-init"]["depends_on"]["postgres"] == {"condition": "service_healthy"}
    for name, service in services.items():
        for target, rule in (service.get("depends_on") or {}).items():
            assert target in services and target != name and rule.get("condition"), (name, target)
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in services[target], (name, target)


def test_the_dag_folder_and_the_data_home_are_mounted(compose: dict[str, Any]):
    for name in (*AIRFLOW, *ONE_SHOT):
        service = compose["services"][name]
        env = environment(service)
        mounts = {v.split(":")[1]: v.split(":")[0] for v in service["volumes"]}
        assert mounts[env["AIRFLOW__CORE__DAGS_FOLDER"]] == "./dags", name
        assert mounts[env["MIMAMORI_HOME"]] == "mimamori-data", name
        assert "mimamori-data" in compose["volumes"]
    assert (ROOT / "dags" / "mimamori_daily.py").exists()


def harmless(value: str) -> bool:
    """A ${VAR} reference, or a URL that carries no credentials."""
    return bool(REFERENCE.match(value)) or (
        bool(re.match(r"^\w+://", value)) and not CREDENTIALS_IN_URL.search(value)
    )


def test_no_literal_secret_anywhere(compose: dict[str, Any]):
    declared = compose["secrets"]
    assert all(set(spec) == {"environment"} for spec in declared.values())  # filled from .env at start
    for name, service in compose["services"].items():
        mounted = set(service.get("secrets") or ())
        for key, value in environment(service).items():
            if key.endswith("_FILE"):
                secret = value.removeprefix("/run/secrets/")
                assert value.startswith("/run/secrets/") and secret in mounted & set(declared), (name, key)
            elif SECRET_NAME.search(key):
                assert harmless(value), (name, key, value)
    assert not CREDENTIALS_IN_URL.search((ROOT / "docker-compose.yaml").read_text(encoding="utf-8"))


def test_mimamori_runs_in_production_with_every_deployment_variable_on_the_worker(compose: dict[str, Any]):
    for name in (*AIRFLOW, *ONE_SHOT, "portal"):
        env = environment(compose["services"][name])
        assert env["MIMAMORI_ENV"] in ("production", "${MIMAMORI_ENV:-production}")
    worker = environment(compose["services"]["airflow-worker"])
    for variable in DEPLOYMENT_VARIABLES:
        assert variable in worker or f"{variable}_FILE" in worker, variable


def given(service: dict[str, Any]) -> set[str]:
    """The Mimamori secrets a service receives: as variables (or VAR_FILE) and as mounted docker secrets."""
    env = environment(service)
    variables = {k.removesuffix("_FILE") for k in env}
    names = {k for k in variables if k.startswith("MIMAMORI_") and SECRET_NAME.search(k)}
    mounted = {s.upper() for s in service.get("secrets") or () if s.startswith("mimamori_")}
    assert names == mounted, (names, mounted)  # no variable without its secret, no secret left unused
    return names


def test_each_container_receives_only_the_keys_its_tasks_need(compose: dict[str, Any]):
    services = compose["services"]
    assert {name: given(services[name]) for name in (*AIRFLOW, *ONE_SHOT)} == KEYS_BY_SERVICE
    # the signing key is never handed to a container that only reads or schedules
    assert [n for n, keys in KEYS_BY_SERVICE.items() if "MIMAMORI_AUDIT_KEYS" in keys] == ["airflow-worker"]


def test_the_readme_says_which_container_gets_which_key():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    production = text.split("## Production", 1)[1].split("\n## ", 1)[0]
    for name, keys in KEYS_BY_SERVICE.items():
        row = next((item for item in re.split(r"\n\s*- ", production) if f"`{name}`" in item), "")
        assert row, f"README Production has no line for {name}"
        for key in keys:
            assert f"`{key}`" in row, (name, key)
        if not keys:
            assert "none" in row, name
    assert "MIMAMORI_AUDIT_PUBLIC_KEYS" in production  # what a read-only auditor gets instead


def test_env_example_names_every_variable_with_placeholders_only(compose: dict[str, Any]):
    example = env_example()
    text = (ROOT / "docker-compose.yaml").read_text(encoding="utf-8")
    referenced = set(re.findall(r"(?<!\$)\$\{(\w+)", text)) | {
        s["environment"] for s in compose["secrets"].values()
    }
    assert referenced <= set(example)
    assert set(DEPLOYMENT_VARIABLES) <= set(example) and example["MIMAMORI_ENV"] == "production"
    for key, value in example.items():
        assert not re.search(r"[A-Za-z0-9+/]{32,}={0,2}", value), key  # nothing shaped like a real key
        if SECRET_NAME.search(key):
            assert "CHANGE_ME" in value or harmless(value) or (key in OPTIONAL and not value), key


def test_secrets_and_env_files_stay_out_of_git_and_the_image():
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert ".env" in ignored and "secrets/" in ignored
    docker_ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".env", "secrets", ".git", ".venv", "var"} <= set(docker_ignored)


def test_the_image_installs_the_project_and_reads_secrets_through_the_entrypoint():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "COPY . ." in dockerfile and "pip install --no-deps ." in dockerfile
    assert "apache-airflow-providers-fab==" in (ROOT / "requirements" / "runtime.lock").read_text(
        encoding="utf-8"
    )
    assert 'ENTRYPOINT ["/opt/mimamori/deploy/entrypoint.sh"]' in dockerfile
    entrypoint = ROOT / "deploy" / "entrypoint.sh"
    assert entrypoint.stat().st_mode & 0o111 and "/run/secrets" in entrypoint.read_text(encoding="utf-8")


def test_the_portal_serves_the_data_home_and_checks_healthz(compose: dict[str, Any]):
    portal = compose["services"]["portal"]
    assert portal["command"][:2] == ["mimamori", "serve"]
    port = portal["command"][portal["command"].index("--port") + 1]
    assert f"http://localhost:{port}/healthz" in " ".join(portal["healthcheck"]["test"])
    assert {v.split(":")[1]: v.split(":")[0] for v in portal["volumes"]}["/data/mimamori"] == "mimamori-data"
    assert portal["depends_on"]["airflow-init"] == {"condition": "service_completed_successfully"}


def test_airflow_signs_in_through_the_fab_auth_manager_with_an_administrator_from_the_secrets(
    compose: dict[str, Any],
):
    services = compose["services"]
    for name in (*AIRFLOW, *ONE_SHOT):
        env = environment(services[name])
        assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("fab_auth_manager.FabAuthManager"), name
        assert "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS" not in env, name
    init = services["airflow-init"]
    assert init["command"] == ["/opt/mimamori/deploy/airflow-init.sh"]
    assert environment(init)["AIRFLOW_ADMIN_PASSWORD_FILE"] == "/run/secrets/airflow_admin_password"
    script = (ROOT / "deploy" / "airflow-init.sh").read_text(encoding="utf-8")
    steps = [line.split()[:3] for line in script.splitlines() if line.startswith(("airflow", "mimamori"))]
    assert steps[:3] == [
        ["airflow", "db", "migrate"],
        ["airflow", "fab-db", "migrate"],
        ["mimamori", "migrate"],
    ]
    assert 'reset-password --username "$AIRFLOW_ADMIN_USER" --password "$AIRFLOW_ADMIN_PASSWORD"' in script
    assert (ROOT / "deploy" / "airflow-init.sh").stat().st_mode & 0o111
    assert "apache-airflow-providers-fab" in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def test_the_deploy_step_makes_the_one_writer_pool_the_dags_use():
    script = (ROOT / "deploy" / "airflow-init.sh").read_text(encoding="utf-8")
    pool = re.search(r"^airflow pools set (\S+) (\d+) ", script, re.MULTILINE)
    assert pool and pool[2] == "1"
    for path in (ROOT / "dags").glob("*.py"):
        if path.name != "mimamori_hub.py":
            assert f'"pool": "{pool[1]}"' in path.read_text(encoding="utf-8"), path.name


def test_alerts_reach_the_containers_that_run_callbacks(compose: dict[str, Any]):
    # Task callbacks run on the worker, run callbacks in the DAG processor, deadlines in the triggerer.
    for name in ("airflow-worker", "airflow-dag-processor", "airflow-triggerer"):
        service = compose["services"][name]
        assert environment(service)["AIRFLOW_CONN_MIMAMORI_ALERTS_FILE"] == "/run/secrets/airflow_smtp_conn"
        assert "airflow_smtp_conn" in service["secrets"] and "MIMAMORI_ALERT_TO" in environment(service)


def test_marquez_starts_only_with_the_lineage_profile_and_the_worker_can_send_to_it(compose: dict[str, Any]):
    services = compose["services"]
    for name in LINEAGE:
        assert services[name]["profiles"] == ["lineage"], name
    for name in set(services) - set(LINEAGE):
        assert "profiles" not in services[name], name
    assert environment(services["airflow-worker"])["OPENLINEAGE_URL"] == "${OPENLINEAGE_URL:-}"
    assert services["marquez"]["depends_on"]["marquez-db"] == {"condition": "service_healthy"}
    assert any(p.endswith(":3000") for p in services["marquez-web"]["ports"])
