"""Kanji name normalisation for comparison: NFKC, variant forms folded, spaces removed."""

from __future__ import annotations

import re
import unicodedata

from identity.variants import fold_variants

__all__ = ["normalise_kanji_name"]

# Spacing voiced marks (゛゜) become combining ones so kana in a name compose.
_SPACING_MARKS = str.maketrans({"\u309b": "\u3099", "\u309c": "\u309a"})

# Variation selectors (standard and ideographic) pick a glyph, not a character.
_VARIATION_SELECTORS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")


def normalise_kanji_name(s: str | None) -> str:
    """Return the comparison form of a kanji name: NFKC, old/variant kanji folded, no spaces.

    The folding (identity/data/kanji_variants.tsv) is for *comparison*, not a correction: a resident's
    registered spelling stays what it is.
    """
    if not s:
        return ""
    text = _VARIATION_SELECTORS.sub("", unicodedata.normalize("NFKC", s.translate(_SPACING_MARKS)))
    return unicodedata.normalize("NFC", "".join(fold_variants(text).split()))
