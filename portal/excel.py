"""A district list as an Excel workbook whose cells are typed text, so 宛名番号 keep their leading zeros."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter

from watchlist.render import PublishedList, table_rows

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEXT_FORMAT = "@"  # Excel's "文字列" number format: an edited cell stays text too
WIDTHS = {"宛名番号": 13, "氏名": 16, "フリガナ": 18, "住所": 36, "電話番号": 15, "理由": 60}


def to_xlsx(listing: PublishedList) -> bytes:
    """The rows of the CSV as one sheet of text cells; never a formula (formula-like cells carry a quote)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = f"{listing.date} {listing.district_code or '全地区'}"[:31]
    rows = table_rows(listing)
    for r, row in enumerate(rows, 1):
        for c, value in enumerate(row, 1):
            cell = sheet.cell(row=r, column=c)
            cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
            cell.data_type = "s"  # a string, even if it looks like a number or a formula
            cell.number_format = TEXT_FORMAT
    for c, header in enumerate(rows[0], 1):
        sheet.column_dimensions[get_column_letter(c)].width = WIDTHS.get(header, 12)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
