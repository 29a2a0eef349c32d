"""The table of rule kinds: signal evaluators, register evaluators, and agreements over their evidence."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from watchlist.decline import agreement
from watchlist.evidence import EVALUATORS, Context, Evidence
from watchlist.register_rules import register_change, register_unseen
from watchlist.rules import Rule

# kinds that read the context, like those of watchlist.evidence
READERS: dict[str, Callable[[Rule, Context], Iterator[Evidence]]] = {
    **EVALUATORS,
    "register_change": register_change,
    "register_unseen": register_unseen,
}
# kinds that read the other rules' evidence (run after them)
AGREEMENTS: dict[str, Callable[[Rule, list[Evidence]], Iterator[Evidence]]] = {"agreement": agreement}


def evaluate_all(rules: tuple[Rule, ...], ctx: Context) -> list[Evidence]:
    """Every reading rule's evidence, then every agreement's over it."""
    found = [e for rule in rules if rule.kind in READERS for e in READERS[rule.kind](rule, ctx)]
    agreed = [e for rule in rules if rule.kind in AGREEMENTS for e in AGREEMENTS[rule.kind](rule, found)]
    return found + agreed
