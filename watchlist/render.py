"""Renderings of a published list for staff: JSON, CSV (UTF-8 with BOM for Excel) and a Japanese HTML page."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

TIER_LABELS = {"urgent": "至急（本日確認）", "high": "高（数日内に訪問）", "watch": "注意（見守り継続）"}
CSV_HEADER = (
    ("entry_id", "エントリID"),
    ("resident_id", "宛名番号"),
    ("district_code", "地区"),
    ("tier", "優先度"),
    ("score", "スコア"),
    ("name_kanji", "氏名"),
    ("name_kana", "フリガナ"),
    ("age_band", "年齢層"),
    ("address", "住所"),
    ("phone", "電話番号"),
    ("reasons", "理由"),
    ("sources", "情報提供元"),
    ("within_capacity", "本日の訪問枠"),
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters a spreadsheet may read as the start of a formula once it has trimmed or folded the cell:
# after NFKC (full-width ＝ ＋ － ＠ and the small forms fold to ASCII), and the minus sign.
FORMULA_CHARS = frozenset("=+-@\u2212")


@dataclass
class ListedEntry:
    """One re-identified list line, as the district team sees it."""

    entry_id: str
    resident_id: str
    district_code: str
    district_name: str
    tier: str
    tier_label: str
    score: float
    name_kanji: str
    name_kana: str
    age_band: str
    address: str
    phone: str
    reasons: list[dict[str, Any]] = field(default_factory=list)
    within_capacity: bool = True


@dataclass
class PublishedList:
    """A day's list for one district (or all of them), with notices about feeds not received."""

    date: str
    district_code: str | None
    district_name: str
    rule_set_version: str
    notices: list[dict[str, str]]
    entries: list[ListedEntry]


def to_json(listing: PublishedList) -> str:
    """The list as JSON (entries carry the contract's keys)."""
    return json.dumps(asdict(listing), ensure_ascii=False, indent=2, default=str)


def safe_cell(value: object) -> str:
    """A cell a spreadsheet never runs as a formula: leading =, +, -, @ (full width, padded) get a quote."""
    text = "" if value is None else str(value)
    return "'" + text if _formula_like(text) else text


def _formula_like(text: str) -> bool:
    """True when the cell starts (after any spaces, tabs or line breaks) with a formula character."""
    if text.startswith(FORMULA_START):
        return True
    head = text.lstrip()
    return bool(head) and unicodedata.normalize("NFKC", head[0])[:1] in FORMULA_CHARS


def to_csv(listing: PublishedList) -> str:
    """The list as CSV with Japanese headers, formula-like cells neutralised; the caller adds the BOM.

    Every cell is quoted, so a reader that honours quoting (Excel's text import and Power Query with the
    column typed as text, LibreOffice, kintone, pandas with dtype=str) keeps 宛名番号 such as 0078914635
    as text. No formula (="...") is ever written. Opening the file by double-click in Excel still guesses
    number types, so the portal also offers the same rows as .xlsx with text-typed cells (portal.excel).
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    writer.writerows(table_rows(listing))
    return out.getvalue()


def table_rows(listing: PublishedList) -> list[list[str]]:
    """The list as rows of text cells (Japanese header first, formula-like cells neutralised)."""
    rows = [[ja for _, ja in CSV_HEADER]]
    for e in listing.entries:
        values = asdict(e)
        values["tier"] = e.tier_label
        values["reasons"] = " / ".join(r["text_ja"] for r in e.reasons)
        values["sources"] = "、".join(sorted({n for r in e.reasons for n in r["partner_names"]}))
        values["within_capacity"] = "枠内" if e.within_capacity else "枠外"
        rows.append([safe_cell(values[key]) for key, _ in CSV_HEADER])
    return rows


_env = Environment(loader=PackageLoader("watchlist", "templates"), autoescape=select_autoescape(["html"]))


def to_html(listing: PublishedList) -> str:
    """A printable Japanese page of the list."""
    return _env.get_template("watchlist.html").render(listing=listing, labels=TIER_LABELS)
