"""Decoding and parsing of data files into string frames, strictly in the declared encoding."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd

from warehouse.errors import InputError

BOM = "\ufeff"


def decode(data: bytes, encoding: str, name: str) -> str:
    """Decode a file strictly; a byte that does not fit the declared encoding is an error with its line."""
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data[:nul].count(b"\n") + 1
        raise InputError(f"{name}: binary content (a NUL byte at line {line}), not a text file")
    if codec == "cp932" and data.startswith(BOM.encode()):
        raise InputError(f"{name}: declared cp932 but the file starts with a UTF-8 byte-order mark")
    if codec == "cp932" and not data.isascii() and _is_utf8(data):
        # UTF-8 Japanese often also decodes as CP932, into mojibake: refuse it rather than read it.
        line = data[: next(i for i, byte in enumerate(data) if byte >= 0x80)].count(b"\n") + 1
        raise InputError(f"{name}: declared cp932 but the bytes are UTF-8 (first non-ASCII at line {line})")
    try:
        text = data.decode(codec, errors="strict")
    except UnicodeDecodeError as problem:
        line = data[: problem.start].count(b"\n") + 1
        raise InputError(f"{name}: not valid {encoding} at line {line}") from None
    return text.removeprefix(BOM)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def read_table(path: Path, encoding: str) -> pd.DataFrame:
    """Read one CSV or JSON Lines data file into a frame of strings (empty string for missing)."""
    text = decode(path.read_bytes(), encoding, path.name)
    if path.suffix == ".jsonl":
        records = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                raise InputError(f"{path.name}: line {number} is not valid JSON") from None
            if not isinstance(record, dict):
                raise InputError(f"{path.name}: line {number} is not a JSON object")
            records.append({k: "" if v is None else str(v) for k, v in record.items()})
        return pd.DataFrame.from_records(records).fillna("").astype(str)
    if not text.strip():
        raise InputError(f"{path.name}: file is empty (no header row)")
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=True)
    except (pd.errors.ParserError, ValueError) as problem:
        raise InputError(f"{path.name}: CSV cannot be parsed ({type(problem).__name__})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame
