"""A date typed into a portal form, with the Japanese error a person can act on."""

from __future__ import annotations

import datetime as dt
from typing import Literal, overload

from warehouse.errors import InputError


@overload
def form_date(text: str, label: str, required: Literal[True] = True) -> dt.date: ...
@overload
def form_date(text: str, label: str, required: bool) -> dt.date | None: ...
def form_date(text: str, label: str, required: bool = True) -> dt.date | None:
    """YYYY-MM-DD from a form field; None when optional and empty; InputError naming the field otherwise."""
    if not text.strip():
        if required:
            raise InputError(f"{label}を入力してください / {label} is required")
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{label}の日付が正しくありません / invalid date") from None
