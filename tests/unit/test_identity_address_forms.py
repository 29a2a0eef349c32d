"""Address forms registers and partners write for the same place, and places that must stay apart."""

from __future__ import annotations

import pytest

from identity.address import normalise_address
from identity.scoring import Readings, same

pytestmark = pytest.mark.unit

PREFECTURE, CITY = "架空県", "東架空郡西浜町"


def keys(raw: str, prefecture: str = PREFECTURE, city: str = CITY) -> tuple[str, ...]:
    return normalise_address(raw, prefecture=prefecture, city=city).keys


def agree(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether the linker counts the two addresses as the same place."""
    return same(Readings(a), Readings(b))


# (register form, partner form): one place written two ways.
SAME_PLACE = [
    # 大字/字 on one side only
    ("大字岡津310-4", "岡津310-4"),
    ("字岡津310-4", "岡津310-4"),
    ("西浜町大字岡津字北310", "岡津北310"),
    # 丁 without 目, and numbered town names
    ("浜松町3丁2-9", "浜松町3丁目2番9号"),
    ("北十六条東5丁目", "北16条東5丁目"),
    ("九番丁4-1", "9番町4-1"),
    ("第三地割15番地", "第3地割15"),
    ("船越第6地割110番地", "船越6地割110"),
    ("寺町通御池上る上本能寺前町488", "上本能寺前町488"),
    ("新町通四条下ル大黒町12", "大黒町12"),
    # kanji numerals mixed with digits or alone, a kanji just before digits
    ("岡津六番地7", "岡津6-7"),
    ("岡津三十二番地5", "岡津32-5"),
    ("岡津千三百二", "岡津1302"),
    ("辻八3041番地2", "辻八3041-2"),
    # a room as a fourth (or large third) part
    ("浜松町277-12", "浜松町277-12-302"),
    ("浜松町2-7-12", "浜松町2-7-12-1104"),
    # the municipality spelt differently
    ("架空県東架空郡西浜町岡津310", "西浜町岡津310"),
    ("架空県東架空郡西浜町岡津310", "架空東架空郡西浜町岡津310"),
    ("架空県東架空郡西浜町岡津310", "架空県西浜町岡津310"),
    ("東架空郡西浜町岡津310", "西浜町 岡津 310"),
    # old and variant kanji, ヶ/ケ/が in the town
    ("澤田1-2", "沢田1-2"),
    ("髙島3-4", "高島3-4"),
    ("菟原5", "莵原5"),
    ("旭ケ丘2-3", "旭が丘2-3"),
]


@pytest.mark.parametrize(("register", "partner"), SAME_PLACE)
def test_one_place_written_two_ways_agrees(register: str, partner: str) -> None:
    assert agree(keys(register), keys(partner)), (keys(register), keys(partner))


# Two different places that must never agree.
DIFFERENT_PLACES = [
    ("根岸3-6-23-19", "根岸3-6-23-2"),
    ("第1地割12番地", "第1地割40番地"),
    ("14号北1番地", "14号南3番地"),
    ("5ノ町1-2", "5ノ町3-4"),
    ("岡津14-イ22", "岡津14-ロ3"),
    ("岡津14イ22", "岡津14ロ3"),
    ("浜松町277-12-302", "浜松町277-12-303"),
    ("浜松町277-12", "浜松町277-13"),
    ("大字岡津310", "大字岡津311"),
    ("九番丁4-1", "8番町4-1"),
    # towns of one name in one Kyoto ward, told apart by their street
    ("寺町通御池上る大黒町12", "新町通四条下ル大黒町12"),
]


@pytest.mark.parametrize(("left", "right"), DIFFERENT_PLACES)
def test_different_places_never_agree(left: str, right: str) -> None:
    assert not agree(keys(left), keys(right)), (keys(left), keys(right))


@pytest.mark.parametrize(
    ("raw", "town", "block"),
    [
        ("新金岡町4丁1-8", "新金岡町", "4-1-8"),
        ("岡津五番地8", "岡津", "5-8"),
        ("岡津四十五番地1", "岡津", "45-1"),
        ("家六2094番地1", "家六", "2094-1"),
        ("本町198-11-405", "本町", "198-11-405"),
        ("根岸3-6-23-19", "根岸", "3-6-23-19"),
        ("第1地割12番地3", "第1地割", "12-3"),
        ("14号北1番地", "14号北", "1"),
        ("岡津14-イ22", "岡津", "14-イ22"),
        ("岡津14イ22", "岡津", "14-イ22"),
        ("ベイタウン3-1", "ベイタウン", "3-1"),
        ("麻布十番1-2-3", "麻布十番", "1-2-3"),
        ("七番丁1-2", "七番丁", "1-2"),
        ("本町123番地山田荘2", "本町", "123"),
        ("本町12番地先", "本町", "12"),
        ("本町12 松荘2", "本町", "12"),
    ],
)
def test_block_and_town(raw: str, town: str, block: str) -> None:
    address = normalise_address(raw)
    assert (address.town, address.block) == (town, block)


@pytest.mark.parametrize(
    ("raw", "prefecture", "city"),
    [
        ("和歌山県東牟婁郡串本町串本1800", "和歌山県", "東牟婁郡串本町"),
        ("串本町串本1800", "和歌山県", "東牟婁郡串本町"),
        ("和歌山東牟婁郡串本町串本1800", "和歌山県", "東牟婁郡串本町"),
        ("東牟婁郡串本町串本1800", "和歌山県", "串本町"),
        ("大阪府堺市北区串本1800", "大阪府", "堺市北区"),
        ("堺市串本1800", "大阪府", "堺市北区"),
        ("北区串本1800", "大阪府", "堺市北区"),
        ("堺市北区串本1800", "大阪府", "堺市"),
        ("千葉県鎌ヶ谷市串本1800", "千葉県", "鎌ケ谷市"),
        ("鎌が谷市串本1800", "千葉県", "鎌ケ谷市"),
        ("和歌山巿串本1800", "和歌山県", "和歌山市"),
        ("和歌山県和歌山市串本1800", "和歌山県", "和歌山市"),
    ],
)
def test_the_municipality_is_removed_in_any_spelling(raw: str, prefecture: str, city: str) -> None:
    assert normalise_address(raw, prefecture=prefecture, city=city).key == "串本 1800"


def test_a_room_reading_is_kept_beside_the_written_one() -> None:
    assert keys("本町198-11-405") == ("本町 198-11-405", "本町 198-11")
    assert keys("本町3-6-23-19") == ("本町 3-6-23-19", "本町 3-6-23")
    assert keys("本町1-2-3") == ("本町 1-2-3",)
