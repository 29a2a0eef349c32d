"""Renderings of a list: CSV safe for Excel, capacity that never cuts urgent, an A4 page ordered by tier."""

from __future__ import annotations

import csv
import io
import json

import pytest

from watchlist.publish import apply_capacity
from watchlist.render import TIER_LABELS, ListedEntry, PublishedList, safe_cell, to_csv, to_html, to_json

pytestmark = pytest.mark.unit


def entry(n: int, tier: str, name: str = "山田　花子", phone: str = "046-111-2222") -> ListedEntry:
    return ListedEntry(
        entry_id=f"WL-20261120-{n:010d}",
        resident_id=f"{n:010d}",
        district_code="D01",
        district_name="北部",
        tier=tier,
        tier_label=TIER_LABELS[tier],
        score=10.0 - n,
        name_kanji=name,
        name_kana="ヤマダ　ハナコ",
        age_band="80-84",
        address="みどり市本町1-2-3",
        phone=phone,
        reasons=[
            {
                "rule_id": "water_none",
                "rule_version": "1",
                "score": 3.0,
                "text_ja": "水道の使用が丸1日ありません",
                "text_en": "No water used for a whole day",
                "partners": ["minato-suido"],
                "partner_names": ["みなと水道"],
                "sectors": ["utility"],
                "from": "2026-11-19T00:00:00",
                "to": "2026-11-20T00:00:00",
            }
        ],
    )


def published(entries: list[ListedEntry]) -> PublishedList:
    return PublishedList("2026-11-20", "D01", "北部", "2026.11-2", [], entries)


@pytest.mark.parametrize(
    "cell",
    ["＝1+1", "＋cmd", "－1", "＠SUM(A1)", " =1+1", "\t=1+1", "　=HYPERLINK(1)", "\n+1", " ＠x", "﹦1"],
)
def test_full_width_and_padded_formulas_are_neutralised_too(cell: str):
    assert safe_cell(cell) == "'" + cell


def test_ordinary_cells_are_left_alone():
    assert [safe_cell(v) for v in ("山田　花子", "046-111-2222", " 046", "ＡＢＣ", "")] == [
        "山田　花子",
        "046-111-2222",
        " 046",
        "ＡＢＣ",
        "",
    ]


def test_formula_like_cells_are_neutralised():
    assert [safe_cell(v) for v in ("=1+1", "+81 46", "-3", "@SUM(A1)", "山田", "046-1")] == [
        "'=1+1",
        "'+81 46",
        "'-3",
        "'@SUM(A1)",
        "山田",
        "046-1",
    ]
    rows = list(csv.reader(io.StringIO(to_csv(published([entry(1, "urgent", name="=HYPERLINK(1)")])))))
    assert rows[0][0] == "エントリID" and rows[1][5] == "'=HYPERLINK(1)"
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_capacity_orders_the_list_and_never_cuts_urgent():
    listed = [entry(1, "urgent"), entry(2, "urgent"), entry(3, "urgent"), entry(4, "high"), entry(5, "watch")]
    assert apply_capacity(listed, 2) == 2
    assert [e.within_capacity for e in listed] == [True, True, True, False, False]
    listed = [entry(1, "urgent"), entry(2, "high"), entry(3, "high"), entry(4, "watch")]
    assert apply_capacity(listed, 3) == 1 and [e.within_capacity for e in listed] == [True, True, True, False]
    assert apply_capacity(listed, None) == 0


def test_the_page_and_json_keep_tier_order_reasons_and_the_capacity_mark():
    listed = [entry(1, "urgent"), entry(2, "high"), entry(3, "watch")]
    apply_capacity(listed, 1)
    page = to_html(published(listed))
    assert "size: A4" in page and page.index("至急") < page.index("高（数日内") < page.index("注意（見守り")
    assert "本日の訪問枠を超える" in page and "water_none v1" in page and "utility" in page
    data = json.loads(to_json(published(listed)))
    assert [e["within_capacity"] for e in data["entries"]] == [True, False, False]
    assert data["entries"][0]["reasons"][0]["partners"] == ["minato-suido"]


def test_csv_quotes_every_cell_so_the_resident_number_stays_text():
    text = to_csv(published([entry(78914635, "urgent")]))
    line = text.splitlines()[1]
    assert line.startswith('"WL-20261120-0078914635","0078914635","D01",')
    assert "=" not in line and "\t" not in line
    assert list(csv.reader(io.StringIO(text)))[1][1] == "0078914635"
