"""Address, date and phone forms that registers and partners write differently, one class at a time.

Each class is a small register and a partner's customers: consented residents written the partner's
way (the right answer is their resident) and, for the classes where keys used to merge two places,
namesakes living at the confusable place (the right answer is no match). Customers carry only the
fields that make the class decide the link (no birth date for address classes, and so on).
Deterministic for a seed; every example is made up here.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

SURNAMES = [
    ("ヤマダ", "山田"), ("スズキ", "鈴木"), ("タナカ", "田中"), ("ワタナベ", "渡辺"), ("イトウ", "伊藤"),
    ("ナカムラ", "中村"), ("コバヤシ", "小林"), ("カトウ", "加藤"), ("ヨシダ", "吉田"), ("ヤマモト", "山本"),
    ("マツモト", "松本"), ("イノウエ", "井上"), ("キムラ", "木村"), ("ハヤシ", "林"), ("シミズ", "清水"),
    ("ヤマグチ", "山口"), ("モリ", "森"), ("イケダ", "池田"), ("ハシモト", "橋本"), ("イシカワ", "石川"),
    ("オガワ", "小川"), ("オカダ", "岡田"), ("ゴトウ", "後藤"), ("ハセガワ", "長谷川"), ("ムラカミ", "村上"),
    ("コンドウ", "近藤"), ("イシイ", "石井"), ("サカモト", "坂本"), ("エンドウ", "遠藤"), ("アオキ", "青木"),
]  # fmt: skip
GIVEN = [
    ("ハナコ", "花子"), ("タロウ", "太郎"), ("キヨシ", "清"), ("ミチコ", "道子"), ("カズオ", "和夫"),
    ("ヨシコ", "良子"), ("ススム", "進"), ("フミエ", "文恵"), ("マサオ", "正夫"), ("トシコ", "敏子"),
    ("イサム", "勇"), ("ヤスコ", "康子"), ("シゲル", "茂"), ("カツコ", "勝子"), ("ヒロシ", "博"),
    ("セツコ", "節子"), ("ミノル", "稔"), ("ノブコ", "信子"), ("タカシ", "隆"), ("サチコ", "幸子"),
    ("オサム", "修"), ("ケイコ", "恵子"), ("アキラ", "明"), ("チヨ", "千代"), ("マサル", "勝"),
    ("フサコ", "房子"), ("イチロウ", "一郎"), ("ハルエ", "春江"), ("サブロウ", "三郎"), ("キミエ", "君江"),
]  # fmt: skip
TOWNS = ["岡津", "新曽", "辻", "根岸", "浜田", "松原", "柳沢", "高島", "北山", "南台"]
OLD_TOWNS = [("澤田", "沢田"), ("髙島", "高島"), ("莵原", "菟原"), ("檜山", "桧山"), ("冝野", "宜野")]
OLD_NAMES = [("澤", "沢"), ("髙", "高"), ("稻", "稲"), ("藪", "薮"), ("會", "会"), ("豐", "豊"), ("栁", "柳")]
MUNICIPALITIES = [
    ("和歌山県", "東牟婁郡串本町", ["串本町", "和歌山東牟婁郡串本町", "和歌山県串本町", "東牟婁郡串本町"]),
    ("大阪府", "堺市北区", ["堺市", "北区", "大阪府堺市", "大阪府堺市北区"]),
    ("千葉県", "鎌ケ谷市", ["鎌ヶ谷市", "鎌が谷市", "千葉鎌ヶ谷市", "千葉県鎌ケ谷市"]),
    ("和歌山県", "和歌山市", ["和歌山巿", "和歌山県和歌山巿", "和歌山市", "和歌山和歌山市"]),
]
PREFECTURE, CITY = "架空県", "西浜市"
KANJI_DIGITS = "〇一二三四五六七八九"


def kanji(n: int) -> str:
    """1-9999 in kanji with units (三十二, 千三百二)."""
    out = ""
    for value, unit in ((1000, "千"), (100, "百"), (10, "十")):
        count, n = divmod(n, value)
        if count:
            out += ("" if count == 1 else KANJI_DIGITS[count]) + unit
    return out + (KANJI_DIGITS[n] if n else "")


@dataclass(frozen=True)
class Row:
    """One identity: kana, kanji, birth date, address, phone, and the municipality it is read under."""

    kana: str
    kanji: str
    birth: str
    address: str
    phone: str
    prefecture: str = PREFECTURE
    city: str = CITY


@dataclass(frozen=True)
class Case:
    """A resident as the register holds them, the partner's copy, and an optional confusable namesake."""

    register: Row
    partner: Row
    namesake: Row | None = None  # a non-resident with the resident's name at another place


