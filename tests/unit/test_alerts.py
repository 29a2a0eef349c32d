"""Messages of a failed morning: escaped for the mail's HTML, and never sent into the void."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import pytest

from mimamori import alerts

pytestmark = pytest.mark.unit


class Kept:
    """A notifier class as alerts builds one: the SMTP notifier's arguments, then called with the context."""

    sent: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs

    def __call__(self, context: dict[str, Any]) -> None:
        Kept.sent.append(self.kwargs)


def test_a_message_goes_through_the_named_notifier_with_the_smtp_arguments_and_escaped_text():
    Kept.sent.clear()
    alerting = {
        "notifier": f"{__name__}.Kept",
        "to": ["kaigo@example.lg.jp"],
        "smtp_conn_id": "mimamori_alerts",
    }
    alerts.notify(alerting, "件名", "一行目 <build>\n二行目 & more")
    assert Kept.sent == [
        {
            "to": ["kaigo@example.lg.jp"],
            "subject": "件名",
            "html_content": "<p>一行目 &lt;build&gt;<br>二行目 &amp; more</p>",
            "smtp_conn_id": "mimamori_alerts",
        }
    ]


def test_without_recipients_nothing_is_sent_and_the_log_says_so(caplog: pytest.LogCaptureFixture):
    Kept.sent.clear()
    with caplog.at_level(logging.ERROR, logger="mimamori.alerts"):
        alerts.notify({"notifier": f"{__name__}.Kept", "to": [], "smtp_conn_id": None}, "件名", "本文")
    assert Kept.sent == [] and "MIMAMORI_ALERT_TO is empty" in caplog.text


def test_an_errors_first_line_and_type_only():
    problem = ValueError("the rules could not be combined\n[parameters: ('row 1',)]")
    assert alerts.brief(problem) == "ValueError: the rules could not be combined"
    assert alerts.brief(None) == "(理由不明 / no reason given)"
    assert alerts.brief("task_failure") == "task_failure"
