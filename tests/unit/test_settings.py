from __future__ import annotations

import base64
import logging
import stat
from pathlib import Path

import pytest

from identity.keys import parse_keyring
from mimamori.settings import holds_audit_signer, load_settings, warehouse_url
from warehouse.errors import ConfigurationError

pytestmark = pytest.mark.unit
KEY = base64.b64encode(b"k" * 32).decode()


def test_embedded_default_generates_private_keys_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    with caplog.at_level(logging.WARNING):
        settings = load_settings({"MIMAMORI_HOME": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'warehouse.db'}"
    for name in ("pseudonym.key", "vault.key", "audit.key"):
        mode = stat.S_IMODE((tmp_path / "keys" / name).stat().st_mode)
        assert mode == 0o600
    assert "DEVELOPMENT" in caplog.text
    again = load_settings({"MIMAMORI_HOME": str(tmp_path)})
    assert again.pseudonym_keys == settings.pseudonym_keys  # keys are kept, not regenerated


@pytest.mark.parametrize(
    "missing",
    ["MIMAMORI_DATABASE_URL", "MIMAMORI_PSEUDONYM_KEYS", "MIMAMORI_VAULT_KEYS", "MIMAMORI_AUDIT_KEYS"],
)
def test_production_refuses_to_start_without_each_secret(tmp_path: Path, missing: str):
    env = {
        "MIMAMORI_ENV": "production",
        "MIMAMORI_HOME": str(tmp_path),
        "MIMAMORI_DATABASE_URL": "postgresql+psycopg://db/mimamori",
        "MIMAMORI_PSEUDONYM_KEYS": f"k2:{KEY}",
        "MIMAMORI_VAULT_KEYS": f"v2:{KEY}",
        "MIMAMORI_AUDIT_KEYS": f"a2:{KEY}",
    }
    del env[missing]
    with pytest.raises(ConfigurationError, match=missing):
        load_settings(env)
    assert not (tmp_path / "keys").exists()


def test_production_uses_keys_from_the_environment(tmp_path: Path):
    settings = load_settings(
        {
            "MIMAMORI_ENV": "production",
            "MIMAMORI_HOME": str(tmp_path),
            "MIMAMORI_DATABASE_URL": "postgresql+psycopg://db/mimamori",
            "MIMAMORI_PSEUDONYM_KEYS": f"k2:{KEY},k1:{KEY}",
            "MIMAMORI_VAULT_KEYS": f"v2:{KEY}",
            "MIMAMORI_AUDIT_KEYS": f"a2:{KEY}",
        }
    )
    assert settings.production and settings.pseudonym_keys.current_id == "k2"
    assert set(settings.pseudonym_keys.keys) == {"k1", "k2"}


@pytest.mark.parametrize(
    "spec", ["", "nocolon", "k1:not*base64", f"k1:{base64.b64encode(b'short').decode()}"]
)
def test_malformed_key_specs_are_clear_errors(spec: str):
    with pytest.raises(ConfigurationError):
        parse_keyring(spec, "MIMAMORI_VAULT_KEYS")


def test_unknown_environment_name_is_refused(tmp_path: Path):
    with pytest.raises(ConfigurationError, match="MIMAMORI_ENV"):
        load_settings({"MIMAMORI_ENV": "staging", "MIMAMORI_HOME": str(tmp_path)})


def test_a_command_on_a_fresh_machine_creates_no_data_home_or_keys_just_to_checkpoint(tmp_path, monkeypatch):
    from mimamori.cli.pipeline import checkpoint_after_command
    from mimamori.settings import database_url

    home = tmp_path / "never-made"
    monkeypatch.setenv("MIMAMORI_HOME", str(home))
    monkeypatch.delenv("MIMAMORI_DATABASE_URL", raising=False)
    assert database_url() == f"sqlite:///{home / 'warehouse.db'}"
    checkpoint_after_command()
    assert not home.exists()


@pytest.mark.parametrize(
    "url",
    ["sqlite:///var/warehouse.db", "sqlite+pysqlite:////srv/w.db", "sqlite://", "mysql://db/m", "not a url"],
)
def test_production_refuses_a_database_other_than_postgresql(tmp_path: Path, url: str):
    env = {
        "MIMAMORI_ENV": "production",
        "MIMAMORI_HOME": str(tmp_path),
        "MIMAMORI_DATABASE_URL": url,
        "MIMAMORI_PSEUDONYM_KEYS": f"k2:{KEY}",
        "MIMAMORI_VAULT_KEYS": f"v2:{KEY}",
        "MIMAMORI_AUDIT_KEYS": f"a2:{KEY}",
    }
    with pytest.raises(ConfigurationError, match="PostgreSQL") as refused:
        load_settings(env)
    assert url not in str(refused.value)  # a URL may carry a password
    assert not (tmp_path / "keys").exists()


def test_the_migration_url_needs_no_key_and_production_needs_postgresql(tmp_path: Path):
    production = {"MIMAMORI_ENV": "production", "MIMAMORI_HOME": str(tmp_path)}
    with pytest.raises(ConfigurationError, match="MIMAMORI_DATABASE_URL"):
        warehouse_url(production)
    with pytest.raises(ConfigurationError, match="PostgreSQL"):
        warehouse_url({**production, "MIMAMORI_DATABASE_URL": "sqlite:///w.db"})
    url = "postgresql+psycopg://db/mimamori"
    assert warehouse_url({**production, "MIMAMORI_DATABASE_URL": url}) == url
    assert warehouse_url({"MIMAMORI_HOME": str(tmp_path)}) == f"sqlite:///{tmp_path / 'warehouse.db'}"
    assert not (tmp_path / "keys").exists()
    assert not holds_audit_signer(production) and holds_audit_signer({})
    assert holds_audit_signer({**production, "MIMAMORI_AUDIT_KEYS": f"a2:{KEY}"})


PRODUCTION = {
    "MIMAMORI_ENV": "production",
    "MIMAMORI_DATABASE_URL": "postgresql+psycopg://db/mimamori",
    "MIMAMORI_PSEUDONYM_KEYS": f"k2:{KEY}",
    "MIMAMORI_VAULT_KEYS": f"v2:{KEY}",
}


def _public(seed: bytes) -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def test_the_actor_is_the_os_user_and_a_development_label_is_recorded_as_claimed(tmp_path: Path):
    import os
    import pwd

    me = pwd.getpwuid(os.geteuid()).pw_name
    plain = load_settings({"MIMAMORI_HOME": str(tmp_path), "USER": "mallory", "LOGNAME": "mallory"})
    assert (plain.actor, plain.os_user, plain.claimed_actor) == (me, me, "")
    labelled = load_settings({"MIMAMORI_HOME": str(tmp_path), "MIMAMORI_ACTOR": "mallory"})
    assert labelled.os_user == me and labelled.claimed_actor == "mallory"
    assert labelled.actor == f"{me} (claimed: mallory)"


def test_production_refuses_a_claimed_actor(tmp_path: Path):
    env = {**PRODUCTION, "MIMAMORI_HOME": str(tmp_path), "MIMAMORI_AUDIT_KEYS": f"a2:{KEY}"}
    assert load_settings(env).actor == load_settings(env).os_user
    with pytest.raises(ConfigurationError, match="MIMAMORI_ACTOR"):
        load_settings({**env, "MIMAMORI_ACTOR": "someone-else"})


def test_a_reader_needs_only_the_audit_public_key(tmp_path: Path):
    public = _public(b"k" * 32)
    reader = load_settings(
        {**PRODUCTION, "MIMAMORI_HOME": str(tmp_path), "MIMAMORI_AUDIT_PUBLIC_KEYS": f"a2:{public}"}
    )
    assert reader.audit_keys is None
    assert reader.audit_public_keys == {"a2": base64.b64decode(public)}
    signer = load_settings({**PRODUCTION, "MIMAMORI_HOME": str(tmp_path), "MIMAMORI_AUDIT_KEYS": f"a2:{KEY}"})
    assert signer.audit_public_keys == reader.audit_public_keys  # derived from the signing seed
    with pytest.raises(ConfigurationError, match="MIMAMORI_AUDIT_PUBLIC_KEYS"):
        load_settings(
            {
                **PRODUCTION,
                "MIMAMORI_HOME": str(tmp_path),
                "MIMAMORI_AUDIT_KEYS": f"a2:{KEY}",
                "MIMAMORI_AUDIT_PUBLIC_KEYS": f"a2:{_public(b'x' * 32)}",
            }
        )


def test_a_development_reader_with_a_public_key_generates_no_signing_key(tmp_path: Path):
    reader = load_settings(
        {"MIMAMORI_HOME": str(tmp_path), "MIMAMORI_AUDIT_PUBLIC_KEYS": f"a1:{_public(b'k' * 32)}"}
    )
    assert reader.audit_keys is None and not (tmp_path / "keys" / "audit.key").exists()


def test_the_settings_and_the_run_context_never_show_a_key_in_their_repr(tmp_path: Path):
    from mimamori.context import RunContext

    ctx = RunContext.open({"MIMAMORI_HOME": str(tmp_path)})
    secrets = [*ctx.settings.pseudonym_keys.keys.values(), *ctx.settings.vault_keys.keys.values()]
    shown = repr(ctx)
    assert "k1" in shown and not [key for key in secrets if repr(key) in shown or key.hex() in shown]


def test_airflow_api_is_all_three_variables_or_none_and_hides_its_password(tmp_path: Path):
    home = {"MIMAMORI_HOME": str(tmp_path)}
    assert load_settings(home).airflow_api is None  # the embedded default runs long work in process
    given = {
        "MIMAMORI_AIRFLOW_API_URL": "http://airflow-apiserver:8080/",
        "MIMAMORI_AIRFLOW_USER": "portal",
        "MIMAMORI_AIRFLOW_PASSWORD": "s3cret-word",
    }
    api = load_settings({**home, **given}).airflow_api
    assert api is not None and (api.url, api.user) == ("http://airflow-apiserver:8080", "portal")
    assert "s3cret-word" not in repr(api)
    with pytest.raises(ConfigurationError, match="MIMAMORI_AIRFLOW_API_URL"):
        load_settings({**home, "MIMAMORI_AIRFLOW_API_URL": "http://airflow-apiserver:8080"})
