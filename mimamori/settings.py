"""One typed settings object, resolved once at an entry point from the environment it is handed.

This module is the only reader of the process environment (`process_environment`, and `load_settings` and
its helpers when called without a mapping); everything below an entry point takes Settings or a mapping.
"""

from __future__ import annotations

import base64
import logging
import os
import pwd
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from identity.keys import KeyRing, parse_keyring
from warehouse.errors import ConfigurationError
from warehouse.private_files import private_dir
from warehouse.retention_policy import Retention, retention_from

log = logging.getLogger(__name__)

# Every variable that changes where data lives or which keys are used (the embedded default has none set).
DEPLOYMENT_VARIABLES = (
    "MIMAMORI_ENV",
    "MIMAMORI_DATABASE_URL",
    "MIMAMORI_PSEUDONYM_KEYS",
    "MIMAMORI_VAULT_KEYS",
    "MIMAMORI_AUDIT_KEYS",
)
# Given instead of MIMAMORI_AUDIT_KEYS to a worker or auditor that only reads and verifies the audit log.
READER_VARIABLES = ("MIMAMORI_AUDIT_PUBLIC_KEYS",)
DEVELOPMENT = "development"
PRODUCTION = "production"


@dataclass(frozen=True)
class AirflowApi:
    """Where the portal starts long work as a DAG run in production: Airflow 3's REST API and its sign-in."""

    url: str
    user: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class Settings:
    """Where Mimamori keeps its data, which warehouse it uses, and the keys it holds."""

    home: Path
    database_url: str
    env: str
    pseudonym_keys: KeyRing
    vault_keys: KeyRing
    actor: str  # the OS user, with a development label as "(claimed: label)"
    audit_keys: KeyRing | None  # Ed25519 seeds that sign checkpoints; None for a worker that only reads
    audit_public_keys: dict[str, bytes] = field(default_factory=dict)  # verify checkpoints, by key id
    os_user: str = ""
    claimed_actor: str = ""
    retention: Retention = field(default_factory=Retention)
    airflow_api: AirflowApi | None = None  # None: the portal runs long work in its own process

    @property
    def production(self) -> bool:
        """True when running with production rules (no generated keys, no default database)."""
        return self.env == PRODUCTION

    def path(self, *parts: str) -> Path:
        """A path inside the data home."""
        return self.home.joinpath(*parts)


def _development_keyring(home: Path, name: str, key_id: str) -> KeyRing:
    """Read or create a development key file in the data home (0600), warning loudly."""
    folder = private_dir(home / "keys")
    path = folder / f"{name}.key"
    if not path.exists():
        encoded = base64.b64encode(secrets.token_bytes(32)).decode()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(f"{key_id}:{encoded}\n")
        log.warning(
            "開発用の鍵を生成しました / generated a DEVELOPMENT key at %s (never use in production)", path
        )
    os.chmod(path, 0o600)
    return parse_keyring(path.read_text().strip(), str(path))


def add_development_key(home: Path, name: str) -> str:
    """Put a new development key in front of a key file (older keys stay to read old data); returns its id."""
    path = home / "keys" / f"{name}.key"
    ring = parse_keyring(path.read_text().strip(), str(path))
    prefix = ring.current_id.rstrip("0123456789") or name[0]
    numbers = [
        int(k[len(prefix) :]) for k in ring.keys if k.startswith(prefix) and k[len(prefix) :].isdigit()
    ]
    key_id = f"{prefix}{max(numbers, default=0) + 1}"
    encoded = base64.b64encode(secrets.token_bytes(32)).decode()
    staging = path.with_name(path.name + ".new")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(f"{key_id}:{encoded}," + path.read_text().strip() + "\n")
    staging.replace(path)
    log.warning("新しい開発用の鍵 / new DEVELOPMENT key %s written to %s", key_id, path)
    return key_id


@dataclass(frozen=True)
class AirflowTask:
    """The Airflow task a process runs, as Airflow exports it to the task's environment."""

    dag_id: str
    dag_run_id: str
    try_number: int = 1


def process_environment() -> dict[str, str]:
    """A copy of the process environment, taken once by an entry point and handed down."""
    return dict(os.environ)


