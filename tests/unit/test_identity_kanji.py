"""Kanji name comparison form."""

from __future__ import annotations

import unicodedata

import pytest

from identity.kanji import KANJI_VARIANTS, normalise_kanji_name

pytestmark = pytest.mark.unit

REQUIRED_FOLDS = {
    "髙": "高",
    "﨑": "崎",
    "嵜": "崎",
    "邊": "辺",
    "邉": "辺",
    "澤": "沢",
    "齋": "斉",
    "齊": "斉",
    "斎": "斉",
    "濱": "浜",
    "櫻": "桜",
    "國": "国",
    "廣": "広",
    "惠": "恵",
    "眞": "真",
    "德": "徳",
    "黑": "黒",
    "龍": "竜",
}


@pytest.mark.parametrize(("variant", "plain"), sorted(REQUIRED_FOLDS.items()))
def test_required_variants_fold(variant: str, plain: str) -> None:
    assert normalise_kanji_name(variant) == plain


@pytest.mark.parametrize(
    "spellings",
    [
        ["髙橋 一郎", "高橋一郎", "高橋\u3000一郎", "高橋  一郎 "],
        ["山﨑花子", "山崎 花子", "山嵜　花子"],
        ["渡邊", "渡邉", "渡辺", "渡邉\U000e0101"],
        ["齋藤", "齊藤", "斎藤", "斉藤"],
        ["𠮷田", "吉田"],
        ["ﾔﾏﾀﾞ花子", "ヤマダ花子"],
    ],
)
def test_spellings_share_a_comparison_form(spellings: list[str]) -> None:
    assert len({normalise_kanji_name(s) for s in spellings}) == 1


def test_spaces_of_any_width_are_removed() -> None:
    assert normalise_kanji_name(" 山田\u3000 太郎\t") == "山田太郎"


@pytest.mark.parametrize("raw", ["", None, " \u3000 "])
def test_empty_gives_empty(raw: str | None) -> None:
    assert normalise_kanji_name(raw) == ""


def test_table_is_nfkc_stable_and_flat() -> None:
    for variant, plain in KANJI_VARIANTS.items():
        assert unicodedata.normalize("NFKC", variant) == variant, variant
        assert plain not in KANJI_VARIANTS, plain


def test_normalisation_is_idempotent() -> None:
    text = "".join(KANJI_VARIANTS) + " 山田　太郎"
    once = normalise_kanji_name(text)
    assert normalise_kanji_name(once) == once
