"""Comparators from published figures (issue 13, point 4): the area against England, the
region and its statistical neighbours, year by year, by the 95% Wilson score interval of
its published figures, as Fingertips compares; where nobody published a figure, it says so.
"""

from __future__ import annotations

import csv
import datetime as dt
from typing import Any

import pytest

from streams.comparators import (
    COLUMNS,
    SHIPPED,
    Comparison,
    GeographyKind,
    compare,
    compare_published,
    parse_comparators,
    wilson_interval,
)
from streams.disclosure import SUPPRESSED, Rule, Shown, Status, exact
from streams.kpi import Polarity
from streams.publication import month_table
from streams.scorecard import CATALOGUE, kpi_by_id
from streams.scorecard_engine import ScorecardInputs, evaluate
from streams.scorecard_publication import needed_months, publication_periods, publish_scorecard

HIGHER, LOWER = Polarity.HIGHER_IS_BETTER, Polarity.LOWER_IS_BETTER
KPI_IDS = {kpi.id for kpi in CATALOGUE}


def shipped_rows() -> list[dict[str, str]]:
    with SHIPPED.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == COLUMNS
        return list(reader)


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        (50, 100, 0.4038, 0.5962),  # Newcombe (1998), and any Wilson calculator
        (0, 10, 0.0, 0.2775),  # no successes: the interval still reaches up
        (10, 10, 0.7225, 1.0),  # all successes: and down
        (81, 263, 0.2553, 0.3662),  # Newcombe's example 81/263
    ],
)
def test_the_wilson_interval_matches_published_values(
    successes: int, trials: int, low: float, high: float
) -> None:
    lower, upper = wilson_interval(successes, trials)
    assert lower == pytest.approx(low, abs=5e-5)
    assert upper == pytest.approx(high, abs=5e-5)


def test_a_proportion_clear_of_the_comparator_is_better_or_worse_by_its_polarity() -> None:
    # 75 of 100: 95% interval 65.8% to 82.3%, clear above 46.4%
    assert compare(75, 100, 46.4, HIGHER) is Comparison.BETTER
    assert compare(75, 100, 46.4, LOWER) is Comparison.WORSE
    # 20 of 100: 13.3% to 28.9%, clear below 46.4%
    assert compare(20, 100, 46.4, HIGHER) is Comparison.WORSE
    assert compare(20, 100, 46.4, LOWER) is Comparison.BETTER


def test_a_comparator_inside_the_interval_is_similar_up_to_its_ends() -> None:
    assert compare(50, 100, 46.4, HIGHER) is Comparison.SIMILAR  # 40.38% to 59.62%
    assert compare(50, 100, 40.4, HIGHER) is Comparison.SIMILAR  # just inside
    assert compare(50, 100, 40.3, HIGHER) is Comparison.BETTER  # just below the interval
    assert compare(50, 100, 59.6, LOWER) is Comparison.SIMILAR
    assert compare(50, 100, 59.7, LOWER) is Comparison.BETTER  # just above it
    # a small area: 3 of 5 on time is 60%, but its interval (23% to 88%) holds 46.4%
    assert compare(3, 5, 46.4, HIGHER) is Comparison.SIMILAR


def test_no_comparator_no_figure_and_not_a_proportion_say_so() -> None:
    assert compare(50, 100, None, HIGHER) is Comparison.NO_COMPARATOR
    assert compare(0, 0, 46.4, HIGHER) is Comparison.NO_AREA_FIGURE
    assert compare(12, 10, 46.4, HIGHER) is Comparison.NOT_A_PROPORTION


def test_the_published_counts_are_compared_and_a_suppressed_one_is_not() -> None:
    on_time = kpi_by_id("ehcp_20_weeks_excl_exceptions")
    rounded = Shown(75, Status.ROUNDED), Shown(100, Status.ROUNDED)
    assert compare_published(on_time, *rounded, 46.4) is Comparison.BETTER
    assert compare_published(on_time, SUPPRESSED, rounded[1], 46.4) is Comparison.SUPPRESSED
    assert compare_published(on_time, *rounded, None) is Comparison.NO_COMPARATOR
    plans = kpi_by_id("ehcp_growth")  # a count: England's count is context, not a benchmark
    assert compare_published(plans, exact(5000), exact(0), 638700) is Comparison.NOT_A_PROPORTION


