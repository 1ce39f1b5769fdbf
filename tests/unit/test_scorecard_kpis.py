"""The 20-week KPIs: which plans count, on time or late, and the RAG they earn."""

import datetime as dt
import uuid

import pytest

from schemas.envelope import Event
from streams.measures import contributions, issued_within_20_weeks, sum_contributions
from streams.scorecard import (
    CATALOGUE,
    EHCP_WITHIN_20_WEEKS_EXCL_EXCEPTIONS,
    EHCP_WITHIN_20_WEEKS_INCL_EXCEPTIONS,
    KpiResult,
    Polarity,
    Rag,
    kpi_by_id,
)


def plan(request: dt.date, issue: dt.date, exception: bool = False) -> Event:
    return Event(
        event_id=uuid.uuid4(),
        event_type="EhcPlanIssued",
        schema_version=1,
        schema_fingerprint="00",
        occurred_at=dt.datetime.combine(issue, dt.time(), tzinfo=dt.UTC),
        recorded_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        source_system="education",
        contract_id="c",
        area_code="E10000018",
        extract_id=None,
        nhs_pseudonym="p",
        upn_pseudonym=None,
        payload={
            "request_date": request.isoformat(),
            "issue_date": issue.isoformat(),
            "permitted_exception": exception,
            "primary_need": None,
        },
    )


REQUEST = dt.date(2025, 1, 6)


def test_day_140_is_on_time_and_day_141_is_late() -> None:
    assert issued_within_20_weeks(REQUEST, REQUEST + dt.timedelta(days=140))
    assert not issued_within_20_weeks(REQUEST, REQUEST + dt.timedelta(days=141))


def test_a_plan_counts_in_its_issue_month_in_both_kpis() -> None:
    deltas = contributions(plan(REQUEST, dt.date(2025, 5, 20)))
    assert {(d.kpi_id, d.period, d.numerator, d.denominator) for d in deltas} == {
        (EHCP_WITHIN_20_WEEKS_INCL_EXCEPTIONS.id, dt.date(2025, 5, 1), 1, 1),
        (EHCP_WITHIN_20_WEEKS_EXCL_EXCEPTIONS.id, dt.date(2025, 5, 1), 1, 1),
    }


def test_an_exception_plan_leaves_the_excluding_kpi_alone() -> None:
    deltas = contributions(plan(REQUEST, dt.date(2025, 9, 1), exception=True))
    assert [(d.kpi_id, d.numerator, d.denominator) for d in deltas] == [
        (EHCP_WITHIN_20_WEEKS_INCL_EXCEPTIONS.id, 0, 1)
    ]


def test_other_event_types_contribute_nothing() -> None:
    event = plan(REQUEST, dt.date(2025, 5, 1))
    other = Event(**{**event.__dict__, "event_type": "PersonDetailsRecorded"})
    assert contributions(other) == []


def test_sums_per_kpi_and_month() -> None:
    events = [
        plan(REQUEST, dt.date(2025, 5, 1)),
        plan(REQUEST, dt.date(2025, 5, 30)),
        plan(REQUEST, dt.date(2025, 8, 1), exception=True),
    ]
    totals = {(d.kpi_id, d.period): (d.numerator, d.denominator) for d in sum_contributions(events)}
    assert totals[(EHCP_WITHIN_20_WEEKS_INCL_EXCEPTIONS.id, dt.date(2025, 5, 1))] == (1, 2)
    assert totals[(EHCP_WITHIN_20_WEEKS_EXCL_EXCEPTIONS.id, dt.date(2025, 5, 1))] == (1, 2)
    assert totals[(EHCP_WITHIN_20_WEEKS_INCL_EXCEPTIONS.id, dt.date(2025, 8, 1))] == (0, 1)
    assert (EHCP_WITHIN_20_WEEKS_EXCL_EXCEPTIONS.id, dt.date(2025, 8, 1)) not in totals


@pytest.mark.parametrize(
    ("numerator", "denominator", "percentage", "rag"),
    [
        (9, 10, 90.0, Rag.GREEN),
        (85, 100, 85.0, Rag.AMBER),
        (79, 100, 79.0, Rag.RED),
        (0, 0, None, Rag.NO_DATA),
    ],
)
def test_rag_against_the_90_percent_target(
    numerator: int, denominator: int, percentage: float | None, rag: Rag
) -> None:
    result = KpiResult(EHCP_WITHIN_20_WEEKS_EXCL_EXCEPTIONS, numerator, denominator, None, None)
    assert result.percentage == percentage
    assert result.rag is rag


