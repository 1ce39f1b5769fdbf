"""The data-quality trend: failed checks per partner over the reconcile runs, drawn as SVG
that carries its figures, described in words, and never told apart by colour alone."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from warehouse.run_results import PartyTally, Run
from warehouse.web.quality_charts import (
    EXPECTATIONS,
    PALETTE,
    TOP,
    History,
    Line,
    Tally,
    describe,
    history_of,
    history_svg,
)

SVG = "{http://www.w3.org/2000/svg}"
FINISHED = dt.datetime(2026, 11, 30, 18, 0, tzinfo=dt.UTC)
NAMES = {"education": "education", "health": "health", "hub": "KPIs (hub)"}


def run(hours: int, by_party: dict[str, PartyTally], expectations: tuple[int, int]) -> Run:
    checked, failed = expectations
    at = FINISHED + dt.timedelta(hours=hours)
    return Run(f"run-{hours}", at, not failed, by_party, checked, failed, failed * 4)


RUNS = [  # newest first, as run_history reads them; health sent nothing to the middle run
    run(30, {"education": PartyTally(5, 0), "health": PartyTally(4, 1)}, (3, 0)),
    run(6, {"education": PartyTally(5, 2), "hub": PartyTally(30, 0)}, (3, 1)),
    run(0, {"education": PartyTally(5, 3), "health": PartyTally(4, 0)}, (3, 2)),
]
HISTORY = history_of(RUNS, NAMES)


def contrast_on_white(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(int(colour[i : i + 2], 16)) for i in (1, 3, 5))
    return 1.05 / (0.2126 * r + 0.7152 * g + 0.0722 * b + 0.05)


def test_the_history_has_a_line_per_partner_and_the_expectations_oldest_run_first() -> None:
    assert HISTORY.finished == tuple(r.finished_at for r in reversed(RUNS))
    lines = {line.name: line.tallies for line in HISTORY.lines}
    assert list(lines) == ["education", "health", "KPIs (hub)", EXPECTATIONS]
    assert lines["education"] == (Tally(5, 3), Tally(5, 2), Tally(5, 0))
    assert lines["health"] == (Tally(4, 0), None, Tally(4, 1))
    assert lines["KPIs (hub)"] == (None, Tally(30, 0), None)
    assert lines[EXPECTATIONS] == (Tally(3, 2), Tally(3, 1), Tally(3, 0))


def test_the_svg_carries_each_figure_with_its_title_and_description() -> None:
    root = ET.fromstring(history_svg(HISTORY))
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and desc is not None and root.get("role") == "img"
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert desc.text == describe(HISTORY)
    for line in HISTORY.lines:
        group = root.find(f".//{SVG}g[@data-line='{line.name}']")
        assert group is not None, line.name
        marks = group.findall(f"{SVG}g/{SVG}path")
        shown = [tally.failed for tally in line.tallies if tally is not None]
        assert [int(mark.get("data-failed", "")) for mark in marks] == shown, line.name
    education = root.find(f".//{SVG}g[@data-line='education']")
    assert education is not None
    heights = [float(m.get("d", "").split(",")[1].split("a")[0]) for m in education.iter()
               if m.get("data-failed")]  # fmt: skip
    assert heights[0] < heights[1] < heights[2]  # 3, 2, 0 failed: higher is more
    assert heights[0] == pytest.approx(TOP)  # the most failed tops the axis
    labels = ["".join(text.itertext()) for text in root.iter(f"{SVG}text")]
    assert "education: 0 failed" in labels and "health: 1 failed" in labels
    assert "Expectations: 0 failed" in labels and "KPIs (hub): 0 failed" in labels


def test_a_line_breaks_at_a_run_without_its_checks() -> None:
    root = ET.fromstring(history_svg(HISTORY))
    health = root.find(f".//{SVG}g[@data-line='health']/{SVG}path")
    assert health is not None and health.get("d", "").count("M") == 2


def mark_shape(line: ET.Element) -> str:
    """A line's point shape, as the path commands and fill of its first mark draw it."""
    marks = line.find(f"{SVG}g")
    assert marks is not None
    first = marks.find(f"{SVG}path")
    assert first is not None
    commands = "".join(sorted({ch for ch in first.get("d", "") if ch.isalpha()}))
    return f"{commands} filled {marks.get('fill') != '#ffffff'}"


def test_lines_differ_by_shape_and_dash_not_colour_alone_and_colours_pass_contrast() -> None:
    root = ET.fromstring(history_svg(HISTORY))
    lines = root.findall(f".//{SVG}g[@data-line]")
    assert len(lines) == 4
    strokes = [line.find(f"{SVG}path") for line in lines]
    assert len({stroke.get("stroke-dasharray") for stroke in strokes if stroke is not None}) == 4
    assert len({mark_shape(line) for line in lines}) == 4
    for colour in {*PALETTE, *(line.get("stroke") or "" for line in lines)}:
        assert contrast_on_white(colour) >= 3.0, colour


def test_the_description_gives_each_lines_latest_and_worst_figures() -> None:
    assert describe(HISTORY) == (
        "Failed checks in 3 runs, 30 Nov 2026 18:00 to 2 Dec 2026 00:00 (UTC)."
        " education: 0 of 5 failed in the newest run with checks; some failed in 2 of 3"
        " runs, most 3, on 30 Nov 2026 18:00."
        " health: 1 of 4 failed in the newest run with checks; some failed in 1 of 2 runs,"
        " most 1, on 2 Dec 2026 00:00."
        " KPIs (hub): none failed in the 1 run with checks."
        " Expectations: 0 of 3 failed in the newest run with checks; some failed in 2 of 3"
        " runs, most 2, on 30 Nov 2026 18:00."
    )


def test_one_run_or_none_draws_no_line() -> None:
    one = history_of(RUNS[:1], NAMES)
    assert not one.drawable and not History((), ()).drawable
    with pytest.raises(ValueError, match="two runs"):
        history_svg(one)
    assert describe(History((), ())) == "No reconcile run recorded yet."
    assert describe(one).startswith("Failed checks in 1 run, 2 Dec 2026 00:00 (UTC).")
    silent = History((FINISHED, FINISHED), (Line("health", (None, None)),))
    assert "health: no checks in these runs." in describe(silent)
