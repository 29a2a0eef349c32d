"""Japanese names for the synthetic town: gimei's name list plus era-typical given names."""

from __future__ import annotations

import functools
import importlib.resources
import random
from dataclasses import dataclass

import yaml

__all__ = ["Name", "NamePool", "load_name_pool"]


def _pairs(table: str) -> tuple[tuple[str, str], ...]:
    return tuple((kanji, kana) for kanji, kana in (pair.split(":") for pair in table.split()))


# Given names typical of people born before about 1965; gimei's list is mostly modern names.
_ERA_GIVEN: dict[str, tuple[tuple[str, str], ...]] = {
    "F": _pairs(
        "和子:カズコ 幸子:サチコ 節子:セツコ 洋子:ヨウコ 京子:キョウコ 美智子:ミチコ 久子:ヒサコ 恵子:ケイコ "
        "文子:フミコ 照子:テルコ 千代子:チヨコ 静子:シズコ 富子:トミコ 悦子:エツコ 順子:ジュンコ 弘子:ヒロコ "
        "澄子:スミコ 光子:ミツコ 春子:ハルコ 清子:キヨコ 昌子:マサコ 勝子:カツコ 由美子:ユミコ 祥子:ショウコ"
    ),
    "M": _pairs(
        "清:キヨシ 茂:シゲル 博:ヒロシ 勇:イサム 実:ミノル 進:ススム 正:タダシ 武:タケシ 修:オサム 昭:アキラ "
        "勝:マサル 豊:ユタカ 隆:タカシ 和夫:カズオ 正雄:マサオ 幸雄:ユキオ 昭二:ショウジ 健一:ケンイチ "
        "秀夫:ヒデオ 義男:ヨシオ 一郎:イチロウ 修一:シュウイチ 徹:トオル 恭平:キョウヘイ"
    ),
}

# Family names containing a character that has an old or variant form are drawn more often,
# so every town has some of them to exercise variant handling.
_VARIANT_CHARS = "高崎辺沢斉浜"


@dataclass(frozen=True)
class Name:
    """A person's name in kanji and full-width katakana."""

    family_kanji: str
    given_kanji: str
    family_kana: str
    given_kana: str

    @property
    def kanji(self) -> str:
        """Register form: family and given name separated by a full-width space."""
        return f"{self.family_kanji}\u3000{self.given_kanji}"

    @property
    def kana(self) -> str:
        """Register reading: full-width katakana with a full-width space."""
        return f"{self.family_kana}\u3000{self.given_kana}"


def _encodable(text: str) -> bool:
    try:
        text.encode("cp932")
    except UnicodeEncodeError:
        return False
    return True


@dataclass(frozen=True)
class NamePool:
    """Family and given names to draw from; everything in it encodes as CP932."""

    family: tuple[tuple[str, str], ...]
    family_weights: tuple[float, ...]
    given: dict[str, tuple[tuple[str, str], ...]]

    def family_name(self, rng: random.Random) -> tuple[str, str]:
        """Draw a (kanji, katakana) family name, common names more often."""
        return rng.choices(self.family, weights=self.family_weights, k=1)[0]

    def given_name(self, rng: random.Random, sex: str, birth_year: int) -> tuple[str, str]:
        """Draw a (kanji, katakana) given name fitting the sex and the generation."""
        if birth_year < 1965 and rng.random() < 0.75:
            return rng.choice(_ERA_GIVEN[sex])
        return rng.choice(self.given[sex])


@functools.cache
def load_name_pool() -> NamePool:
    """Load gimei's names.yml once (never gimei's own random) and keep CP932-safe entries."""
    path = importlib.resources.files("gimei") / "data" / "names.yml"
    # safe loading either way; libyaml's loader is about six times faster on this 1 MB file
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    family = tuple((k, kata) for k, _hira, kata in data["last_name"] if _encodable(k + kata))
    weights = tuple(
        (3.0 if any(c in k for c in _VARIANT_CHARS) else 1.0) * 40.0 / (rank + 40.0)
        for rank, (k, _kata) in enumerate(family)
    )
    given = {
        sex: tuple((k, kata) for k, _hira, kata in data["first_name"][key] if _encodable(k + kata))
        for sex, key in (("M", "male"), ("F", "female"))
    }
    return NamePool(family=family, family_weights=weights, given=given)
