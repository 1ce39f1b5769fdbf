"""What one event adds to the scorecard, at the edges mutation testing found unpinned.

Each test names the figure a commissioner would see change: which KPI, which month,
and whether the event counts as met (numerator) or only as one more case (denominator).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from schemas.envelope import Event
from streams.measures import MeasureDelta, _counting, contributions
from streams.scorecard import TRIBUNAL_APPEALS
from tests.support.events import event as any_event

D = dt.date


def event(kind: str, payload: dict[str, Any]) -> Event:
    return any_event(kind, dt.date(2025, 1, 1), payload)


def figures(kind: str, payload: dict[str, Any]) -> list[tuple[str, dt.date, int, int]]:
    deltas = contributions(event(kind, payload))
    return sorted((d.kpi_id, d.period, d.numerator, d.denominator) for d in deltas)


def test_advice_returned_on_its_due_date_is_on_time() -> None:
    advice = {"advice_type": "EDUCATIONAL_PSYCHOLOGY", "due_date": "2025-02-10"}
    assert figures("AdviceReturned", {**advice, "returned_date": "2025-02-10"}) == [
        ("statutory_advice_on_time", D(2025, 2, 1), 1, 1)
    ]


def test_health_advice_counts_in_the_statutory_and_the_health_kpi() -> None:
    advice = {"advice_type": "HEALTH", "due_date": "2025-02-10", "returned_date": "2025-03-02"}
    assert figures("AdviceReturned", advice) == [
        ("health_advice_on_time", D(2025, 3, 1), 0, 1),
        ("statutory_advice_on_time", D(2025, 3, 1), 0, 1),
    ]


@pytest.mark.parametrize(("coproduced", "met"), [(True, 1), (False, 0)])
def test_audited_advice_counts_in_the_coproduction_kpi(coproduced: bool, met: int) -> None:
    advice = {
        "advice_type": "HEALTH",
        "due_date": "2025-02-10",
        "returned_date": "2025-02-03",
        "coproduced": coproduced,
    }
    assert figures("AdviceReturned", advice) == [
        ("advice_coproduced", D(2025, 2, 1), met, 1),
        ("health_advice_on_time", D(2025, 2, 1), 1, 1),
        ("statutory_advice_on_time", D(2025, 2, 1), 1, 1),
    ]


def test_advice_not_audited_for_coproduction_leaves_that_kpi_alone() -> None:
    advice = {
        "advice_type": "SOCIAL_CARE",
        "due_date": "2025-02-10",
        "returned_date": "2025-02-03",
        "coproduced": None,
    }
    assert figures("AdviceReturned", advice) == [("statutory_advice_on_time", D(2025, 2, 1), 1, 1)]


@pytest.mark.parametrize(("completed", "met"), [("2025-03-26", 1), ("2025-03-27", 0)])
def test_a_social_communication_assessment_is_on_time_up_to_day_84(
    completed: str, met: int
) -> None:
    assessment = {
        "pathway": "SOCIAL_COMMUNICATION_AUTISM",
        "referral_date": "2025-01-01",
        "completed_date": completed,
    }
    assert figures("NeurodevelopmentalAssessmentCompleted", assessment) == [
        ("social_communication_wait_12w", D(2025, 3, 1), met, 1)
    ]


@pytest.mark.parametrize(
    ("kind", "payload", "kpi_id"),
    [
        ("SupportedInternshipStarted", {"start_date": "2025-09-08"}, "supported_internships"),
        ("TribunalAppealRegistered", {"registered_date": "2025-09-08"}, "tribunal_appeals"),
        ("PersonalHealthBudgetAgreed", {"agreed_date": "2025-09-08"}, "phb_uptake"),
    ],
)
def test_counted_events_add_one_in_the_month_of_their_date(
    kind: str, payload: dict[str, Any], kpi_id: str
) -> None:
    assert figures(kind, payload) == [(kpi_id, D(2025, 9, 1), 1, 0)]


def test_a_parent_carers_survey_response_counts_towards_participation_in_its_month() -> None:
    response = {"respondent": "PARENT_CARER", "response_date": "2025-10-31"}
    assert figures("SurveyResponseReceived", response) == [
        ("survey_participation", D(2025, 10, 1), 1, 0)
    ]


def test_a_counting_rule_reads_the_date_field_it_is_given() -> None:
    # The three counting rules are built when the module is imported; building one here
    # is what lets mutation testing see the builder itself.
    rule = _counting(TRIBUNAL_APPEALS, "registered_date")
    appeal = event("TribunalAppealRegistered", {"registered_date": "2025-04-30"})
    assert rule(appeal) == [MeasureDelta("tribunal_appeals", D(2025, 4, 1), 1, 0)]
