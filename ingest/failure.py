"""A delivery is a unit of failure: which errors stop the run, and how one delivery's error is recorded."""

from __future__ import annotations

import errno

from sqlalchemy.exc import SQLAlchemyError

from warehouse.errors import ConfigurationError

# Failures that are not about one delivery: the run stops loudly instead of quarantining a delivery.
RUN_FAILURES: tuple[type[BaseException], ...] = (SQLAlchemyError, ConfigurationError)
# A full or read-only disk fails every delivery alike: that is the run's failure too.
SYSTEM_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.ENOMEM})


def about_the_run(problem: BaseException) -> bool:
    """Whether an error is the run's (database, keys, settings, disk) rather than one delivery's."""
    if isinstance(problem, RUN_FAILURES):
        return True
    return isinstance(problem, OSError) and problem.errno in SYSTEM_ERRNOS


def unexpected_reason(problem: BaseException) -> str:
    """The recorded reason for an unexpected error in one delivery: the error's type, never its values."""
    kind = type(problem).__name__
    return (
        f"配信の処理中に予期しないエラーが発生しました（{kind}） / unexpected error while processing this "
        f"delivery ({kind}); kept in quarantine, other deliveries went on"
    )
