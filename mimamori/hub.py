"""A hub serving several municipalities: each has its own data home, warehouse and keys, from a hub file.

The hub file (`hub.yaml`, path in MIMAMORI_HUB_CONFIG) lists the municipalities; values that are secret
(database URLs with passwords, keys) are never written there, only the names of the hub's environment
variables that hold them:

    municipalities:
      - code: "149999"
        home: midori                 # relative to the hub file's folder, or absolute
        env:                         # optional: setting -> hub environment variable holding it
          MIMAMORI_DATABASE_URL: MIDORI_DATABASE_URL
          MIMAMORI_PSEUDONYM_KEYS: MIDORI_PSEUDONYM_KEYS
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mimamori import daily
from mimamori.context import RunContext
from mimamori.settings import DEPLOYMENT_VARIABLES, PRODUCTION
from warehouse.errors import ConfigurationError, InputError
from warehouse.yamlfile import load_yaml

HUB_VARIABLE = "MIMAMORI_HUB_CONFIG"
CODE = re.compile(r"^[0-9A-Za-z_-]{1,20}$")
# Settings a municipality may take from the hub's environment; MIMAMORI_ENV stays the hub's own.
PER_HOME = tuple(name for name in DEPLOYMENT_VARIABLES if name != "MIMAMORI_ENV")


@dataclass(frozen=True)
class Member:
    """One municipality of the hub: its code, data home and where its settings come from."""

    code: str
    home: Path
    env: dict[str, str] = field(default_factory=dict)


def hub_path(environ: Mapping[str, str], given: str | None = None) -> Path:
    """The hub file: the given path, else the hub environment's MIMAMORI_HUB_CONFIG."""
    text = given or environ.get(HUB_VARIABLE, "")
    if not text:
        raise ConfigurationError(f"no hub file given; set {HUB_VARIABLE} or pass hub_config")
    return Path(text).expanduser().resolve()


def load_hub(path: Path) -> dict[str, Member]:
    """Read the hub file into members keyed by municipality code; a malformed file is a clear InputError."""
    entries = load_yaml(path).get("municipalities")
    if not isinstance(entries, list) or not entries:
        raise InputError(f"{path.name}: expected a non-empty 'municipalities:' list")
    members: dict[str, Member] = {}
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or "code" not in entry or "home" not in entry:
            raise InputError(f"{path.name}: municipality #{index + 1} needs a code and a home")
        code = str(entry["code"])
        if not CODE.match(code) or code in members:
            raise InputError(f"{path.name}: municipality code {code!r} is malformed or listed twice")
        env = {str(k): str(v) for k, v in (entry.get("env") or {}).items()}
        unknown = sorted(set(env) - set(PER_HOME))
        if unknown:
            raise InputError(f"{path.name}: {code}: unknown settings {unknown}; allowed: {PER_HOME}")
        members[code] = Member(code, (path.parent / str(entry["home"])).resolve(), env)
    homes = [m.home for m in members.values()]
    if len(set(homes)) != len(homes):
        raise InputError(f"{path.name}: two municipalities share a data home")
    return members


def municipality_codes(environ: Mapping[str, str], hub_config: str | None = None) -> list[str]:
    """The municipality codes of the hub, read at run time."""
    return sorted(load_hub(hub_path(environ, hub_config)))


def member_environment(member: Member, environ: Mapping[str, str]) -> dict[str, str]:
    """The environment one municipality runs in: the hub's, with its own home and only its own settings."""
    own = {k: v for k, v in environ.items() if k not in PER_HOME}
    own["MIMAMORI_HOME"] = str(member.home)
    for setting, variable in member.env.items():
        if variable not in environ:
            raise ConfigurationError(f"{member.code}: {setting} comes from {variable}, which is unset")
        own[setting] = environ[variable]
    if own.get("MIMAMORI_ENV", "").strip().lower() == PRODUCTION:
        missing = sorted(set(PER_HOME) - set(member.env))
        if missing:
            raise ConfigurationError(f"{member.code}: production hub entry lacks {', '.join(missing)}")
    return own


def member_context(environ: Mapping[str, str], code: str, hub_config: str | None = None) -> RunContext:
    """The run context of one municipality, from the hub's environment (which is left as it was)."""
    members = load_hub(hub_path(environ, hub_config))
    if code not in members:
        raise InputError(f"municipality {code!r} is not in the hub file")
    return RunContext.open(member_environment(members[code], environ))


def run_municipality(
    environ: Mapping[str, str],
    code: str,
    run_date: str,
    hub_config: str | None = None,
    dag_run_id: str | None = None,
) -> dict[str, Any]:
    """Run one municipality's day in its own home with its own settings; returns its run id and counts."""
    summary = daily.run_day(member_context(environ, code, hub_config), run_date, dag_run_id=dag_run_id)
    return {
        "code": code,
        "run_id": summary["run_id"],
        "rows_loaded": summary.get("ingest", {}).get("rows_loaded", 0),
        "tiers": summary.get("build", {}).get("tiers", {}),
    }
