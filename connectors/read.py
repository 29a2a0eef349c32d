"""Decoding and parsing of data files into string frames, strictly in the declared encoding.

Files are checked in one streaming pass over line-aligned pieces (a newline byte never falls inside a
character in UTF-8 or CP932), then parsed in chunks, so a day of smart-meter readings never has to be
held whole in memory.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from warehouse.errors import InputError

BOM = "\ufeff"
BLOCK = 16 << 20
CHUNK_ROWS = 250_000
_NON_ASCII = re.compile(rb"[\x80-\xff]")
# Where a file's bytes come from: its path, or a function opening it (as the inbox guard does).
Source = Path | Callable[[], BinaryIO]


def _open(source: Source) -> BinaryIO:
    return source.open("rb") if isinstance(source, Path) else source()


def _codec(encoding: str) -> str:
    return "utf-8" if encoding == "utf-8-sig" else encoding


def pieces(source: Source, block: int = BLOCK) -> Iterator[bytes]:
    """The file's bytes in pieces of about `block` bytes that end at a line break (the last may not)."""
    with _open(source) as handle:
        rest = b""
        while data := handle.read(block):
            data = rest + data
            cut = data.rfind(b"\n") + 1
            rest = data[cut:]
            if cut:
                yield data[:cut]
        if rest:
            yield rest


class TextCheck:
    """Whether a file's bytes, fed piece by piece, are cleanly text in the declared encoding."""

    def __init__(self, encoding: str, name: str):
        self.encoding, self.codec, self.name = encoding, _codec(encoding), name
        self.line, self.pieces, self.content, self.bom, self.utf8 = 1, 0, False, False, True
        self.nul_line: int | None = None
        self.non_ascii_line: int | None = None
        self.bad_line: int | None = None

    def feed(self, piece: bytes) -> None:
        """Take the next line-aligned piece of the file."""
        if self.nul_line is not None:
            return
        nul = piece.find(b"\x00")
        if nul >= 0:
            self.nul_line = self.line + piece[:nul].count(b"\n")
            return
        if not self.pieces:
            self.bom = piece.startswith(BOM.encode())
            piece_text = piece.removeprefix(BOM.encode())
        else:
            piece_text = piece
        self.pieces += 1
        self.content = self.content or bool(piece_text.strip())
        if self.non_ascii_line is None and (hit := _NON_ASCII.search(piece)):
            self.non_ascii_line = self.line + piece[: hit.start()].count(b"\n")
        if self.codec == "cp932" and self.utf8 and self.non_ascii_line is not None:
            self.utf8 = _decodes(piece, "utf-8")
        if self.bad_line is None:
            try:
                piece.decode(self.codec, errors="strict")
            except UnicodeDecodeError as problem:
                self.bad_line = self.line + piece[: problem.start].count(b"\n")
        self.line += piece.count(b"\n")

    def problem(self, csv: bool) -> str | None:
        """The first reason the file cannot be read as text (a CSV also needs a header), or None."""
        name = self.name
        if self.nul_line is not None:
            return f"{name}: binary content (a NUL byte at line {self.nul_line}), not a text file"
        if self.codec == "cp932" and self.bom:
            return f"{name}: declared cp932 but the file starts with a UTF-8 byte-order mark"
        if self.codec == "cp932" and self.non_ascii_line is not None and self.utf8:
            # UTF-8 Japanese often also decodes as CP932, into mojibake: refuse it rather than read it.
            at = self.non_ascii_line
            return f"{name}: declared cp932 but the bytes are UTF-8 (first non-ASCII at line {at})"
        if self.bad_line is not None:
            return f"{name}: not valid {self.encoding} at line {self.bad_line}"
        if csv and not self.content:
            return f"{name}: file is empty (no header row)"
        return None


def _decodes(data: bytes, codec: str) -> bool:
    try:
        data.decode(codec)
    except UnicodeDecodeError:
        return False
    return True


def _jsonl(path: Path, source: Source, codec: str, chunk_rows: int) -> Iterator[pd.DataFrame]:
    records: list[dict[str, str]] = []
    started = False
    with io.TextIOWrapper(_open(source), encoding=codec) as handle:
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


def _csv(path: Path, source: Source, codec: str, chunk_rows: int) -> Iterator[pd.DataFrame]:
    handle = _open(source)
    reader = pd.read_csv(
        handle,
        encoding="utf-8-sig" if codec == "utf-8" else codec,
        dtype=str,
        keep_default_na=False,
        skip_blank_lines=True,
        chunksize=chunk_rows,
    )
    try:
        with handle, reader:
            for frame in reader:
                frame.columns = [str(c).strip() for c in frame.columns]
                yield frame
    except (pd.errors.ParserError, ValueError) as problem:
        raise InputError(f"{path.name}: CSV cannot be parsed ({type(problem).__name__})") from None


def iter_table(
    path: Path,
    encoding: str,
    chunk_rows: int = CHUNK_ROWS,
    *,
    checked: bool = False,
    opener: Callable[[], BinaryIO] | None = None,
) -> Iterator[pd.DataFrame]:
    """Yield a CSV or JSON Lines file as frames of strings of at most chunk_rows.

    Unless the caller already fed the file through a TextCheck (`checked`), its text is checked first.
    With `opener`, the bytes are read from what it opens (`path` then only names the file).
    """
    source: Source = path if opener is None else opener
    if not checked:
        text = TextCheck(encoding, path.name)
        for piece in pieces(source):
            text.feed(piece)
        if problem := text.problem(csv=path.suffix != ".jsonl"):
            raise InputError(problem)
    codec = _codec(encoding)
    if path.suffix == ".jsonl":
        yield from _jsonl(path, source, codec, chunk_rows)
    else:
        yield from _csv(path, source, codec, chunk_rows)


def read_table(path: Path, encoding: str) -> pd.DataFrame:
    """Read one whole data file into a frame of strings (empty string for missing)."""
    return pd.concat(list(iter_table(path, encoding)), ignore_index=True)
