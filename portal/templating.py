"""The Jinja2 environment of the portal's pages (autoescaped, served from the package)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fastapi.templating import Jinja2Templates

from watchlist.outcomes import OUTCOME_LABELS

TIER_ASKS = {"urgent": "本日確認", "high": "数日以内に訪問", "watch": "見守り継続"}
TIER_NAMES = {"urgent": "至急", "high": "高", "watch": "注意"}
ROLE_NAMES = {
    "outreach": "訪問担当",
    "steward": "データ管理",
    "auditor": "監査",
    "admin": "管理者",
    "integration": "システム連携",
}
WEEKDAYS = "月火水木金土日"

templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")


def japanese_date(value: dt.date | str | None) -> str:
    """2026-11-04 -> 2026年11月4日（水）."""
    if not value:
        return ""
    day = dt.date.fromisoformat(value[:10]) if isinstance(value, str) else value
    return f"{day.year}年{day.month}月{day.day}日（{WEEKDAYS[day.weekday()]}）"


def time_range(start: str | None, end: str | None) -> str:
    """An evidence window in short Japanese: 11/1 16:33〜11/3 16:51."""

    def short(text: str | None) -> str:
        if not text:
            return ""
        moment = dt.datetime.fromisoformat(text)
        clock = "" if (moment.hour, moment.minute) == (0, 0) else f" {moment:%H:%M}"
        return f"{moment.month}/{moment.day}{clock}"

    first, last = short(start), short(end)
    return first if first == last or not last else f"{first}〜{last}"


templates.env.globals.update(
    TIER_ASKS=TIER_ASKS, TIER_NAMES=TIER_NAMES, ROLE_NAMES=ROLE_NAMES, OUTCOME_LABELS=OUTCOME_LABELS
)
templates.env.filters["jdate"] = japanese_date
templates.env.filters["time_range"] = time_range
