"""How each partner writes a person's identifiers: kana width, old kanji, date and address forms."""

from __future__ import annotations

import datetime
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass

import jaconv

from mimamori_demo.town.population import Address, Person

__all__ = ["IdentityStyle", "era_date", "kanji_number", "render_identity"]

_OLD_FORMS = {"高": "髙", "崎": "﨑", "沢": "澤", "斉": "齋", "浜": "濱"}
_SMALL_TO_LARGE = str.maketrans("ァィゥェォャュョッヮ", "アイウエオヤユヨツワ")
_O_ROW = "オコゴソゾトドノホボポモヨョロヲ"
# a vowel written as a long-vowel mark after these kana (ヨウコ -> ヨーコ, トオル -> トール)
_LENGTHENS = {"ウ": _O_ROW + "ウクグスズツヅヌフブプムユュル", "オ": _O_ROW}
_DASHES = ("-", "－", "ー", "‐", "−", "―")
_FULLWIDTH_DIGITS = str.maketrans("0123456789-", "０１２３４５６７８９－")
_KANJI_DIGITS = "〇一二三四五六七八九"
# first day of each era, newest first, with the one-letter abbreviation
_ERAS = (
    (datetime.date(2019, 5, 1), "令和", "R"),
    (datetime.date(1989, 1, 8), "平成", "H"),
    (datetime.date(1926, 12, 25), "昭和", "S"),
    (datetime.date(1912, 7, 30), "大正", "T"),
    (datetime.date(1868, 10, 23), "明治", "M"),
)


@dataclass(frozen=True)
class IdentityStyle:
    """One partner's habits when writing identifiers; weights are (choice, weight) pairs."""

    kana: str = "fullwidth"  # fullwidth | halfwidth_legacy | hiragana_sometimes
    separators: tuple[tuple[str, float], ...] = (("\u3000", 1.0),)
    old_forms: float = 0.0
    long_vowels: float = 0.0
    no_kanji: float = 0.0
    birth_formats: tuple[tuple[str, float], ...] = (("iso", 1.0),)
    no_birth: float = 0.0
    address_forms: tuple[tuple[str, float], ...] = (("arabic", 1.0),)
    address_prefixes: tuple[tuple[str, float], ...] = (("full", 1.0),)
    keep_building: float = 1.0
    phone_forms: tuple[tuple[str, float], ...] = (("plain", 1.0),)
    no_phone: float = 0.0


def _pick(rng: random.Random, table: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([c for c, _ in table], weights=[w for _, w in table], k=1)[0]


def kanji_number(n: int) -> str:
    """Write 1-99 in kanji numerals as addresses do (一, 十二, 二十三)."""
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _KANJI_DIGITS[tens] + "十")
    return head + (_KANJI_DIGITS[ones] if ones else "")


def era_date(day: datetime.date, short: bool) -> str:
    """Japanese era form, `昭和20年3月2日` or (short) `S20.3.2`."""
    for first, kanji, letter in _ERAS:
        if day >= first:
            year = day.year - first.year + 1
            if short:
                return f"{letter}{year}.{day.month}.{day.day}"
            return f"{kanji}{'元' if year == 1 else year}年{day.month}月{day.day}日"
    raise ValueError("date before the Meiji era")


_BIRTH_FORMATS: dict[str, Callable[[datetime.date], str]] = {
    "iso": lambda d: d.isoformat(),
    "slash": lambda d: f"{d.year}/{d.month}/{d.day}",
    "compact": lambda d: d.strftime("%Y%m%d"),
    "era_kanji": lambda d: era_date(d, short=False),
    "era_letter": lambda d: era_date(d, short=True),
}


def _lengthen(kana: str) -> str:
    """Write ou/uu/oo as a long-vowel mark (ヨウコ -> ヨーコ), as some systems do."""
    out = [kana[0]] if kana else []
    for prev, ch in itertools.pairwise(kana):
        out.append("ー" if prev in _LENGTHENS.get(ch, "") else ch)
    return "".join(out)


def _kana(rng: random.Random, person: Person, style: IdentityStyle, sep: str) -> str:
    family, given = person.name.family_kana, person.name.given_kana
    if rng.random() < style.long_vowels:
        family, given = _lengthen(family), _lengthen(given)
    if style.kana == "halfwidth_legacy":
        text = f"{family}{' ' if sep else ''}{given}".translate(_SMALL_TO_LARGE)
        return str(jaconv.z2h(text, kana=True, digit=False, ascii=False))
    text = f"{family}{sep}{given}"
    if style.kana == "hiragana_sometimes" and rng.random() < 0.35:
        return str(jaconv.kata2hira(text))
    return text


def _kanji(rng: random.Random, person: Person, style: IdentityStyle, sep: str) -> str:
    if rng.random() < style.no_kanji:
        return ""
    family = person.name.family_kanji
    if rng.random() < style.old_forms:
        family = "".join(_OLD_FORMS.get(c, c) for c in family).replace("辺", rng.choice("邊邉"))
    return f"{family}{sep}{person.name.given_kanji}"


def _block(rng: random.Random, a: Address, form: str) -> str:
    if form == "kanji":
        return f"{kanji_number(a.chome)}丁目{kanji_number(a.ban)}番{kanji_number(a.go)}号"
    if form in ("dash", "dash_fullwidth"):
        dash = rng.choice(_DASHES)
        text = dash.join(str(n) for n in (a.chome, a.ban, a.go))
        return text.translate(_FULLWIDTH_DIGITS) if form == "dash_fullwidth" else text
    text = f"{a.chome}丁目{a.ban}番{a.go}号"
    return text.translate(_FULLWIDTH_DIGITS) if form == "fullwidth" else text


def _address(rng: random.Random, a: Address, style: IdentityStyle) -> str:
    prefix = {"full": a.prefecture + a.city, "city": a.city, "none": ""}[_pick(rng, style.address_prefixes)]
    text = prefix + a.town + _block(rng, a, _pick(rng, style.address_forms))
    if a.building and rng.random() < style.keep_building:
        room = rng.choice(
            (f"{a.room}", f"{a.room}号室", f"{a.room}".translate(_FULLWIDTH_DIGITS), f"{a.room}号")
        )
        text += rng.choice(("\u3000", " ", "")) + a.building + room
    return text


def _phone(rng: random.Random, phone: str, style: IdentityStyle) -> str:
    if not phone or rng.random() < style.no_phone:
        return ""
    head, mid, tail = phone.split("-")
    return {
        "plain": phone,
        "paren": f"({head}){mid}-{tail}",
        "fullwidth": phone.translate(_FULLWIDTH_DIGITS),
        "digits": head + mid + tail,
        "space": f"{head} {mid} {tail}",
    }[_pick(rng, style.phone_forms)]


def render_identity(rng: random.Random, person: Person, style: IdentityStyle) -> dict[str, str]:
    """The five personal identifier columns as one partner's records hold them."""
    sep = _pick(rng, style.separators)
    birth = (
        "" if rng.random() < style.no_birth else _BIRTH_FORMATS[_pick(rng, style.birth_formats)](person.birth)
    )
    return {
        "name_kana": _kana(rng, person, style, sep),
        "name_kanji": _kanji(rng, person, style, sep),
        "birth_date": birth,
        "address": _address(rng, person.address, style),
        "phone": _phone(rng, person.phone, style),
    }
