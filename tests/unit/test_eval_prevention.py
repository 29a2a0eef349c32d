"""Prevention and calibration figures on small hand-made truths, lists and visits."""

from __future__ import annotations

import pytest

from mimamori_demo.eval_prevention import calibration, listed_in_time, visit_rows
from mimamori_demo.evaluation import DayView, Scope

pytestmark = pytest.mark.unit
ALL = Scope(None, None)


def entry(tier: str, *rules: str) -> dict:
    return {"entry_id": "E", "tier": tier, "reasons": [{"rule_id": r, "score": 1.0} for r in rules]}


def days(start: int, stop: int) -> list[str]:
    return [f"2026-11-{d:02d}" for d in range(start, stop)]


def views(listed: dict[str, dict[str, str]], watched: set[str], n: int = 28) -> list[DayView]:
    """One view per day of November from the 2nd; `listed` maps resident -> day -> tier."""
    return [
        DayView(day, {r: entry(t[day]) for r, t in listed.items() if day in t}, [], watched, {}, set())
        for day in days(2, 2 + n)
    ]


def test_a_decline_counts_when_listed_at_any_tier_within_14_days_after_its_onset():
    truth = {
        "scenarios": [
            {"resident_id": "early", "scenario": "decline", "decline_from": "2026-11-03"},
            {"resident_id": "late", "scenario": "decline", "decline_from": "2026-11-03"},
            {"resident_id": "before", "scenario": "decline", "decline_from": "2026-11-10"},
            {"resident_id": "open", "scenario": "decline", "decline_from": "2026-11-25"},
        ]
    }
    listed = {
        "early": {"2026-11-17": "watch"},  # the 14th day after the onset day
        "late": {"2026-11-19": "high"},  # the 16th: too late
        "before": {"2026-11-10": "watch"},  # on the onset date: data before the onset
    }
    found = listed_in_time(truth, views(listed, {"early", "late", "before", "open"}))["decline"]
    assert (found["found"], found["cases"], found["window_not_over"]) == (1, 3, 1)
    assert found["share"] == pytest.approx(1 / 3, abs=1e-4)


def test_a_bereaved_resident_counts_within_3_days_of_the_register_showing_them_alone():
    def case(rid: str, variant: str) -> dict:
        return {
            "resident_id": rid,
            "scenario": "bereavement",
            "register_shows_on": "2026-11-08",
            "variant": variant,
        }

    truth = {
        "scenarios": [case("a", "insurer"), case("b", "no_insurer"), case("c", "no_insurer"), case("d", "x")]
    }
    listed = {"a": {"2026-11-11": "watch"}, "b": {"2026-11-12": "watch"}, "c": {"2026-11-08": "watch"}}
    found = listed_in_time(truth, views(listed, {"a", "b", "c"}))["bereavement"]
    # b is a day late; d was never in the watched population (no consent): not counted
    assert (found["found"], found["cases"], found["not_watched"]) == (2, 3, 1)
    assert found["by_variant"] == {
        "insurer": {"found": 1, "cases": 1},
        "no_insurer": {"found": 1, "cases": 2},
    }


def test_calibration_is_the_confirmed_share_per_tier_and_per_rule():
    entries = {
        "a": entry("high", "r1", "r2"),
        "b": entry("high", "r1"),
        "c": entry("watch", "r2"),
        "d": entry("watch"),
    }
    rows = visit_rows("2026-11-05", entries, {"a": "support_started", "b": "safe_no_action", "c": "not_home"})
    result = calibration(rows)
    assert result["tiers"] == {
        "high": {"visited": 2, "confirmed": 1, "share": 0.5},
        "watch": {"visited": 1, "confirmed": 0, "share": 0.0},
    }
    assert result["rules"]["r1"] == {"high": {"visited": 2, "confirmed": 1, "share": 0.5}}
    assert result["rules"]["r2"]["high"]["share"] == 1.0 and result["rules"]["r2"]["watch"]["share"] == 0.0


def test_the_reliability_chart_is_inline_svg_drawn_the_same_each_time():
    from mimamori_demo.eval_chart import reliability_svg, rows

    result = calibration(visit_rows("2026-11-05", {"a": entry("high", "r1")}, {"a": "support_started"}))
    svg = reliability_svg(result)
    assert svg.startswith("<svg") and svg == reliability_svg(result)
    assert "<!DOCTYPE" not in svg and "<script" not in svg
    assert rows(result) == [("全体 / all", "high", 1, 1, 1.0), ("r1", "high", 1, 1, 1.0)]


def test_a_japanese_font_installed_after_matplotlib_cached_its_fonts_is_still_found(monkeypatch):
    from matplotlib import font_manager

    from mimamori_demo.eval_chart import JAPANESE_FONTS, japanese_font

    if japanese_font() is None:
        pytest.skip("no Japanese font on this machine (.ci/run installs fonts-ipafont-gothic)")
    cached = [f for f in font_manager.fontManager.ttflist if f.name not in JAPANESE_FONTS]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", cached)  # the cache of a font-less machine
    assert japanese_font() in JAPANESE_FONTS
