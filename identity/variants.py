"""Old and variant kanji folded to one everyday form, from the generated table in ``identity/data``."""

from __future__ import annotations

from functools import cache
from pathlib import Path

__all__ = ["fold_variants", "variant_table"]

TABLE = Path(__file__).resolve().parent / "data" / "kanji_variants.tsv"


@cache
def variant_table() -> dict[str, str]:
    """Old/variant → everyday kanji (旧字体, 異体字, 俗字); see data/generate_kanji_variants.py."""
    pairs = {}
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            old, new = line.split("\t")
            pairs[old] = new
    return pairs


@cache
def _translation() -> dict[int, str]:
    return str.maketrans(variant_table())


def fold_variants(text: str) -> str:
    """Replace every old or variant kanji by its everyday form (for comparison, never for display)."""
    return text.translate(_translation())
