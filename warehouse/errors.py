"""Errors a user can act on; messages never carry personal data.

MimamoriError
├── ConfigurationError   settings, keys, database URL
├── InputError           a file or argument that cannot be used (with the reason)
├── NotFoundError        an entry, consent or batch that does not exist
└── TamperingError       something that is signed or sealed was altered (the CLI exits 3)
    └── AuditLogError    the audit log no longer matches its signed checkpoints (or an exported head)
"""

from __future__ import annotations


class MimamoriError(Exception):
    """Base of every error the CLI turns into a one-line reason."""


class ConfigurationError(MimamoriError):
    """Settings or key material are missing or malformed."""


class InputError(MimamoriError):
    """An input file or argument cannot be used; the message says why."""


class NotFoundError(MimamoriError):
    """The requested record does not exist."""


class TamperingError(MimamoriError):
    """Signed or sealed material was altered: an audit log, a backup archive."""


class AuditLogError(TamperingError):
    """The audit log was altered: it no longer holds what a signed checkpoint says it held."""