def airflow_task(environ: Mapping[str, str]) -> AirflowTask | None:
    """The running Airflow task named in an environment (AIRFLOW_CTX_*), or None outside Airflow."""
    run_id = environ.get("AIRFLOW_CTX_DAG_RUN_ID", "")
    if not run_id:
        return None
    number = environ.get("AIRFLOW_CTX_TRY_NUMBER", "1")
    tries = int(number) if number.isdigit() and int(number) > 0 else 1
    return AirflowTask(environ.get("AIRFLOW_CTX_DAG_ID", ""), run_id, tries)


def _home(env_vars: dict[str, str]) -> Path:
    return Path(env_vars.get("MIMAMORI_HOME") or "./var").expanduser().resolve()


def data_home(environ: Mapping[str, str] | None = None) -> Path:
    """The data home (MIMAMORI_HOME, default ./var), found without creating it or any key."""
    return _home(dict(process_environment() if environ is None else environ))


def database_url(environ: Mapping[str, str] | None = None) -> str:
    """The warehouse URL the settings would use, found without creating a data home or keys."""
    env_vars = dict(os.environ if environ is None else environ)
    url = env_vars.get("MIMAMORI_DATABASE_URL", "").strip()
    return url or f"sqlite:///{_home(env_vars) / 'warehouse.db'}"


def warehouse_url(environ: Mapping[str, str] | None = None) -> str:
    """The warehouse URL alone, for the migration: no data home, no key; production needs PostgreSQL."""
    env_vars = dict(os.environ if environ is None else environ)
    if _environment(env_vars) != PRODUCTION:
        return database_url(env_vars)
    url = env_vars.get("MIMAMORI_DATABASE_URL", "").strip()
    if not url:
        raise ConfigurationError("production start-up refused; not set: MIMAMORI_DATABASE_URL")
    _require_postgresql(url)
    return url


def holds_audit_signer(environ: Mapping[str, str] | None = None) -> bool:
    """False for a production process that was not handed the audit signing key (it signs nothing)."""
    env_vars = dict(os.environ if environ is None else environ)
    return _environment(env_vars) != PRODUCTION or bool(env_vars.get("MIMAMORI_AUDIT_KEYS", "").strip())


def production(environ: dict[str, str] | None = None) -> bool:
    """True when MIMAMORI_ENV says production (found without creating a data home or keys)."""
    return _environment(dict(os.environ if environ is None else environ)) == PRODUCTION


def given_keyrings(environ: dict[str, str] | None = None) -> dict[str, KeyRing]:
    """Key rings set in the environment by name (pseudonym, vault, audit, audit_public); none made."""
    env_vars = dict(os.environ if environ is None else environ)
    found = {}
    for name in ("pseudonym", "vault", "audit", "audit_public"):
        variable = f"MIMAMORI_{name.upper()}_KEYS"
        spec = env_vars.get(variable, "").strip()
        if spec:
            found[name] = parse_keyring(spec, variable)
    return found


