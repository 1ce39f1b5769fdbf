"""A KPI's value, RAG and year-on-year change, and the helpers that declare KPIs.

The catalogue's KPIs are declared when `streams/kpis/` is imported, so tests that only
read them never see `share`, `declare`, `measured` or `cohort` at work; these tests
call the helpers and check what they build, then pin the figures a reader sees at
their boundaries.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from streams.kpi import (
    NO_YEAR_BEFORE,
    OWN_DENOMINATOR,
    OWN_NUMERATOR,
    POPULATION_0_25,
    SEND_STATUSES,
    Figure,
    Kpi,
    KpiResult,
    MonthFigure,
    Polarity,
    Rag,
    Source,
    Unit,
    cohort,
    declare,
    measured,
    share,
)

D = dt.date

FIELDS: dict[str, Any] = {
    "id": "plans_on_time",
    "name": "Plans on time",
    "perspective": "timeliness",
    "definition": "plans issued on time / plans issued",
    "numerator": "on time",
    "denominator": "issued",
    "period": "month of issue",
    "target_percent": 90.0,
    "polarity": Polarity.HIGHER_IS_BETTER,
    "green_from": 90.0,
    "amber_from": 80.0,
    "owner": "SEN team",
    "source": "EhcPlanIssued events",
    "seeds": "003",
}


def kpi(**changes: Any) -> Kpi:
    return Kpi(**{**FIELDS, **changes})


def test_a_share_is_higher_is_better_with_amber_ten_points_under_its_target() -> None:
    declared = share(
        "advice_on_time",
        "Advice on time",
        "timeliness",
        "advice returned by its due date / advice returned",
        85.0,
        "Designated clinical officer",
        "AdviceReturned events",
        "001",
        "month the advice was returned",
    )
    assert declared == Kpi(
        id="advice_on_time",
        name="Advice on time",
        perspective="timeliness",
        definition="advice returned by its due date / advice returned",
        numerator="those that met the standard the definition states",
        denominator="all of them in the period",
        period="month the advice was returned",
        target_percent=85.0,
        polarity=Polarity.HIGHER_IS_BETTER,
        green_from=85.0,
        amber_from=75.0,
        owner="Designated clinical officer",
        source="AdviceReturned events",
        seeds="001",
    )


def test_a_declared_kpi_is_the_kpi_its_fields_name() -> None:
    assert declare(**FIELDS) == kpi()


def test_a_kpi_reads_its_own_measures_unless_told_otherwise() -> None:
    assert (kpi().numerator_from, kpi().denominator_from) == (OWN_NUMERATOR, OWN_DENOMINATOR)
    assert (OWN_NUMERATOR.kpi_id, OWN_NUMERATOR.column) == (None, "numerator")
    assert (OWN_DENOMINATOR.kpi_id, OWN_DENOMINATOR.column) == (None, "denominator")


def test_measured_reads_another_kpis_numerator_or_denominator() -> None:
    assert measured("plans_on_time") == Figure(Source.MEASURES, "plans_on_time", "numerator")
    assert measured("plans_on_time", "denominator") == Figure(
        Source.MEASURES, "plans_on_time", "denominator"
    )


def test_cohort_counts_every_send_status_in_the_whole_area_unless_narrowed() -> None:
    assert cohort() == Figure(Source.COHORT, statuses=SEND_STATUSES, dimension="all", value="all")
    assert SEND_STATUSES == ("EHC_PLAN", "SEN_SUPPORT")
    assert cohort("primary_need", "ASD", ("EHC_PLAN",)) == Figure(
        Source.COHORT, statuses=("EHC_PLAN",), dimension="primary_need", value="ASD"
    )


def test_measures_are_a_flow_and_the_cohort_and_population_are_stocks() -> None:
    assert not OWN_NUMERATOR.is_stock
    assert cohort().is_stock and POPULATION_0_25.is_stock
    assert kpi(denominator_from=cohort()).yearly
    assert not kpi().yearly
    assert not kpi(numerator_from=cohort(), denominator_from=cohort()).yearly


@pytest.mark.parametrize(
    ("polarity", "green_from", "amber_from", "value", "rag"),
    [
        (Polarity.HIGHER_IS_BETTER, 90.0, 80.0, 90.0, Rag.GREEN),
        (Polarity.HIGHER_IS_BETTER, 90.0, 80.0, 89.9, Rag.AMBER),
        (Polarity.HIGHER_IS_BETTER, 90.0, 80.0, 80.0, Rag.AMBER),
        (Polarity.HIGHER_IS_BETTER, 90.0, 80.0, 79.9, Rag.RED),
        (Polarity.LOWER_IS_BETTER, 5.0, 10.0, 5.0, Rag.GREEN),
        (Polarity.LOWER_IS_BETTER, 5.0, 10.0, 5.1, Rag.AMBER),
        (Polarity.LOWER_IS_BETTER, 5.0, 10.0, 10.0, Rag.AMBER),
        (Polarity.LOWER_IS_BETTER, 5.0, 10.0, 10.1, Rag.RED),
        (Polarity.LOWER_IS_BETTER, 5.0, 10.0, None, Rag.NO_DATA),
    ],
)
def test_rag_thresholds_are_inclusive_in_the_kpis_direction(
    polarity: Polarity, green_from: float, amber_from: float, value: float | None, rag: Rag
) -> None:
    judged = kpi(polarity=polarity, green_from=green_from, amber_from=amber_from)
    assert judged.rag(value) is rag


@pytest.mark.parametrize(
    ("unit", "numerator", "denominator", "value"),
    [
        (Unit.PERCENT, 1, 3, 33.3),
        (Unit.PERCENT, 2, 3, 66.7),
        (Unit.PERCENT, 5, 0, None),
        (Unit.PER_1000, 2, 3, 666.7),
        (Unit.PER_1000, 0, 0, None),
        (Unit.COUNT, 7, 0, 7.0),
    ],
)
def test_the_value_is_a_ratio_on_the_units_scale_or_a_plain_count(
    unit: Unit, numerator: int, denominator: int, value: float | None
) -> None:
    assert kpi(unit=unit).value(numerator, denominator) == value


def test_only_a_percentage_kpi_reports_a_percentage() -> None:
    assert KpiResult(kpi(), 1, 4, None, None).percentage == 25.0
    per_1000 = KpiResult(kpi(unit=Unit.PER_1000), 1, 4, None, None)
    assert (per_1000.value, per_1000.percentage) == (250.0, None)


@pytest.mark.parametrize(
    ("last_year", "year_before", "change"),
    [
        ((110, 0), (100, 0), 10.0),
        ((90, 0), (120, 0), -25.0),
        ((1, 0), (3, 0), -66.7),
        ((110, 0), (0, 0), None),
        ((110, 0), None, None),
        (None, (100, 0), None),
    ],
)
def test_a_counts_change_is_the_last_twelve_months_against_the_twelve_before(
    last_year: tuple[int, int] | None, year_before: tuple[int, int] | None, change: float | None
) -> None:
    count = kpi(unit=Unit.COUNT)
    result = KpiResult(count, 0, 0, None, None, last_year=last_year, year_before=year_before)
    assert result.change_percent == change


@pytest.mark.parametrize(
    ("last_year", "year_before", "change"),
    [((1, 2), (1, 0), None), ((1, 0), (1, 2), None), ((3, 4), (1, 2), 50.0)],
)
def test_a_ratios_change_needs_both_years_to_have_data(
    last_year: tuple[int, int], year_before: tuple[int, int], change: float | None
) -> None:
    result = KpiResult(kpi(), 0, 0, None, None, last_year=last_year, year_before=year_before)
    assert result.change_percent == change


def test_a_count_is_judged_on_its_change_and_a_ratio_on_its_value() -> None:
    growth = kpi(unit=Unit.COUNT, polarity=Polarity.LOWER_IS_BETTER, green_from=5.0, amber_from=10)
    # 1,000 now (value 1000, far above any threshold) but up 8 % on the year before: amber
    grown = KpiResult(growth, 1000, 0, None, None, last_year=(1080, 0), year_before=(1000, 0))
    assert grown.rag is Rag.AMBER
    assert KpiResult(kpi(), 85, 100, None, None).rag is Rag.AMBER


def test_the_dictionary_a_reader_gets_carries_every_figure() -> None:
    result = KpiResult(
        kpi(),
        numerator=17,
        denominator=20,
        first_period=D(2025, 4, 1),
        last_period=D(2026, 3, 1),
        trend=(MonthFigure(D(2025, 4, 1), 9, 10), MonthFigure(D(2026, 3, 1), 8, 10)),
        last_year=(17, 20),
        year_before=(10, 20),
    )
    assert result.as_dict() == {
        "id": "plans_on_time",
        "name": "Plans on time",
        "perspective": "timeliness",
        "unit": "percent",
        "numerator": 17,
        "denominator": 20,
        "value": 85.0,
        "percentage": 85.0,
        "target_percent": 90.0,
        "polarity": "higher_is_better",
        "rag": "amber",
        "change_percent": 70.0,
        "period_from": "2025-04",
        "period_to": "2026-03",
        "trend": [
            {"period": "2025-04", "numerator": 9, "denominator": 10, "value": 90.0},
            {"period": "2026-03", "numerator": 8, "denominator": 10, "value": 80.0},
        ],
        "definition": "plans issued on time / plans issued",
        "source": "EhcPlanIssued events",
        "owner": "SEN team",
        "waiting_for": None,
        "not_rated": None,
    }


def test_a_result_without_periods_reports_none_for_them() -> None:
    figures = KpiResult(kpi(), 0, 0, None, None).as_dict()
    assert (figures["period_from"], figures["period_to"], figures["rag"]) == (
        None,
        None,
        "no_data",
    )
    assert figures["waiting_for"] == "EhcPlanIssued events"  # the feed it is waiting for
    assert figures["not_rated"] is None


def test_a_count_with_data_but_no_year_before_is_not_rated_and_waits_for_nothing() -> None:
    """One supported internship this year and none the year before: the feed has
    arrived, there is just no change to rate."""
    count = kpi(unit=Unit.COUNT, target_percent=None, green_from=0.0, amber_from=-10.0)
    figures = KpiResult(
        count, 1, 1, dt.date(2025, 4, 1), dt.date(2026, 3, 1), last_year=(1, 1), year_before=(0, 0)
    ).as_dict()
    assert figures["rag"] == "no_data"
    assert figures["waiting_for"] is None
    assert figures["not_rated"] == NO_YEAR_BEFORE
