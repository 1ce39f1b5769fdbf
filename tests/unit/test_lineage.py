"""Lineage says what each published figure reads, and the measure rules agree with it.

`MEASURED_FROM` is a declaration beside the rules, so it is held to them here: an event of
each type the rules read, with every branch taken, adds to exactly the KPIs declared.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from streams.cohort import PersonState, Span
from streams.lineage import (
    FAMILIES,
    MEASURED_FROM,
    REFERENCE_POPULATION,
    REGISTER,
    kpi_family,
)
from streams.measures import RULES, contributions
from streams.person_measures import READS, person_contributions
from streams.scorecard import CATALOGUE, EHCP_NEW_SHARE, PHB_UPTAKE, THERAPY_KPIS
from tests.support.events import event

DAY = "2025-05-01"
EARLIER = "2025-04-01"
EVERY_BRANCH: dict[
    str, list[dict[str, Any]]
] = {  # payloads per rule taking every branch that adds to a KPI
    "EhcPlanIssued": [{"issue_date": DAY, "request_date": EARLIER, "permitted_exception": False}],
    "TherapyFirstAppointmentHeld": [
        {"appointment_date": DAY, "referral_date": EARLIER, "therapy_type": therapy}
        for therapy in THERAPY_KPIS
    ],
    "NeurodevelopmentalAssessmentCompleted": [
        {
            "pathway": "SOCIAL_COMMUNICATION_AUTISM",
            "completed_date": DAY,
            "referral_date": EARLIER,
        }
    ],
    "AdviceReturned": [
        {"returned_date": DAY, "due_date": DAY, "advice_type": "HEALTH", "coproduced": True}
    ],
    "AnnualReviewHeld": [{"review_date": DAY, "due_date": DAY, "young_person_involved": True}],
    "SocialCareCaseOpened": [{"opened_date": DAY, "send_status_recorded": True}],
    "Post16DestinationRecorded": [{"recorded_date": DAY, "destination": "EET"}],
    "SurveyResponseReceived": [
        {
            "response_date": DAY,
            "respondent": "PARENT_CARER",
            "listened_to": "AGREE",
            "can_find_information": "AGREE",
            "improvement_noticed": "AGREE",
        }
    ],
    "SupportedInternshipStarted": [{"start_date": DAY}],
    "TribunalAppealRegistered": [{"registered_date": DAY}],
    "PersonalHealthBudgetAgreed": [{"agreed_date": DAY}],
}


def declared(event_type: str) -> set[str]:
    return {kpi.id for kpi in MEASURED_FROM[event_type]}


def test_every_event_type_a_rule_reads_is_declared_and_no_other() -> None:
    assert set(MEASURED_FROM) == set(RULES) | READS
    assert set(EVERY_BRANCH) == set(RULES)


@pytest.mark.parametrize("event_type", sorted(EVERY_BRANCH))
def test_a_rule_adds_to_exactly_the_kpis_declared_for_its_event_type(event_type: str) -> None:
    day = dt.date.fromisoformat(DAY)
    added = {
        delta.kpi_id
        for payload in EVERY_BRANCH[event_type]
        for delta in contributions(event(event_type, day, payload))
    }
    assert added == declared(event_type)


def test_the_register_rules_add_to_exactly_the_kpis_declared() -> None:
    day = dt.date(2025, 10, 1)
    exclusions = [
        event("ExclusionRecorded", day, {"exclusion_kind": "PERMANENT", "start_date": DAY}),
        *(
            event(
                "ExclusionRecorded", day, {"exclusion_kind": "FIXED", "start_date": f"2025-10-0{n}"}
            )
            for n in (1, 2, 3)
        ),
    ]
    attendance = event("AttendanceRecorded", day, {"sessions_missed": 2, "sessions_possible": 10})
    added: dict[str, set[str]] = {"ExclusionRecorded": set(), "AttendanceRecorded": set()}
    for status in ("EHC_PLAN", "SEN_SUPPORT", "NONE"):
        spans = [Span(dt.date(2020, 1, 1), None, PersonState(send_status=status))]
        for delta in person_contributions([*exclusions, attendance], spans):
            kind = (
                "AttendanceRecorded" if delta.kpi_id.startswith("absence") else "ExclusionRecorded"
            )
            added[kind].add(delta.kpi_id)
    assert added == {kind: declared(kind) for kind in added}


def test_every_published_figure_reads_something_and_the_sources_compose() -> None:
    assert [f.figure for f in FAMILIES[: len(CATALOGUE)]] == [kpi.id for kpi in CATALOGUE]
    assert all(f.event_types or f.also_reads for f in FAMILIES)
    # new plans (the 20-week KPI's denominator) over the plans held (the register)
    assert kpi_family(EHCP_NEW_SHARE).event_types == REGISTER | {"EhcPlanIssued"}
    phb = kpi_family(PHB_UPTAKE)
    assert (phb.event_types, phb.also_reads) == (
        frozenset({"PersonalHealthBudgetAgreed"}),
        (REFERENCE_POPULATION,),
    )
    # counted by SEN status on the day: the register's event types too
    absence = next(f for f in FAMILIES if f.figure == "absence_rate_ehc_plan")
    assert absence.event_types == REGISTER | {"AttendanceRecorded"}
