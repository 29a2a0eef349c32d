"""Address normalisation into town, block and building."""

from __future__ import annotations

from dataclasses import FrozenInstanceError

import pytest
from hypothesis import given
from hypothesis import strategies as st

from identity.address import Address, normalise_address
from identity.placename import town_readings

pytestmark = pytest.mark.unit

KANJI_DIGITS = "〇一二三四五六七八九"
DASHES = ["-", "－", "ー", "‐", "−", "―", "‑", "–", "—", "ｰ"]
FULL_WIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")
# Town names that contain numerals or unit words of their own.
TOWNS = [
    "本町",
    "三田町",
    "一番町",
    "麻布十番",
    "六本木",
    "八丁堀",
    "十日町",
    "北1条西",
    "千代田",
    "二子玉川",
]
BUILDINGS = ["", "メゾン本町 101号室", "第2ビル 3F", "サンハイツ"]


def kanji_number(n: int) -> str:
    """Write 1-99 the way addresses do: 三, 十二, 二十三."""
    tens, units = divmod(n, 10)
    head = "" if tens == 0 else ("" if tens == 1 else KANJI_DIGITS[tens]) + "十"
    return head + (KANJI_DIGITS[units] if units else "")


def block_styles(c: int, b: int, g: int, dash: str) -> list[str]:
    """Return the block c-b-g in every style partners use."""
    k = kanji_number
    return [
        f"{c}-{b}-{g}",
        f"{c}{dash}{b}{dash}{g}".translate(FULL_WIDTH_DIGITS),
        f"{c}{dash}{b}{dash}{g}",
        f"{k(c)}丁目{k(b)}番{k(g)}号",
        f"{c}丁目{b}番{g}号",
        f"{c}丁目{b}番地{g}",
        f"{c}丁目{b}番地の{g}",
        f"{c}の{b}の{g}",
        f"{k(c)}丁目{b}-{g}",
        f"{c}丁目 {b}番 {g}号",
        f"{c}丁目{b}番{g}号".translate(FULL_WIDTH_DIGITS),
    ]


@pytest.mark.parametrize(
    "raw",
    [
        "本町一丁目二番三号",
        "本町1-2-3",
        "本町１－２－３",
        "本町1丁目2番地3",
        "本町1の2の3",
        "本町1丁目2番3号",
        "本町１丁目２番３号",
        "本町1ー2ー3",
        "本町1‐2‐3",
        "本町1−2−3",
        "本町1―2―3",
        "本町1ｰ2ｰ3",
        "本町 1-2-3",
        "本町1丁目2-3",
        "本町一丁目2-3",
        "東京都港区本町1-2-3",
        "港区本町1-2-3",
        "東京都　港区　本町一丁目二番三号",
        "〒105-0001 東京都港区本町1-2-3",
    ],
)
def test_block_styles_agree(raw: str) -> None:
    address = normalise_address(raw, prefecture="東京都", city="港区")
    assert address == Address("本町", "1-2-3", "")
    assert address.key == "本町 1-2-3"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("三田町1-2-3", Address("三田町", "1-2-3", "")),
        ("三田町三丁目二番一号", Address("三田町", "3-2-1", "")),
        ("三田2丁目3-4", Address("三田", "2-3-4", "")),
        ("一番町1-2", Address("一番町", "1-2", "")),
        ("一番町二番地", Address("一番町", "2", "")),
        ("麻布十番1-2-3", Address("麻布十番", "1-2-3", "")),
        ("麻布十番一丁目2-3", Address("麻布十番", "1-2-3", "")),
        ("六本木6-10-1 六本木ヒルズ森タワー", Address("六本木", "6-10-1", "六本木ヒルズ森タワー")),
        ("八丁堀二丁目5", Address("八丁堀", "2-5", "")),
        ("十日町1-2", Address("十日町", "1-2", "")),
        ("北1条西2丁目", Address("北1条西", "2", "")),
        ("北一番丁1-2", Address("北一番丁", "1-2", "")),
        ("一の宮1-2", Address("一の宮", "1-2", "")),
        ("本町二十三番地の四", Address("本町", "23-4", "")),
        ("本町十二番", Address("本町", "12", "")),
        ("本町百五番地", Address("本町", "105", "")),
        ("本町123番地 101号室", Address("本町", "123", "101号室")),
        ("本町1丁目", Address("本町", "1", "")),
        ("本町三丁目", Address("本町", "3", "")),
        ("本町1-2-3-405", Address("本町", "1-2-3-405", "")),
        ("本町1丁目2番3号 メゾン本町　101号室", Address("本町", "1-2-3", "メゾン本町 101号室")),
        ("本町1-2-3　第２ビル　　３Ｆ", Address("本町", "1-2-3", "第2ビル 3F")),
        ("本町1-2-3サンハイツ201", Address("本町", "1-2-3", "サンハイツ201")),
        ("霞ヶ関1-2", Address("霞ケ関", "1-2", "")),
        ("1-2-3", Address("", "1-2-3", "")),
    ],
)
def test_examples(raw: str, expected: Address) -> None:
    assert normalise_address(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("本町", Address("本町", "", "")), ("三田町", Address("三田町", "", "")), ("", Address("", "", ""))],
)
def test_missing_block_gives_empty_block(raw: str, expected: Address) -> None:
    assert normalise_address(raw) == expected
    assert normalise_address(None) == Address("", "", "")


def test_only_the_given_prefecture_and_city_are_stripped() -> None:
    raw = "東京都港区本町1-2-3"
    assert normalise_address(raw).town == "東京都港区本町"
    assert normalise_address(raw, prefecture="東京都").town == "港区本町"
    assert normalise_address(raw, city="港区").town == "東京都港区本町"
    assert normalise_address(raw, prefecture="大阪府", city="北区").town == "東京都港区本町"
    assert normalise_address("港区本町1-2-3", prefecture="東京都", city="港区").town == "本町"


def test_address_is_frozen() -> None:
    address = normalise_address("本町1-2-3")
    with pytest.raises(FrozenInstanceError):
        address.town = "x"  # type: ignore[misc]


@given(
    town=st.sampled_from(TOWNS),
    numbers=st.tuples(*(st.integers(min_value=1, max_value=99) for _ in range(3))),
    style=st.integers(min_value=0, max_value=10),
    dash=st.sampled_from(DASHES),
    prefix=st.sampled_from(["", "東京都", "東京都港区", "港区", "東京都 港区 ", "東京都\u3000"]),
    building=st.sampled_from(BUILDINGS),
)
def test_every_style_gives_the_same_key(
    town: str, numbers: tuple[int, int, int], style: int, dash: str, prefix: str, building: str
) -> None:
    c, b, g = numbers
    raw = f"{prefix}{town}{block_styles(c, b, g, dash)[style]}"
    if building:
        raw += "\u3000" + building
    address = normalise_address(raw, prefecture="東京都", city="港区")
    assert address.key == f"{town_readings(town)[0]} {c}-{b}-{g}"
    assert address.building == building