# A class: one case from a random source, a name and birth date.
Maker = Callable[[random.Random, tuple[str, str], str], Case]


def _birth(rng: random.Random) -> str:
    return f"{rng.randint(1930, 1960)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _lot(rng: random.Random) -> tuple[int, int]:
    return rng.randint(1, 2999), rng.randint(1, 40)


def _address_case(register: str, partner: str, name: tuple[str, str], namesake: str | None = None) -> Case:
    kana, kanji_name = name
    return Case(
        Row(kana, kanji_name, "1940-01-01", register, ""),
        Row(kana, kanji_name, "", partner, ""),
        Row(kana, kanji_name, "", namesake, "") if namesake else None,
    )


def oaza(rng: random.Random, name: tuple[str, str], _: str) -> Case:
    town, (lot, sub) = rng.choice(TOWNS), _lot(rng)
    head = rng.choice(["大字", "字", "西浜市大字"])
    return _address_case(f"{head}{town}{lot}-{sub}", f"{town}{lot}番地{sub}", name)


def chome_and_numbered_towns(rng: random.Random, name: tuple[str, str], _: str) -> Case:
    c, b, g, n = rng.randint(1, 9), rng.randint(1, 30), rng.randint(1, 30), rng.randint(1, 30)
    register, partner = rng.choice(
        [
            (f"新金岡町{c}丁{b}-{g}", f"新金岡町{c}丁目{b}番{g}号"),
            (f"北{kanji(n)}条西{c}丁目{b}-{g}", f"北{n}条西{c}-{b}-{g}"),
            (f"{kanji(n % 10 + 1)}番丁{b}-{g}", f"{n % 10 + 1}番町{b}-{g}"),
        ]
    )
    return _address_case(register, partner, name)


def kanji_numerals(rng: random.Random, name: tuple[str, str], _: str) -> Case:
    town, (lot, sub) = rng.choice(TOWNS), _lot(rng)
    register, partner = rng.choice(
        [
            (f"{town}{kanji(lot)}番地{sub}", f"{town}{lot}-{sub}"),
            (f"{town}{kanji(lot)}", f"{town}{lot}"),
            (f"{town}六{lot}番地{sub}", f"{town}六{lot}-{sub}"),
        ]
    )
    return _address_case(register, partner, name)


def rooms(rng: random.Random, name: tuple[str, str], _: str) -> Case:
    town, (lot, sub) = rng.choice(TOWNS), _lot(rng)
    room = rng.randint(1, 12) * 100 + rng.randint(1, 12)
    c, b, g = rng.randint(1, 9), rng.randint(1, 30), rng.randint(1, 30)
    register, partner = rng.choice(
        [
            (f"{town}{lot}-{sub}", f"{town}{lot}-{sub}-{room}"),
            (f"{town}{c}-{b}-{g}", f"{town}{c}-{b}-{g}-{room}"),
        ]
    )
    return _address_case(register, partner, name)


def municipality(rng: random.Random, name: tuple[str, str], _: str) -> Case:
    prefecture, city, spellings = rng.choice(MUNICIPALITIES)
    town, (lot, sub) = rng.choice(TOWNS), _lot(rng)
    case = _address_case(
        f"{prefecture}{city}{town}{lot}-{sub}", f"{rng.choice(spellings)}{town}{lot}-{sub}", name
    )
    return Case(
        Row(**{**case.register.__dict__, "prefecture": prefecture, "city": city}),
        Row(**{**case.partner.__dict__, "prefecture": prefecture, "city": city}),
    )


def wrong_merges(rng: random.Random, name: tuple[str, str], _: str) -> Case:
    town, (lot, sub), n = rng.choice(TOWNS), _lot(rng), rng.randint(1, 30)
    c, b, g, x = rng.randint(1, 9), rng.randint(1, 30), rng.randint(1, 30), rng.randint(1, 30)
    other = x % 30 + 1
    register, partner, namesake = rng.choice(
        [
            (f"{town}{c}-{b}-{g}-{x}", f"{town}{c}丁目{b}-{g}-{x}", f"{town}{c}-{b}-{g}-{other}"),
            (
                f"{town}第{n}地割{lot}番地{sub}",
                f"{town}第{n}地割{lot}-{sub}",
                f"{town}第{n}地割{lot + 1}番地{sub}",
            ),
            (f"{n}号北{lot}番地", f"{n}号北{lot}", f"{n}号南{lot + 1}番地"),
            (f"{n}ノ町{b}-{g}", f"{n}ノ町{b}番{g}号", f"{n}ノ町{b + 1}-{other}"),
            (f"{town}{lot}-イ{x}", f"{town}{lot}ーイ{x}", f"{town}{lot}-ロ{other}"),
        ]
    )  # fmt: skip
    return _address_case(register, partner, name, namesake)