def _environment(env_vars: dict[str, str]) -> str:
    env = env_vars.get("MIMAMORI_ENV", DEVELOPMENT).strip().lower() or DEVELOPMENT
    if env not in (DEVELOPMENT, PRODUCTION):
        raise ConfigurationError(f"MIMAMORI_ENV must be '{DEVELOPMENT}' or '{PRODUCTION}', not {env!r}")
    return env


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Resolve settings; in production a missing key or database URL is a start-up error."""
    env_vars = dict(os.environ if environ is None else environ)
    env = _environment(env_vars)
    home = _home(env_vars)
    url = env_vars.get("MIMAMORI_DATABASE_URL", "").strip()
    pseudonym_spec = env_vars.get("MIMAMORI_PSEUDONYM_KEYS", "").strip()
    vault_spec = env_vars.get("MIMAMORI_VAULT_KEYS", "").strip()
    audit_spec = env_vars.get("MIMAMORI_AUDIT_KEYS", "").strip()
    public_spec = env_vars.get("MIMAMORI_AUDIT_PUBLIC_KEYS", "").strip()
    claimed = _label(env_vars.get("MIMAMORI_ACTOR", ""))
    if env == PRODUCTION:
        missing = [
            name
            for name, value in (
                ("MIMAMORI_DATABASE_URL", url),
                ("MIMAMORI_PSEUDONYM_KEYS", pseudonym_spec),
                ("MIMAMORI_VAULT_KEYS", vault_spec),
                (
                    "MIMAMORI_AUDIT_KEYS (or MIMAMORI_AUDIT_PUBLIC_KEYS for a reader)",
                    audit_spec or public_spec,
                ),
            )
            if not value
        ]
        if missing:
            raise ConfigurationError("production start-up refused; not set: " + ", ".join(missing))
        _require_postgresql(url)
        if claimed:
            raise ConfigurationError(
                "本番では MIMAMORI_ACTOR を使えません（監査ログには OS のユーザーを記録します） / "
                "MIMAMORI_ACTOR is for development only: production records the operating-system user"
            )
    retention = retention_from(env_vars)
    private_dir(home)  # 0700 whatever the umask: everything under it is the service's alone
    url = database_url(env_vars)
    pseudonym_keys = (
        parse_keyring(pseudonym_spec, "MIMAMORI_PSEUDONYM_KEYS")
        if pseudonym_spec
        else _development_keyring(home, "pseudonym", "k1")
    )
    vault_keys = (
        parse_keyring(vault_spec, "MIMAMORI_VAULT_KEYS")
        if vault_spec
        else _development_keyring(home, "vault", "v1")
    )
    audit_keys: KeyRing | None = None
    if audit_spec:
        audit_keys = parse_keyring(audit_spec, "MIMAMORI_AUDIT_KEYS")
    elif not public_spec:
        audit_keys = _development_keyring(home, "audit", "a1")
    audit_public = _audit_public_keys(audit_keys, public_spec)
    os_user = _login_name()
    actor = f"{os_user} (claimed: {claimed})" if claimed and claimed != os_user else os_user
    return Settings(
        home,
        url,
        env,
        pseudonym_keys,
        vault_keys,
        actor,
        audit_keys,
        audit_public,
        os_user,
        claimed if claimed != os_user else "",
        retention,
        _airflow_api(env_vars),
    )


def _airflow_api(env_vars: dict[str, str]) -> AirflowApi | None:
    """Airflow's REST API from MIMAMORI_AIRFLOW_API_URL, USER and PASSWORD (all three, or none)."""
    names = ("API_URL", "USER", "PASSWORD")
    values = [env_vars.get(f"MIMAMORI_AIRFLOW_{name}", "").strip() for name in names]
    if not any(values):
        return None
    if not all(values):
        raise ConfigurationError(
            "MIMAMORI_AIRFLOW_API_URL・_USER・_PASSWORD は3つ揃えて設定してください"
            " / set all three of MIMAMORI_AIRFLOW_API_URL, _USER and _PASSWORD, or none"
        )
    url, user, password = values
    return AirflowApi(url.rstrip("/"), user, password)


def _require_postgresql(url: str) -> None:
    """Refuse any warehouse but PostgreSQL in production (never echoing the URL: it may hold a password)."""
    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError:
        backend = "unreadable URL"
    if backend != "postgresql":
        raise ConfigurationError(
            f"本番環境では PostgreSQL が必要です / production needs PostgreSQL in MIMAMORI_DATABASE_URL, "
            f"not {backend}"
        )


def _audit_public_keys(signer: KeyRing | None, spec: str) -> dict[str, bytes]:
    """Public keys that verify checkpoints: those given, and those of the signing seeds (which must agree)."""
    from warehouse.checkpoints import public_keys

    derived = public_keys(signer) if signer else {}
    given = parse_keyring(spec, "MIMAMORI_AUDIT_PUBLIC_KEYS").keys if spec else {}
    clash = sorted(k for k in given.keys() & derived.keys() if given[k] != derived[k])
    if clash:
        raise ConfigurationError(
            f"MIMAMORI_AUDIT_PUBLIC_KEYS: key {clash[0]!r} is not the public key of "
            f"MIMAMORI_AUDIT_KEYS' {clash[0]!r}"
        )
    return {**given, **derived}


def _label(value: str) -> str:
    """A claimed actor label, printable and short (it is written into the audit log as given)."""
    return "".join(ch for ch in value.strip() if ch.isprintable())[:64]


def _login_name() -> str:
    """The operating-system user running the process (from the uid, not from LOGNAME or USER)."""
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except (KeyError, OSError):
        return f"uid:{os.geteuid()}"