def test_catalogue_ids_are_unique_and_targets_come_from_the_domain() -> None:
    assert len({kpi.id for kpi in CATALOGUE}) == len(CATALOGUE)
    assert kpi_by_id("ehcp_20_weeks_excl_exceptions").target_percent == 90.0
    with pytest.raises(KeyError):
        kpi_by_id("no_such_kpi")


def _event(kind: str, payload: dict[str, object]) -> Event:
    base = plan(REQUEST, dt.date(2025, 5, 1))
    return Event(**{**base.__dict__, "event_type": kind, "payload": payload})


@pytest.mark.parametrize(
    ("kind", "payload", "expected"),
    [
        (
            "TherapyFirstAppointmentHeld",
            {"therapy_type": "OT", "referral_date": "2025-03-01", "appointment_date": "2025-04-12"},
            ("therapy_ot_seen_within_6_weeks", dt.date(2025, 4, 1), 1),
        ),
        (
            "TherapyFirstAppointmentHeld",
            {
                "therapy_type": "SALT",
                "referral_date": "2025-03-01",
                "appointment_date": "2025-04-13",
            },
            ("therapy_salt_seen_within_6_weeks", dt.date(2025, 4, 1), 0),
        ),
        (
            "NeurodevelopmentalAssessmentCompleted",
            {
                "pathway": "SOCIAL_COMMUNICATION_AUTISM",
                "referral_date": "2025-01-01",
                "completed_date": "2025-03-26",
            },
            ("social_communication_wait_12w", dt.date(2025, 3, 1), 1),
        ),
        (
            "AdviceReturned",
            {"advice_type": "HEALTH", "due_date": "2025-02-10", "returned_date": "2025-02-11"},
            ("health_advice_on_time", dt.date(2025, 2, 1), 0),
        ),
        (
            "AnnualReviewHeld",
            {"review_date": "2025-06-30", "due_date": "2025-06-30"},
            ("annual_reviews_on_time", dt.date(2025, 6, 1), 1),
        ),
        (
            "SocialCareCaseOpened",
            {"opened_date": "2025-07-04", "send_status_recorded": False},
            ("send_status_recorded_new_cases", dt.date(2025, 7, 1), 0),
        ),
        (
            "Post16DestinationRecorded",
            {"recorded_date": "2025-12-01", "destination": "NEET"},
            ("post16_destination_known", dt.date(2025, 12, 1), 1),
        ),
    ],
)
def test_single_event_kpis_count_on_time_at_the_boundary(
    kind: str, payload: dict[str, object], expected: tuple[str, dt.date, int]
) -> None:
    delta = {d.kpi_id: d for d in contributions(_event(kind, payload))}[expected[0]]
    assert (delta.kpi_id, delta.period, delta.numerator, delta.denominator) == (*expected, 1)


def test_events_outside_a_kpis_scope_count_nowhere() -> None:
    adhd = {"pathway": "ADHD", "referral_date": "2025-01-01", "completed_date": "2025-09-01"}
    assert contributions(_event("NeurodevelopmentalAssessmentCompleted", adhd)) == []
    psychology = {
        "advice_type": "EDUCATIONAL_PSYCHOLOGY",
        "due_date": "2025-02-10",
        "returned_date": "2025-02-11",
    }
    [statutory] = contributions(_event("AdviceReturned", psychology))
    assert (statutory.kpi_id, statutory.numerator) == ("statutory_advice_on_time", 0)
    review = {"review_date": "2025-06-30", "due_date": None, "young_person_involved": None}
    assert contributions(_event("AnnualReviewHeld", review)) == []


def test_every_perspective_kpi_reads_an_event_type_that_exists() -> None:
    from schemas.catalogue import default_catalogue

    names = {s.name for s in default_catalogue().schemas}
    for kpi in CATALOGUE:
        assert kpi.source.split()[0] in names, kpi.id
        if kpi.polarity is Polarity.HIGHER_IS_BETTER:
            assert kpi.green_from >= kpi.amber_from, kpi.id
        else:
            assert kpi.green_from <= kpi.amber_from, kpi.id
