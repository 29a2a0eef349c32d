"""What each step reads and writes, declared where the step is defined; lineage datasets come from here.

A step names the warehouse tables it reads and writes and the kinds of files it reads (register
extracts, consent files, inbox deliveries) and writes (published lists). `tests/integration/
test_lineage_declared.py` runs a small day with statement capture and fails when a step touches a table
it did not declare, writes one it declared only as read, or declares one it never touches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal, TypeVar

from warehouse.models import Base

FileIn = Literal["register", "consents", "inbox"]
FileOut = Literal["outbox"]
F = TypeVar("F", bound=Callable[..., object])
T = TypeVar("T", bound=str)


def _unique(names: Iterable[T]) -> tuple[T, ...]:
    return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class Declared:
    """Tables a step reads (only) and writes, and the kinds of files it reads and writes."""

    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    reads_files: tuple[FileIn, ...] = ()
    writes_files: tuple[FileOut, ...] = ()

    def __post_init__(self) -> None:
        unknown = set(self.reads) | set(self.writes)
        unknown -= set(Base.metadata.tables)
        if unknown:
            raise ValueError(f"not a warehouse table: {', '.join(sorted(unknown))}")
        object.__setattr__(self, "writes", _unique(self.writes))
        object.__setattr__(self, "reads", tuple(t for t in _unique(self.reads) if t not in self.writes))

    def __or__(self, other: Declared) -> Declared:
        """A step made of two others: what either reads and writes (a table written by one is written)."""
        return Declared(
            self.reads + other.reads,
            self.writes + other.writes,
            _unique(self.reads_files + other.reads_files),
            _unique(self.writes_files + other.writes_files),
        )


DECLARED: dict[str, Declared] = {}


def declares(step: str, declared: Declared) -> Callable[[F], F]:
    """Register what the decorated step reads and writes under its name; the function is unchanged."""

    def register(function: F) -> F:
        DECLARED[step] = declared
        return function

    return register


def declared_for(step: str) -> Declared:
    """The declaration of a step (nothing for a step that declared nothing)."""
    return DECLARED.get(step, Declared())
