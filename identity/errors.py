"""Errors raised by the identifier normalisers.

Hierarchy::

    ValueError
     └── InvalidIdentifier   (field name + reason only, never the raw value)

Identifiers are personal data, so an ``InvalidIdentifier`` message carries the
field name and a reason sentence and nothing else; callers must not add the
offending value to it, to a log line, or to a validation result.
"""

from __future__ import annotations

__all__ = ["InvalidIdentifier"]


class InvalidIdentifier(ValueError):
    """An identifier value could not be normalised; the message names the field and the reason only."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason

    def __reduce__(self) -> tuple[type[InvalidIdentifier], tuple[str, str]]:
        """Pickle by field and reason so the exception survives process boundaries."""
        return (type(self), (self.field, self.reason))
