"""A field-weighted (Fellegi–Sunter style) record linker: block, score, decide; not tied to one language.

A schema names, per field, the weight when two values are equal, nearly equal (a typing slip) or
different, and the blocking keys that bring candidates together. Records are any objects with those
fields as attributes; blank values count nothing.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from rapidfuzz.distance import OSA, JaroWinkler, Levenshtein


class Readings(tuple[str, ...]):
    """Several readings of one value, the written one first (an address with or without its room).

    Two readings agree when the written one of either is among the other's: ``198-11-405`` (read
    also as ``198-11``) agrees with ``198-11`` but not with ``198-11-406``. Blocking indexes each.
    """

    def __str__(self) -> str:
        return self[0] if self else ""


def same(a: Any, b: Any) -> bool:
    """Equality, or agreement of two :class:`Readings`."""
    if a == b:
        return True
    return type(a) is Readings and type(b) is Readings and (a[0] in b or b[0] in a)


LINK = "link"
REVIEW = "review"
NO_MATCH = "no_match"


def near_edit(a: Any, b: Any) -> bool:
    """One character inserted, deleted, changed or two swapped (texts of three characters or more)."""
    return len(str(a)) >= 3 and OSA.distance(str(a), str(b)) <= 1


def near_similar(threshold: float) -> Callable[[Any, Any], bool]:
    """Similar enough by normalised edit similarity (a missed voicing mark, a swapped letter)."""
    return lambda a, b: Levenshtein.normalized_similarity(str(a), str(b)) >= threshold


def near_jaro_winkler(threshold: float) -> Callable[[Any, Any], bool]:
    """Similar by Jaro–Winkler, which forgives typing slips near the end of a name."""
    return lambda a, b: JaroWinkler.similarity(str(a), str(b)) >= threshold


def near_date(a: Any, b: Any) -> bool:
    """One mistyped digit of YYYYMMDD, or day and month swapped."""
    if not (isinstance(a, dt.date) and isinstance(b, dt.date)):
        return near_edit(a, b)
    return OSA.distance(f"{a:%Y%m%d}", f"{b:%Y%m%d}") <= 1 or (a.year, a.month, a.day) == (
        b.year,
        b.day,
        b.month,
    )


def never(a: Any, b: Any) -> bool:
    """No near level for this field."""
    return False


@dataclass(frozen=True)
class Comparison:
    """How one field votes: weights when equal, nearly equal, different."""

    field: str
    equal: float
    near: float
    different: float
    is_near: Callable[[Any, Any], bool] = never
    # A field often written in the other's place (given name and family name swapped) counts as equal.
    swaps_with: str = ""


@dataclass(frozen=True)
class Schema:
    """Comparisons, blocking keys and decision thresholds of one linkage problem."""

    comparisons: tuple[Comparison, ...]
    blocks: tuple[tuple[str, ...], ...]
    link_at: float
    review_at: float
    margin: float


@dataclass(frozen=True)
class Decision:
    """The linkage verdict for one record."""

    outcome: str
    resident: str | None
    score: float


def score(schema: Schema, left: Any, right: Any) -> float:
    """Sum of field weights; a blank on either side counts nothing."""
    total = 0.0
    for c in schema.comparisons:
        a, b = getattr(left, c.field), getattr(right, c.field)
        if not a or not b:
            continue
        vote = _vote(c, a, b)
        if c.swaps_with and vote < c.equal:
            x, y = getattr(right, c.swaps_with), getattr(left, c.swaps_with)
            if x and y:
                vote = max(vote, min(_vote(c, a, x), _vote(c, y, b)))
        total += vote
    return total


def _vote(c: Comparison, a: Any, b: Any) -> float:
    return c.equal if same(a, b) else c.near if c.is_near(a, b) else c.different


def _blocks(schema: Schema, record: Any) -> Iterable[tuple[Any, ...]]:
    for number, fields in enumerate(schema.blocks):
        values = tuple(getattr(record, f) for f in fields)
        if not all(values):
            continue
        if any(type(v) is Readings and len(v) > 1 for v in values):
            choices = (v if type(v) is Readings else (v,) for v in values)
            for chosen in itertools.product(*choices):
                yield (number, *chosen)
        else:
            yield (number, *(v[0] if type(v) is Readings else v for v in values))


class Linker:
    """Links records to a fixed set of known ones (residents) under a schema."""

    def __init__(self, schema: Schema, known: dict[str, Any]):
        self.schema = schema
        self._known = known
        self._index: dict[tuple[Any, ...], list[str]] = defaultdict(list)
        for key, record in known.items():
            for block in _blocks(schema, record):
                self._index[block].append(key)

    def __len__(self) -> int:
        return len(self._known)

    def decide(self, record: Any) -> Decision:
        """Score every candidate sharing a block with the record and decide link, review or no match."""
        candidates: set[str] = set()
        for block in _blocks(self.schema, record):
            candidates.update(self._index.get(block, ()))
        if not candidates:
            return Decision(NO_MATCH, None, 0.0)
        ranked = sorted(((score(self.schema, record, self._known[k]), k) for k in candidates), reverse=True)
        best, key = ranked[0]
        runner_up = ranked[1][0] if len(ranked) > 1 else float("-inf")
        if best >= self.schema.link_at and best - runner_up >= self.schema.margin:
            return Decision(LINK, key, best)
        if best >= self.schema.review_at:
            return Decision(REVIEW, key, best)
        return Decision(NO_MATCH, None, best)
