"""Kanji name normalisation for comparison: NFKC, variant forms folded, spaces removed."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["KANJI_VARIANTS", "normalise_kanji_name"]

# Old (旧字体) and variant (異体字) forms seen in names, mapped to the everyday
# form.  This is a folding for *comparison*, not a correction: a resident's
# registered spelling stays what it is.  Add a row to extend it.
KANJI_VARIANTS: dict[str, str] = {
    "髙": "高",  # はしごだか
    "﨑": "崎",  # たつさき (U+FA11, untouched by NFKC)
    "嵜": "崎",
    "邊": "辺",
    "邉": "辺",
    "澤": "沢",
    # 斎 and 斉 are different characters and 斎藤/斉藤 are different registered
    # surnames; partners confuse them (and 齋/齊), so they are folded together
    # for comparison only.
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
    # 龍 is a name kanji of its own; folded with 竜 for comparison only.
    "龍": "竜",
    "嶋": "島",
    "嶌": "島",
    "𠮷": "吉",  # つちよし (U+20BB7)
    "冨": "富",
    "槇": "槙",
    "桒": "桑",
    "舩": "船",
    "峯": "峰",
    "嶽": "岳",
    "曾": "曽",
    "淺": "浅",
    "瀧": "滝",
    "澁": "渋",
    "實": "実",
    "壽": "寿",
    "藏": "蔵",
    "榮": "栄",
    "與": "与",
    "萬": "万",
    "條": "条",
    "圓": "円",
    "團": "団",
    "靑": "青",
    "淸": "清",
    "戶": "戸",
    "傳": "伝",
    "關": "関",
    "瀨": "瀬",
    "佛": "仏",
    "兒": "児",
    "驛": "駅",
    "縣": "県",
}

_TABLE = str.maketrans(KANJI_VARIANTS)
# Spacing voiced marks (゛゜) become combining ones so kana in a name compose.
_SPACING_MARKS = str.maketrans({"\u309b": "\u3099", "\u309c": "\u309a"})

# Variation selectors (standard and ideographic) pick a glyph, not a character.
_VARIATION_SELECTORS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")


def normalise_kanji_name(s: str | None) -> str:
    """Return the comparison form of a kanji name: NFKC, variants folded, no spaces."""
    if not s:
        return ""
    text = _VARIATION_SELECTORS.sub("", unicodedata.normalize("NFKC", s.translate(_SPACING_MARKS)))
    return unicodedata.normalize("NFC", "".join(text.translate(_TABLE).split()))
