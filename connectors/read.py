"""Decoding and parsing of data files into string frames, strictly in the declared encoding.

Files are checked in one streaming pass over line-aligned pieces (a newline byte never falls inside a
character in UTF-8 or CP932), then parsed in chunks, so a day of smart-meter readings never has to be
held whole in memory.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from warehouse.errors import InputError

BOM = "\ufeff"
BLOCK = 16 << 20
CHUNK_ROWS = 250_000
_NON_ASCII = re.compile(rb"[\x80-\xff]")


def _codec(encoding: str) -> str:
    return "utf-8" if encoding == "utf-8-sig" else encoding


def pieces(path: Path, block: int = BLOCK) -> Iterator[bytes]:
    """The file's bytes in pieces of about `block` bytes that end at a line break (the last may not)."""
    with path.open("rb") as handle:
        rest = b""
        while data := handle.read(block):
            data = rest + data
            cut = data.rfind(b"\n") + 1
            rest = data[cut:]
            if cut:
                yield data[:cut]
        if rest:
            yield rest


def check_text(chunks: Iterator[bytes] | list[bytes], encoding: str, name: str) -> bool:
    """Refuse bytes that are not cleanly text in the declared encoding, naming the first bad line.

    Returns whether there is any text beyond whitespace and a byte-order mark.
    """
    codec = _codec(encoding)
    line, first, content = 1, True, False
    bom = non_ascii_line = bad_line = None
    utf8 = True
    for piece in chunks:
        nul = piece.find(b"\x00")
        if nul >= 0:
            at = line + piece[:nul].count(b"\n")
            raise InputError(f"{name}: binary content (a NUL byte at line {at}), not a text file")
        if first:
            bom = piece.startswith(BOM.encode())
            content = bool(piece.removeprefix(BOM.encode()).strip())
            first = False
        else:
            content = content or bool(piece.strip())
        if non_ascii_line is None and (hit := _NON_ASCII.search(piece)):
            non_ascii_line = line + piece[: hit.start()].count(b"\n")
        if codec == "cp932" and utf8 and non_ascii_line is not None:
            utf8 = _decodes(piece, "utf-8")
        if bad_line is None:
            try:
                piece.decode(codec, errors="strict")
            except UnicodeDecodeError as problem:
                bad_line = line + piece[: problem.start].count(b"\n")
        line += piece.count(b"\n")
    if codec == "cp932" and bom:
        raise InputError(f"{name}: declared cp932 but the file starts with a UTF-8 byte-order mark")
    if codec == "cp932" and non_ascii_line is not None and utf8:
        # UTF-8 Japanese often also decodes as CP932, into mojibake: refuse it rather than read it.
        raise InputError(
            f"{name}: declared cp932 but the bytes are UTF-8 (first non-ASCII at line {non_ascii_line})"
        )
    if bad_line is not None:
        raise InputError(f"{name}: not valid {encoding} at line {bad_line}")
    return content


def _decodes(data: bytes, codec: str) -> bool:
    try:
        data.decode(codec)
    except UnicodeDecodeError:
        return False
    return True


def _jsonl(path: Path, codec: str, chunk_rows: int) -> Iterator[pd.DataFrame]:
    records: list[dict[str, str]] = []
    started = False
    with path.open(encoding=codec) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line.removeprefix(BOM) if number == 1 else line)
            except json.JSONDecodeError:
                raise InputError(f"{path.name}: line {number} is not valid JSON") from None
            if not isinstance(record, dict):
                raise InputError(f"{path.name}: line {number} is not a JSON object")
            records.append({k: "" if v is None else str(v) for k, v in record.items()})
            if len(records) == chunk_rows:
                yield pd.DataFrame.from_records(records).fillna("").astype(str)
                records, started = [], True
    if records or not started:
        yield pd.DataFrame.from_records(records).fillna("").astype(str)


def _csv(path: Path, codec: str, chunk_rows: int) -> Iterator[pd.DataFrame]:
    reader = pd.read_csv(
        path,
        encoding="utf-8-sig" if codec == "utf-8" else codec,
        dtype=str,
        keep_default_na=False,
        skip_blank_lines=True,
        chunksize=chunk_rows,
    )
    try:
        with reader:
            for frame in reader:
                frame.columns = [str(c).strip() for c in frame.columns]
                yield frame
    except (pd.errors.ParserError, ValueError) as problem:
        raise InputError(f"{path.name}: CSV cannot be parsed ({type(problem).__name__})") from None


def iter_table(path: Path, encoding: str, chunk_rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """Check a CSV or JSON Lines file's text, then yield it as frames of strings of at most chunk_rows."""
    content = check_text(pieces(path), encoding, path.name)
    codec = _codec(encoding)
    if path.suffix != ".jsonl" and not content:
        raise InputError(f"{path.name}: file is empty (no header row)")
    if path.suffix == ".jsonl":
        yield from _jsonl(path, codec, chunk_rows)
    else:
        yield from _csv(path, codec, chunk_rows)


def read_table(path: Path, encoding: str) -> pd.DataFrame:
    """Read one whole data file into a frame of strings (empty string for missing)."""
    return pd.concat(list(iter_table(path, encoding)), ignore_index=True)
