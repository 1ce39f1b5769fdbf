"""The scorecard engine: flow figures add up, stock figures are read at the span's end,
counts are judged on the last twelve months against the twelve before."""

from __future__ import annotations

import datetime as dt

from streams.kpi import Rag
from streams.scorecard import (
    EHCP_NEW_SHARE,
    EHCP_WITHIN_20_WEEKS_INCL_EXCEPTIONS,
    OUT_OF_AREA_PLACEMENTS,
    OUT_OF_AREA_SHARE,
    PHB_UPTAKE,
    SUPPORTED_INTERNSHIPS,
    TRIBUNAL_APPEALS,
)
from streams.scorecard_engine import ScorecardInputs, months_between

D = dt.date
YEAR_2025 = months_between(D(2025, 1, 1), D(2025, 12, 1))
TWO_YEARS = months_between(D(2024, 1, 1), D(2025, 12, 1))


def inputs(
    measures: dict[tuple[str, dt.date], tuple[int, int]] | None = None,
    cohort: dict[tuple[dt.date, str, str, str], int] | None = None,
    population: dict[int, int] | None = None,
) -> ScorecardInputs:
    return ScorecardInputs(measures or {}, cohort or {}, population or {})


def test_a_flow_ratio_adds_numerators_and_denominators_over_the_span() -> None:
    kpi = EHCP_WITHIN_20_WEEKS_INCL_EXCEPTIONS
    data = inputs({(kpi.id, D(2025, 3, 1)): (9, 10), (kpi.id, D(2025, 7, 1)): (1, 10)})
    result = data.result(kpi, YEAR_2025)
    assert (result.numerator, result.denominator, result.value) == (10, 20, 50.0)
    assert result.rag is Rag.RED
    assert [(m.period, m.numerator) for m in result.trend if m.denominator] == [
        (D(2025, 3, 1), 9),
        (D(2025, 7, 1), 1),
    ]


def test_a_stock_share_is_read_as_at_the_last_month_end() -> None:
    cohort = {
        (D(2025, 6, 1), "EHC_PLAN", "placement_area", "OUT_OF_AREA"): 50,
        (D(2025, 6, 1), "EHC_PLAN", "all", "all"): 400,
        (D(2025, 12, 1), "EHC_PLAN", "placement_area", "OUT_OF_AREA"): 30,
        (D(2025, 12, 1), "SEN_SUPPORT", "placement_area", "OUT_OF_AREA"): 10,
        (D(2025, 12, 1), "EHC_PLAN", "all", "all"): 300,
        (D(2025, 12, 1), "SEN_SUPPORT", "all", "all"): 200,
        (D(2025, 12, 1), "UNKNOWN", "all", "all"): 999,  # not SEND: outside the share
    }
    result = inputs(cohort=cohort).result(OUT_OF_AREA_SHARE, YEAR_2025)
    assert (result.numerator, result.denominator, result.value) == (40, 500, 8.0)
    assert result.rag is Rag.GREEN  # target 8.5 %, lower is better


def test_a_count_is_judged_on_its_change_over_a_year() -> None:
    kpi = SUPPORTED_INTERNSHIPS
    measures = {(kpi.id, D(2024, 5, 1)): (20, 0), (kpi.id, D(2025, 5, 1)): (21, 0)}
    partial = inputs(measures).result(kpi, TWO_YEARS)
    assert (partial.value, partial.change_percent, partial.rag) == (41.0, None, Rag.NO_DATA)
    measures[(kpi.id, D(2023, 12, 1))] = (5, 0)  # measured since before the year compared
    result = inputs(measures).result(kpi, TWO_YEARS)
    assert (result.value, result.change_percent) == (41.0, 5.0)
    assert result.rag is Rag.AMBER  # growing, but short of +10 %
    measures[(kpi.id, D(2025, 6, 1))] = (1, 0)
    assert inputs(measures).result(kpi, TWO_YEARS).rag is Rag.GREEN  # 22 vs 20: +10 %


def test_a_stock_count_compares_the_month_end_with_a_year_before() -> None:
    cohort = {
        (D(2024, 12, 1), "EHC_PLAN", "placement_area", "OUT_OF_AREA"): 100,
        (D(2025, 12, 1), "EHC_PLAN", "placement_area", "OUT_OF_AREA"): 90,
    }
    result = inputs(cohort=cohort).result(OUT_OF_AREA_PLACEMENTS, TWO_YEARS)
    assert (result.value, result.change_percent, result.rag) == (90.0, -10.0, Rag.GREEN)


def test_a_rate_per_1000_divides_a_years_flow_by_the_stock_at_its_end() -> None:
    measures = {(TRIBUNAL_APPEALS.id, D(2025, m, 1)): (1, 0) for m in (2, 5, 9)}
    measures[(TRIBUNAL_APPEALS.id, D(2024, 6, 1))] = (7, 0)  # outside the last 12 months
    cohort = {(D(2025, 12, 1), "EHC_PLAN", "all", "all"): 600}
    result = inputs(measures, cohort).result(TRIBUNAL_APPEALS, TWO_YEARS)
    assert (result.numerator, result.denominator, result.value) == (3, 600, 5.0)
    assert result.first_period == D(2025, 1, 1)


def test_a_kpi_can_read_another_kpis_measures_and_the_population() -> None:
    measures = {(EHCP_WITHIN_20_WEEKS_INCL_EXCEPTIONS.id, D(2025, 4, 1)): (70, 80)}
    cohort = {(D(2025, 12, 1), "EHC_PLAN", "all", "all"): 500}
    share = inputs(measures, cohort).result(EHCP_NEW_SHARE, YEAR_2025)
    assert (share.numerator, share.denominator, share.value) == (80, 500, 16.0)
    phb = {(PHB_UPTAKE.id, D(2025, 4, 1)): (200, 0)}
    uptake = inputs(phb, population={2024: 100_000, 2026: 1}).result(PHB_UPTAKE, YEAR_2025)
    assert (uptake.denominator, uptake.value) == (100_000, 0.2)  # latest year not after 2025


def test_a_kpi_with_no_figures_has_no_data() -> None:
    result = inputs().result(OUT_OF_AREA_SHARE, YEAR_2025)
    assert (result.value, result.rag, result.first_period) == (None, Rag.NO_DATA, None)


def test_a_stock_denominator_alone_is_not_data() -> None:
    cohort = {(D(2025, 12, 1), "EHC_PLAN", "all", "all"): 600}
    appeals = inputs(cohort=cohort, population={2025: 1000}).result(TRIBUNAL_APPEALS, YEAR_2025)
    assert (appeals.value, appeals.rag) == (None, Rag.NO_DATA)
    uptake = inputs(population={2025: 1000}).result(PHB_UPTAKE, YEAR_2025)
    assert (uptake.value, uptake.rag) == (None, Rag.NO_DATA)


def test_a_month_before_every_population_year_reads_the_earliest() -> None:
    phb = {(PHB_UPTAKE.id, D(2019, 5, 1)): (1, 0)}
    data = inputs(phb, population={2021: 100_000, 2025: 120_000})
    assert data.result(PHB_UPTAKE, [D(2019, 5, 1)]).denominator == 100_000