def old_kanji(rng: random.Random, name: tuple[str, str], birth: str) -> Case:
    (old_town, new_town), (old, new) = rng.choice(OLD_TOWNS), rng.choice(OLD_NAMES)
    lot, sub = _lot(rng)
    kana, kanji_name = name
    register_name, partner_name = new + kanji_name[1:], old + kanji_name[1:]
    return Case(
        Row(kana, register_name, birth, f"{new_town}{lot}-{sub}", ""),
        Row("", partner_name, birth, f"{old_town}{lot}-{sub}", ""),
    )


def dates(rng: random.Random, name: tuple[str, str], _: str) -> Case:
    year, month, day = rng.randint(1927, 1960), rng.randint(1, 12), rng.randint(1, 28)
    era = year - 1925
    written = rng.choice(
        [
            f"昭{era}/{month:02d}/{day:02d}",
            f"昭{era}.{month}.{day}",
            f"S{era:02d}{month:02d}{day:02d}",
            f"3{era:02d}{month:02d}{day:02d}",
            f"昭和{kanji(era)}年{kanji(month)}月{kanji(day)}日",
            f"昭和{era}年{month:02d}月{day:02d}日生",
            f"{year}-{month:02d}-{day:02d}T00:00:00",
            f"{year}/{month:02d}/{day:02d} 0:00:00",
        ]
    )
    kana, kanji_name = name
    other = f"{year + 3}-{month:02d}-{day:02d}"
    return Case(
        Row(kana, kanji_name, f"{year}-{month:02d}-{day:02d}", "", ""),
        Row(kana, kanji_name, written, "", ""),
        Row(kana, kanji_name, other, "", ""),
    )


def phones(rng: random.Random, name: tuple[str, str], birth: str) -> Case:
    area, local = rng.choice(["3", "6", "45", "52"]), rng.randint(10**7, 10**8 - 1)
    digits = f"0{area}{local}"[:10]
    shown = f"{digits[:-8]}-{digits[-8:-4]}-{digits[-4:]}"
    mobile = f"090-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}"
    written = rng.choice(
        [
            f"0081-{shown[1:]}",
            f"81{digits[1:]}",
            f"{shown} 内線{rng.randint(1, 999)}",
            f"{shown} {mobile}",
            f"{shown}/{mobile}",
        ]
    )
    kana, kanji_name = name
    return Case(Row(kana, kanji_name, birth, "", shown), Row(kana, kanji_name, "", "", written))


def shared_phones(rng: random.Random, name: tuple[str, str], birth: str) -> Case:
    service = rng.choice(["0120-{}-{}", "0570-{}-{}"]).format(rng.randint(100, 999), rng.randint(100, 999))
    kana, kanji_name = name
    # Only a namesake elsewhere writes the care office's free number: the right answer is no match.
    return Case(
        Row(kana, kanji_name, birth, "", service),
        Row("", "", "", "", ""),
        Row(kana, kanji_name, "", "", service),
    )


CLASSES: dict[str, Maker] = {
    "大字/字 one side": oaza,
    "N丁, numbered towns": chome_and_numbered_towns,
    "kanji numerals": kanji_numerals,
    "room as extra part": rooms,
    "municipality spelling": municipality,
    "wrong merges": wrong_merges,
    "old/variant kanji": old_kanji,
    "date forms": dates,
    "phone forms": phones,
    "shared phone numbers": shared_phones,
}


def generate(maker: Maker, cases: int, seed: int) -> list[Case]:
    """``cases`` cases of one class, each resident with a name of their own."""
    rng = random.Random(seed)
    names = [(s[0] + "　" + g[0], s[1] + "　" + g[1]) for s in SURNAMES for g in GIVEN]
    rng.shuffle(names)
    return [maker(rng, names[i % len(names)], _birth(rng)) for i in range(cases)]
