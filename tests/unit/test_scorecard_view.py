"""What the scorecard pages make of a published KPI: the "significantly worse than England
and getting worse" rule, how old each feed's data is, and how figures are written."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from schemas.catalogue import default_catalogue
from streams.scorecard import CATALOGUE
from warehouse.feeds import FeedDate
from warehouse.web.scorecard_view import (
    event_types_of,
    feed_ages,
    figure_text,
    worse_and_worsening,
)


def england(year: int, comparison: str, kind: str = "england") -> dict[str, Any]:
    return {"kind": kind, "year": year, "comparison": comparison}


def kpi(polarity: str, change: float | None, *comparators: dict[str, Any]) -> dict[str, Any]:
    return {
        "polarity": polarity,
        "change_percent": {"value": change, "symbol": None if change is not None else "x"},
        "comparators": list(comparators),
    }


HIGHER, LOWER = "higher_is_better", "lower_is_better"


@pytest.mark.parametrize(
    ("published", "shown"),
    [
        (kpi(HIGHER, -3.0, england(2024, "worse")), True),
        (kpi(LOWER, 2.0, england(2024, "worse")), True),
        (kpi(HIGHER, 3.0, england(2024, "worse")), False),  # worse, but getting better
        (kpi(LOWER, -2.0, england(2024, "worse")), False),
        (kpi(HIGHER, 0.0, england(2024, "worse")), False),  # no change
        (kpi(HIGHER, None, england(2024, "worse")), False),  # no change to show
        (kpi(HIGHER, -3.0, england(2024, "similar")), False),
        (kpi(HIGHER, -3.0, england(2024, "worse", "region")), False),  # not England
        (kpi(HIGHER, -3.0, england(2023, "worse"), england(2024, "similar")), False),  # latest
        (kpi(HIGHER, -3.0, england(2023, "worse"), england(2024, "no_area_figure")), True),
        (kpi(HIGHER, -3.0), False),  # no comparator published
    ],
)
def test_worse_than_england_and_getting_worse(published: dict[str, Any], shown: bool) -> None:
    assert worse_and_worsening(published) is shown


def test_every_kpi_names_the_event_types_its_figures_come_from() -> None:
    known = {schema.name for schema in default_catalogue().schemas}
    for declared in CATALOGUE:
        named = event_types_of({"source": declared.source})
        assert named and set(named) <= known, declared.id


def test_the_age_of_a_kpis_data_is_the_latest_event_of_its_types_per_feed() -> None:
    latest = [
        FeedDate("EhcPlanIssued", "education", dt.date(2026, 11, 30), dt.date(2026, 12, 1)),
        FeedDate("EhcPlanIssued", "health", dt.date(2026, 10, 2), dt.date(2026, 10, 3)),
        FeedDate("EhcPlanCeased", "education", dt.date(2026, 12, 2), dt.date(2026, 12, 2)),
        FeedDate("SendFlagSet", "health", dt.date(2026, 12, 9), dt.date(2026, 12, 9)),
    ]
    assert feed_ages({"source": "EhcPlanIssued events"}, latest) == [
        "education data to 30 Nov 2026",
        "health data to 2 Oct 2026",
    ]
    both = {"source": "EhcPlanIssued and EhcPlanCeased events in the cohort register"}
    assert feed_ages(both, latest)[0] == "education data to 2 Dec 2026"
    assert feed_ages({"source": "SurveyResponseReceived events"}, latest) == [
        "no data received yet for this KPI"
    ]


def test_a_published_figure_is_written_as_a_number_or_its_symbol() -> None:
    assert figure_text({"value": 51.04, "symbol": None}, "percent") == "51.0%"
    assert figure_text({"value": 3.45, "symbol": None}, "per_1000") == "3.5 per 1,000"
    assert figure_text({"value": 12345, "symbol": None}, "count") == "12,345"
    assert figure_text({"value": None, "symbol": "c"}, "percent") == "c"
