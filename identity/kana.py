"""Katakana name normalisation: a display form and a folded comparison key."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["kana_key", "normalise_kana"]

_FULLWIDTH_SPACE = "\u3000"

# Spacing voiced/semi-voiced marks (゛゜) become combining marks so NFKC composes
# カ゛ into ガ instead of leaving "カ ゙".
_SPACING_MARKS = str.maketrans({"\u309b": "\u3099", "\u309c": "\u309a"})

# Hiragana ぁ..ゖ sit exactly 0x60 below katakana ァ..ヶ; ゝゞ map to ヽヾ.
_HIRAGANA_TO_KATAKANA = {code: code + 0x60 for code in range(0x3041, 0x3097)} | {
    0x309D: 0x30FD,
    0x309E: 0x30FE,
}

# Dash characters legacy systems type for the long-vowel mark after a kana.
_DASHES = "-‐‑‒–—―−ｰ~〜"
_DASH_AFTER_KANA = re.compile(rf"(?<=[\u30a1-\u30fa\u30fc-\u30fe\u3099\u309a])[{re.escape(_DASHES)}]+")

# Comparison-only folds: small kana written large, obsolete/rare kana to their
# everyday reading, and spelling pairs that sound the same.
_KEY_FOLDS = str.maketrans(
    {
        "ァ": "ア",
        "ィ": "イ",
        "ゥ": "ウ",
        "ェ": "エ",
        "ォ": "オ",
        "ッ": "ツ",
        "ャ": "ヤ",
        "ュ": "ユ",
        "ョ": "ヨ",
        "ヮ": "ワ",
        "ヵ": "カ",
        "ヶ": "ケ",
        "ㇰ": "ク",
        "ㇱ": "シ",
        "ㇲ": "ス",
        "ㇳ": "ト",
        "ㇴ": "ヌ",
        "ㇵ": "ハ",
        "ㇶ": "ヒ",
        "ㇷ": "フ",
        "ㇸ": "ヘ",
        "ㇹ": "ホ",
        "ㇺ": "ム",
        "ㇻ": "ラ",
        "ㇼ": "リ",
        "ㇽ": "ル",
        "ㇾ": "レ",
        "ㇿ": "ロ",
        "ヂ": "ジ",
        "ヅ": "ズ",
        "ヴ": "ブ",
        "ヷ": "バ",
        "ヸ": "ビ",
        "ヹ": "ベ",
        "ヺ": "ボ",
        "ヰ": "イ",
        "ヱ": "エ",
        "ヲ": "オ",
        "ー": None,
        "・": None,
        "=": None,
        "゠": None,
        "\u3099": None,  # a voiced mark NFKC could not compose (ッ゙) is noise
        "\u309a": None,
    }
    # Dashes left over (after a space, or in Latin text) are long marks or noise.
    | dict.fromkeys(_DASHES)
)

# Vowel of each (already folded) mora; kana absent here (ン, stray marks) have none.
_VOWEL_ROWS = {
    "a": "アカガサザタダナハバパマヤラワ",
    "i": "イキギシジチニヒビピミリ",
    "u": "ウクグスズツヌフブプムユル",
    "e": "エケゲセゼテネヘベペメレ",
    "o": "オコゴソゾトドノホボポモヨロ",
}
_VOWEL_OF = {kana: vowel for vowel, row in _VOWEL_ROWS.items() for kana in row}

# (vowel of the previous mora, following kana) pairs that spell a long vowel and
# are dropped: オオ/オウ, ウウ (Hepburn ō, ū) and エイ/エエ (ē).  ア- and イ-row
# doublings (イイダ vs イダ) are distinct names and are kept.
_LONG_VOWEL_PAIRS = frozenset({("o", "ウ"), ("o", "オ"), ("u", "ウ"), ("e", "イ"), ("e", "エ")})


def _to_katakana(s: str) -> str:
    """Return ``s`` under NFKC with hiragana turned into katakana (composed again: わ゙ → ヷ)."""
    kana = unicodedata.normalize("NFKC", s.translate(_SPACING_MARKS)).translate(_HIRAGANA_TO_KATAKANA)
    return unicodedata.normalize("NFC", kana)


def normalise_kana(s: str | None) -> str:
    """Return the display form: full-width katakana, parts separated by one full-width space."""
    if not s:
        return ""
    kana = _DASH_AFTER_KANA.sub(lambda run: "ー" * len(run[0]), _to_katakana(s))
    return _FULLWIDTH_SPACE.join(kana.split())


def _expand_iteration_marks(s: str) -> str:
    """Spell out ヽ (repeat the previous kana) and ヾ (repeat it voiced)."""
    out: list[str] = []
    for ch in s:
        if ch in "ヽヾ" and out:
            base = unicodedata.normalize("NFD", out[-1])[0]
            ch = unicodedata.normalize("NFC", base + "\u3099") if ch == "ヾ" else base
        out.append(ch)
    return "".join(out)


def _fold_long_vowels(s: str) -> str:
    """Drop a vowel kana that only lengthens the vowel of the mora before it."""
    out: list[str] = []
    previous_vowel: str | None = None
    for ch in s:
        if (previous_vowel, ch) in _LONG_VOWEL_PAIRS:
            continue
        out.append(ch)
        previous_vowel = _VOWEL_OF.get(ch)
    return "".join(out)


def kana_key(s: str | None) -> str:
    """Return the comparison key of a kana name, folding spellings that legacy systems mix up.

    Folding, applied to :func:`normalise_kana` output:

    - all spaces, dashes, the middle dot ・ and the double hyphen ゠/= are removed;
    - small kana are written large (ャュョァィゥェォッヮヵヶ → ヤユヨアイウエオツワカケ),
      so キョウコ and the legacy キヨウコ agree (and, unavoidably, so does キヨコ);
    - ヂ→ジ, ヅ→ズ, ヴ→ブ (ヷヸヹヺ likewise), ヰ→イ, ヱ→エ, ヲ→オ;
      iteration marks ヽヾ are spelt out;
    - long vowels: ー is dropped; after an オ-row mora a following ウ or オ is
      dropped, after a ウ-row mora a following ウ, after an エ-row mora a following
      イ or エ; so オオタ, オータ, オウタ and オタ share a key, as do ユウコ/ユーコ/ユコ
      and ケイコ/ケーコ/ケコ.  ア- and イ-row doublings are kept (イイダ ≠ イダ).

    The key is idempotent: ``kana_key(kana_key(s)) == kana_key(s)``.
    """
    if not s:
        return ""
    kana = "".join(normalise_kana(s).split())
    return _fold_long_vowels(_expand_iteration_marks(kana).translate(_KEY_FOLDS))
