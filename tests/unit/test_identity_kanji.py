"""Kanji name comparison form."""

from __future__ import annotations

import unicodedata

import pytest

from identity.kanji import normalise_kanji_name
from identity.variants import variant_table

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
    for variant, plain in variant_table().items():
        assert unicodedata.normalize("NFKC", variant) == variant, variant
        assert plain not in variant_table(), plain


def test_normalisation_is_idempotent() -> None:
    text = "".join(variant_table()) + " 山田　太郎"
    once = normalise_kanji_name(text)
    assert normalise_kanji_name(once) == once


# Old forms in names and town names that partners and registers write both ways.
OLD_AND_NEW = [
    ("檜山", "桧山"),
    ("稻田", "稲田"),
    ("藪内", "薮内"),
    ("彌生", "弥生"),
    ("豐田", "豊田"),
    ("禮子", "礼子"),
    ("靜香", "静香"),
    ("穗積", "穂積"),
    ("會田", "会田"),
    ("籠谷", "篭谷"),
    ("栁田", "柳田"),
    ("莵原", "菟原"),
    ("冝野", "宜野"),
    ("澤井", "沢井"),
    ("髙木", "高木"),
]


@pytest.mark.parametrize(("old", "new"), OLD_AND_NEW)
def test_old_and_new_forms_compare_equal(old: str, new: str) -> None:
    assert normalise_kanji_name(old) == normalise_kanji_name(new)


def test_the_table_is_generated_from_maintained_sources() -> None:
    # The hand list alone had 70 rows; the generated one carries the 旧字体 tables as well.
    assert len(variant_table()) > 600
