"""An Airflow notifier that records each message as a JSON line (MIMAMORI_TEST_NOTIFICATIONS), not a mail.

It takes the SMTP notifier's arguments, as `mimamori.alerts` and the deadline alert pass them, and is run by
Airflow itself: called with the context by a failure callback, awaited by the deadline's callback trigger.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from airflow.sdk import BaseNotifier


class RecordingNotifier(BaseNotifier):
    """Appends `{how, to, subject, html_content, smtp_conn_id}` to the file the environment names."""

    template_fields = ("subject", "html_content")

    def __init__(
        self,
        to: list[str],
        subject: str,
        html_content: str,
        smtp_conn_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.to, self.subject, self.html_content, self.smtp_conn_id = to, subject, html_content, smtp_conn_id

    def _record(self, how: str) -> None:
        line = {
            "how": how,
            "to": list(self.to),
            "subject": self.subject,
            "html_content": self.html_content,
            "smtp_conn_id": self.smtp_conn_id,
        }
        with Path(os.environ["MIMAMORI_TEST_NOTIFICATIONS"]).open("a", encoding="utf-8") as out:
            out.write(json.dumps(line, ensure_ascii=False) + "\n")

    def notify(self, context: Any) -> None:
        """A failure callback's message."""
        self._record("sync")

    async def async_notify(self, context: Any) -> None:
        """A deadline callback's message (run by the triggerer)."""
        self._record("async")


def recorded(path: Path) -> list[dict[str, Any]]:
    """Every message recorded so far."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
