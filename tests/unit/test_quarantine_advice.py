"""Held-back deliveries' recorded reasons read as Japanese advice with a next step."""

from __future__ import annotations

import pytest

from expectations.advice import GENERAL, advise

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("deliveries.csv: declared cp932 but the bytes are UTF-8 (first non-ASCII at line 1)", "encoding"),
        ("events.csv: not valid utf-8 at line 12", "encoding"),
        ("expectations failed: expect_column_values_to_not_be_null(event_time)", "validation"),
        ("ファイル a.csv が読み込み中に変更されました / file a.csv changed while being read", "checksum"),
        ("マニフェストの rows が不正です / manifest files[].rows is not a whole number", "manifest"),
        ("配信の処理中に予期しないエラーが発生しました（KeyError） / unexpected error", "unexpected"),
    ],
)
def test_recorded_reasons_get_their_advice(reason: str, kind: str) -> None:
    advice = advise(reason)
    assert advice.kind == kind
    assert advice.what_ja and advice.next_ja


def test_an_unknown_reason_still_says_what_to_do() -> None:
    assert advise("something new") is GENERAL and GENERAL.next_ja
    assert advise(None) is GENERAL