def test_the_shipped_figures_load_each_for_a_kpi_of_the_catalogue_from_an_https_source() -> None:
    rows = shipped_rows()
    comparators = parse_comparators(rows, KPI_IDS)
    assert len(comparators) == len(rows) > 0
    assert all(c.kpi_id in KPI_IDS and c.url.startswith("https://") for c in comparators)
    figure = {(c.geography_code, c.kpi_id, c.year): c.value for c in comparators}
    assert figure["E92000001", "ehcp_20_weeks_excl_exceptions", 2024] == 46.4
    assert figure["E92000001", "ehcp_20_weeks_incl_exceptions", 2019] == 58.7
    assert figure["E12000004", "ehcp_20_weeks_incl_exceptions", 2019] == 67.8  # seed 003
    assert figure["E92000001", "ehcp_growth", 2025] == 638700  # plans held in January
    # no neighbour's figure is known, so none is shipped
    kinds = {c.geography_kind for c in comparators}
    assert GeographyKind.STATISTICAL_NEIGHBOUR not in kinds


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"url": "http://example.org/figures"}, "https"),
        ({"kpi_id": "no_such_kpi"}, "unknown KPI"),
        ({"geography_kind": "county"}, "county"),
    ],
)
def test_a_bad_row_is_refused_with_its_line(change: dict[str, str], problem: str) -> None:
    rows = shipped_rows()
    rows[1] = rows[1] | change
    with pytest.raises(ValueError, match=f"line 3: .*{problem}"):
        parse_comparators(rows, KPI_IDS)


AS_AT = dt.date(2025, 3, 31)


def scorecard_kpi(kpi_id: str) -> dict[str, Any]:
    """A scorecard over 2024 and early 2025: 30 of 40 plans a month on time in 2024."""
    measures = {
        ("ehcp_20_weeks_excl_exceptions", dt.date(2024, month, 1)): (30, 40)
        for month in range(1, 13)
    }
    comparators = tuple(parse_comparators(shipped_rows(), KPI_IDS))
    inputs = ScorecardInputs(measures, {}, {}, comparators)
    rule = Rule()
    results = evaluate(inputs, None, None, AS_AT)
    tables = {end: month_table(end, {}, rule) for end in needed_months(results)}
    published = publish_scorecard(
        inputs, results, tables, AS_AT, rule, publication_periods(AS_AT), yearly_headline=True
    )
    kpis: list[dict[str, Any]] = published.document["kpis"]
    return next(kpi for kpi in kpis if kpi["id"] == kpi_id)


def test_the_scorecard_shows_englands_2024_figure_beside_the_areas_year() -> None:
    kpi = scorecard_kpi("ehcp_20_weeks_excl_exceptions")
    by_year = {entry["year"]: entry for entry in kpi["comparators"]}
    england = by_year[2024]
    assert (england["geography_code"], england["kind"], england["value"]) == (
        "E92000001",
        "england",
        46.4,
    )
    assert england["url"].startswith("https://explore-education-statistics.service.gov.uk/")
    assert england["area_numerator"]["value"] == 360
    assert england["area_denominator"]["value"] == 480
    assert england["area_value"]["value"] == 75.0
    assert england["area_interval"] == [70.9, 78.7]
    assert england["comparison"] == "better"
    assert by_year[2023]["comparison"] == "no_area_figure"  # 2023 is not in the span
    assert kpi["comparators_note"] is None


def test_a_kpi_nobody_publishes_a_comparator_for_says_so() -> None:
    kpi = scorecard_kpi("health_advice_on_time")
    assert kpi["comparators"] == []
    assert kpi["comparators_note"] == "no comparator published"
