"""The scorecard's charts: SVG with a title and a description in words, a sparkline broken
where a month is not published, and the trend's target and comparators drawn and named."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from warehouse.web.charts import (
    BLACK,
    BLUE,
    Comparison,
    describe,
    sparkline_svg,
    trend_of,
    trend_svg,
)

SVG = "{http://www.w3.org/2000/svg}"

PLANS = trend_of(
    "plans",
    "Plans within 20 weeks",
    "percent",
    [("2025-12", 42.0), ("2026-01", None), ("2026-02", 45.5), ("2026-11", 51.0)],
    target=60.0,
    comparisons=[
        Comparison("England", "2024-01", "2024-12", 50.3),  # a year before the months shown
        Comparison("England", "2025-01", "2025-12", 46.4),
    ],
)


def labelled(svg: str) -> tuple[ET.Element, str, str]:
    root = ET.fromstring(svg)
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and desc is not None
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    return root, title.text or "", desc.text or ""


def test_a_trend_is_described_in_words_with_its_target_and_comparators() -> None:
    assert describe(PLANS) == (
        "Rose from 42.0% in Dec 2025 to 51.0% in Nov 2026 (1 of 4 months without a figure);"
        " target 60.0%; England 46.4% in 2025"
    )
    falling = trend_of("x", "X", "per_1000", [("2026-01", 5.0), ("2026-02", 4.2)])
    assert describe(falling) == "Fell from 5.0 per 1,000 in Jan 2026 to 4.2 per 1,000 in Feb 2026"
    hidden = trend_of("x", "X", "count", [("2026-01", None), ("2026-02", None)])
    assert describe(hidden) == "No figure published for the 2 months shown"


def test_a_sparkline_has_a_title_and_description_and_breaks_at_an_unpublished_month() -> None:
    root, title, desc = labelled(sparkline_svg(PLANS))
    assert title == "Plans within 20 weeks: trend by month" and desc == describe(PLANS)
    path = root.find(f"{SVG}path")
    assert path is not None and path.get("stroke") == BLUE
    assert path.get("d", "").count("M") == 2  # Dec 2025 alone, then Feb to Nov 2026
    target = root.find(f"{SVG}line")
    assert target is not None and target.get("stroke") == BLACK


def test_a_trend_chart_draws_and_names_the_target_and_each_comparator() -> None:
    svg = trend_svg(PLANS)
    _, title, desc = labelled(svg)
    assert title == "Plans within 20 weeks: monthly trend" and desc == describe(PLANS)
    for label in ("This area", "Target 60.0%", "England"):
        assert f">{label}</text>" in svg, label
    assert trend_svg(PLANS) == svg  # kept, and the same
    roles = {e.get("role") for e in ET.fromstring(svg).iter()} - {None}
    assert roles == {"img"}  # one image: no mark of it has a role of its own
