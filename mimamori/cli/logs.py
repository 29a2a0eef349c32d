"""How the command logs: timestamped lines on stderr, or one JSON object a line for a log collector."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys

# Our own packages: -v shows their INFO, -vv their DEBUG; other libraries stay at WARNING until -vv (INFO).
OWN = (
    "mimamori",
    "mimamori_demo",
    "connectors",
    "consent",
    "expectations",
    "identity",
    "ingest",
    "lineage",
    "portal",
    "warehouse",
    "watchlist",
)


def _utc(record: logging.LogRecord) -> str:
    return dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds")


class TextFormatter(logging.Formatter):
    """`2026-11-22T21:30:00.123+00:00 WARNING mimamori.settings: message` (UTC)."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_utc(record)} {record.levelname} {record.name}: {record.getMessage()}"
        return line + ("\n" + self.formatException(record.exc_info) if record.exc_info else "")


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, and the error type when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": _utc(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__
        return json.dumps(entry, ensure_ascii=False)


def configure(verbosity: int = 0, fmt: str = "text") -> None:
    """Send every log record to stderr in the format; 0 = warnings, 1 = our INFO, 2+ = our DEBUG."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if verbosity >= 2 else logging.WARNING)
    own = logging.DEBUG if verbosity >= 2 else logging.INFO if verbosity == 1 else logging.WARNING
    for name in OWN:
        logging.getLogger(name).setLevel(own)
