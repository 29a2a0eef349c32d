"""The versioned rule set: shipped YAML; a municipality's rules.yaml overrides thresholds and weights."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from warehouse.errors import InputError
from warehouse.yamlfile import load_yaml

KINDS = frozenset(
    {
        "events",
        "rhythm",
        "utility_none",
        "utility_low",
        "trend",
        "usage_trend",
        "register_change",
        "register_unseen",
        "agreement",
    }
)
TIERS = ("urgent", "high", "watch")


@dataclass(frozen=True)
class Rule:
    """One rule: what it looks for (kind, params), how much it weighs, and how it explains itself."""

    id: str
    version: str
    kind: str
    silence: bool
    weight: float
    half_life_days: float
    params: dict[str, Any]
    text_ja: str
    text_en: str


@dataclass(frozen=True)
class RuleSet:
    """Every rule plus tier thresholds and explained absences, under one version."""

    version: str
    quiet_days: int
    support_quiet_days: int
    tiers: dict[str, dict[str, float]]
    explanations: dict[str, dict[str, Any]]
    rules: tuple[Rule, ...]
    feedback: dict[str, dict[str, Any]]
    capacity: dict[str, int]  # district -> entries a team can visit a day (urgent is never cut)


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = _merge(base[key], value)
        else:
            merged[key] = value
    return merged


def _rule(rule_id: str, data: dict[str, Any]) -> Rule:
    try:
        rule = Rule(
            id=rule_id,
            version=str(data["version"]),
            kind=str(data["kind"]),
            silence=bool(data.get("silence", False)),
            weight=float(data["weight"]),
            half_life_days=float(data.get("half_life_days", 1)),
            params=dict(data.get("params") or {}),
            text_ja=str(data["text_ja"]),
            text_en=str(data["text_en"]),
        )
    except (KeyError, TypeError, ValueError) as problem:
        raise InputError(f"rule {rule_id}: missing or invalid {problem}") from None
    if rule.kind not in KINDS:
        raise InputError(f"rule {rule_id}: unknown kind {rule.kind!r}")
    return rule


def load_rules(home: Path | None = None) -> RuleSet:
    """The shipped rule set, overridden by `rules.yaml` in the data home when present."""
    shipped = resources.files("watchlist").joinpath("rules.yaml")
    data = load_yaml(Path(shipped.name), shipped.read_text(encoding="utf-8"))
    local = home / "rules.yaml" if home else None
    if local is not None and local.exists():
        override = load_yaml(local)
        unknown = set(override.get("rules") or {}) - set(data["rules"])
        if unknown:
            raise InputError(f"{local}: unknown rules {sorted(unknown)}")
        data = _merge(data, override)
        data["version"] = f"{data['version']}+local"
    tiers = {name: {k: float(v) for k, v in data["tiers"][name].items()} for name in TIERS}
    return RuleSet(
        version=str(data["version"]),
        quiet_days=int(data["quiet_days"]),
        support_quiet_days=int(data["support_quiet_days"]),
        tiers=tiers,
        explanations=dict(data.get("explanations") or {}),
        rules=tuple(_rule(rule_id, body) for rule_id, body in data["rules"].items()),
        feedback=dict(data.get("feedback") or {}),
        capacity={str(k): int(v) for k, v in (data.get("capacity") or {}).items()},
    )
