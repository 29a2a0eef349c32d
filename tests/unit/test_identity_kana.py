"""Kana display form and comparison key."""

from __future__ import annotations

import jaconv
import pytest
from hypothesis import given
from hypothesis import strategies as st

from identity.kana import kana_key, normalise_kana

pytestmark = pytest.mark.unit

KATAKANA = [chr(code) for code in range(0x30A1, 0x30F7)] + ["ー"]
katakana_names = st.lists(st.text(alphabet=KATAKANA, min_size=1, max_size=8), min_size=1, max_size=3)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ\u3000タロウ"),
        ("ｶﾞｷﾞｸﾞｹﾞｺﾞ ﾊﾟﾋﾟﾌﾟ", "ガギグゲゴ\u3000パピプ"),
        ("ｳﾞｧｲｵﾘﾝ", "ヴァイオリン"),
        ("やまだ　たろう", "ヤマダ\u3000タロウ"),
        ("ヤマダ\u3000\u3000 タロウ", "ヤマダ\u3000タロウ"),
        ("  ヤマダ タロウ \u3000", "ヤマダ\u3000タロウ"),
        ("ヤマダタロウ", "ヤマダタロウ"),
        ("カ゛ト゛ウ", "ガドウ"),
        ("ｵｰﾀ", "オータ"),
        ("ｵ-ﾀ", "オータ"),
        ("いすゞ", "イスヾ"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_normalise_kana_examples(raw: str, expected: str) -> None:
    assert normalise_kana(raw) == expected


@pytest.mark.parametrize(
    "spellings",
    [
        ["オオタ", "オータ", "オウタ", "オタ", "ｵｵﾀ", "おおた", "ｵｰﾀ"],
        ["キョウコ", "キヨウコ", "キョーコ", "ｷｮｳｺ", "きょうこ"],
        ["ユウコ", "ユーコ", "ユコ", "ﾕｳｺ"],
        ["ケイコ", "ケーコ", "ケエコ"],
        ["サトウ", "サトー", "サトオ"],
        ["ヤマダ タロウ", "ﾔﾏﾀﾞ　ﾀﾛｳ", "やまだたろう", "ヤマダ\u3000\u3000タロウ"],
        ["チヂワ", "チジワ"],
        ["ミツヅカ", "ミツズカ", "ﾐﾂｽﾞｶ", "ﾐﾂﾂﾞｶ"],
        ["ヴィクトール", "ブイクトール", "ｳﾞｨｸﾄｰﾙ"],
        ["ハットリ", "ハツトリ", "ﾊｯﾄﾘ"],
        ["イスズ", "いすゞ", "イスヾ"],
        ["マリー・アントワネット", "マリーアントワネット"],
    ],
)
def test_kana_key_folds_spellings_together(spellings: list[str]) -> None:
    assert len({kana_key(s) for s in spellings}) == 1


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("イイダ", "イダ"),
        ("サトウ", "サイトウ"),
        ("ササキ", "サキ"),
        ("ヤマダ", "ヤマタ"),
        ("オノ", "オオクボ"),
    ],
)
def test_kana_key_keeps_distinct_names_apart(left: str, right: str) -> None:
    assert kana_key(left) != kana_key(right)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("キョウコ", "キヨコ"),
        ("ジュンイチロウ", "ジユンイチロ"),
        ("オオタ", "オタ"),
        ("ハットリ", "ハツトリ"),
        ("ヂヅヴ", "ジズブ"),
        ("ヤマダ タロウ", "ヤマダタロ"),
    ],
)
def test_kana_key_examples(raw: str, expected: str) -> None:
    assert kana_key(raw) == expected


@pytest.mark.parametrize("raw", ["", None, "   ", "\u3000"])
def test_kana_key_empty(raw: str | None) -> None:
    assert kana_key(raw) == ""


@given(katakana_names)
def test_kana_key_is_idempotent(parts: list[str]) -> None:
    key = kana_key(" ".join(parts))
    assert kana_key(key) == key


@given(katakana_names, st.sampled_from([" ", "\u3000", "  ", ""]))
def test_kana_key_ignores_width_script_and_spacing(parts: list[str], separator: str) -> None:
    text = "\u3000".join(parts)
    key = kana_key(text)
    assert kana_key(jaconv.kata2hira(text)) == key
    assert kana_key(jaconv.z2h(text, kana=True)) == key
    assert kana_key(separator.join(parts)) == key


@given(katakana_names)
def test_normalise_kana_is_idempotent_and_full_width(parts: list[str]) -> None:
    display = normalise_kana(jaconv.z2h(jaconv.kata2hira(" ".join(parts)), kana=True))
    assert normalise_kana(display) == display
    assert display == "\u3000".join(normalise_kana(part) for part in parts)
    assert not any("\uff61" <= ch <= "\uff9f" or "\u3041" <= ch <= "\u3096" for ch in display)
