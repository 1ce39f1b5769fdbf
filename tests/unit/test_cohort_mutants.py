"""The cohort register's fold, event type by event type, and how it cuts a history into spans.

The projection tests compare the live register with a batch reference built on the
same fold, so they cannot see a wrong rule in the fold itself; these tests state each
rule's effect on a child's register entry explicitly.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

import pytest

from streams.cohort import (
    EHC_PLAN,
    SEN_SUPPORT,
    TYPE_RANK,
    PersonState,
    Span,
    apply,
    order_key,
    state_at,
    timeline,
)
from tests.support.events import event

D = dt.date
# event ids in a known order, so the tie-break between same-day events is known too
FIRST_ID = uuid.UUID(int=1)
LAST_ID = uuid.UUID(int=2**128 - 1)


DETAILS = {"month_of_birth": "2014-03", "sex": "F", "ethnicity_group": "WHITE", "lsoa_code": "E1"}

# One child's history, in order: each event and what it changes on the register entry.
JOURNEY: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("PersonDetailsRecorded", DETAILS, {**DETAILS}),
    (
        "PersonDetailsRecorded",
        {"month_of_birth": None, "sex": None, "ethnicity_group": "MIXED", "lsoa_code": None},
        {"ethnicity_group": "MIXED"},
    ),
    (
        "SenSupportRecorded",
        {"sen_status": "K", "primary_need": "SLCN"},
        {"census_status": "K", "send_status": SEN_SUPPORT, "primary_need": "SLCN"},
    ),
    ("SenSupportRecorded", {"sen_status": "K", "primary_need": None}, {}),
    (
        "EhcPlanIssued",
        {"primary_need": "ASD"},
        {"plan_open": True, "send_status": EHC_PLAN, "primary_need": "ASD"},
    ),
    ("EhcPlanIssued", {"primary_need": None}, {}),
    (
        "PlacementStarted",
        {"setting_type": "SPECIAL", "in_area": False},
        {"setting_type": "SPECIAL", "in_area": False},
    ),
    ("PlacementEnded", {"setting_type": "MAINSTREAM"}, {}),
    ("PlacementEnded", {"setting_type": "SPECIAL"}, {"setting_type": None, "in_area": None}),
    ("ElectiveHomeEducationRegistered", {}, {"elective_home_education": True}),
    ("ElectiveHomeEducationEnded", {}, {"elective_home_education": False}),
    ("ChildMissingEducationRegistered", {}, {"missing_education": True}),
    ("ChildMissingEducationClosed", {}, {"missing_education": False}),
    ("Post16DestinationRecorded", {"destination": "NEET"}, {"neet": True}),
    ("Post16DestinationRecorded", {"destination": "EET"}, {"neet": False}),
    ("SendFlagSet", {}, {"send_flag_on_health_record": True}),
    (
        "TherapyReferralReceived",
        {"therapy_type": "SALT", "referral_date": "2024-05-01"},
        {"open_therapy_waits": (("SALT", "2024-05-01"),)},
    ),
    (
        "TherapyFirstAppointmentHeld",
        {"therapy_type": "SALT", "referral_date": "2024-05-01"},
        {"open_therapy_waits": ()},
    ),
    (
        "NeurodevelopmentalAssessmentRequested",
        {"pathway": "ADHD", "referral_date": "2024-06-01"},
        {"open_nd_assessments": (("ADHD", "2024-06-01"),)},
    ),
    (
        "NeurodevelopmentalAssessmentCompleted",
        {"pathway": "ADHD", "referral_date": "2024-06-01"},
        {"open_nd_assessments": ()},
    ),
    ("EhcPlanCeased", {}, {"plan_open": False, "send_status": SEN_SUPPORT}),
]


@pytest.mark.parametrize("step", range(len(JOURNEY)), ids=[kind for kind, _, _ in JOURNEY])
def test_each_event_changes_exactly_what_its_rule_says(step: int) -> None:
    state = PersonState()
    for kind, payload, _ in JOURNEY[:step]:
        state = apply(state, event(kind, D(2024, 1, 1), payload))
    kind, payload, changes = JOURNEY[step]
    after = apply(state, event(kind, D(2024, 1, 1), payload))
    assert after == dataclasses.replace(state, **changes)


def test_a_ceased_plan_is_closed_not_unknown() -> None:
    state = apply(PersonState(), event("EhcPlanIssued", D(2024, 1, 1), {"primary_need": "ASD"}))
    assert apply(state, event("EhcPlanCeased", D(2025, 1, 1), {})).plan_open is False


def test_same_day_events_follow_the_type_order_not_the_event_ids() -> None:
    case = {"case_type": "CHILD_IN_NEED", "opened_date": "2025-02-03"}
    closed = event("SocialCareCaseClosed", D(2025, 2, 3), case, event_id=FIRST_ID)
    opened = event("SocialCareCaseOpened", D(2025, 2, 3), case, event_id=LAST_ID)
    state = state_at(timeline([closed, opened]), D(2025, 2, 3))
    assert state is not None and state.open_cases == ()


def test_an_event_that_changes_nothing_still_makes_the_person_known_from_its_day() -> None:
    exclusion = event("ExclusionRecorded", D(2024, 3, 1), {"exclusion_kind": "FIXED_TERM"})
    assert timeline([exclusion]) == [
        Span(D(2024, 3, 1), None, PersonState(), (str(exclusion.event_id),))
    ]


def test_a_span_names_every_event_of_its_first_day_in_order() -> None:
    details = event("PersonDetailsRecorded", D(2024, 1, 5), DETAILS, event_id=LAST_ID)
    census = event("SenSupportRecorded", D(2024, 1, 5), {"sen_status": "K"}, event_id=FIRST_ID)
    [span] = timeline([census, details])
    assert span.caused_by == (str(LAST_ID), str(FIRST_ID))
    assert span.state.send_status == SEN_SUPPORT and span.state.month_of_birth == "2014-03"


def test_a_span_is_started_only_by_the_events_that_changed_the_state() -> None:
    details = event("PersonDetailsRecorded", D(2024, 1, 5), DETAILS)
    again = event("PersonDetailsRecorded", D(2024, 2, 1), DETAILS)  # the same details, resent
    census = event("SenSupportRecorded", D(2024, 2, 1), {"sen_status": "K"})
    spans = timeline([details, again, census])
    assert [(s.valid_from, s.valid_to, s.caused_by) for s in spans] == [
        (D(2024, 1, 5), D(2024, 2, 1), (str(details.event_id),)),
        (D(2024, 2, 1), None, (str(census.event_id),)),
    ]


def test_a_day_that_ends_where_it_began_folds_into_the_span_before() -> None:
    details = event("PersonDetailsRecorded", D(2024, 1, 5), DETAILS)
    registered = event("ElectiveHomeEducationRegistered", D(2024, 3, 1), {})
    ended = event("ElectiveHomeEducationEnded", D(2024, 3, 1), {})
    census = event("SenSupportRecorded", D(2024, 4, 1), {"sen_status": "K"})
    spans = timeline([details, registered, ended, census])
    assert [(s.valid_from, s.valid_to, s.caused_by) for s in spans] == [
        (D(2024, 1, 5), D(2024, 4, 1), (str(details.event_id),)),
        (D(2024, 4, 1), None, (str(census.event_id),)),
    ]
    assert spans[0].state == PersonState(**DETAILS)


def test_a_span_no_longer_holds_on_its_end_day() -> None:
    spans = [Span(D(2024, 1, 1), D(2024, 2, 1), PersonState())]
    assert state_at(spans, D(2024, 1, 31)) == PersonState()
    assert state_at(spans, D(2024, 2, 1)) is None


def test_the_order_key_is_day_then_type_rank_then_event_id() -> None:
    plan = event("EhcPlanIssued", D(2024, 9, 2), {}, event_id=FIRST_ID)
    assert order_key(plan) == (D(2024, 9, 2), TYPE_RANK["EhcPlanIssued"], str(FIRST_ID))
    other = event("ExclusionRecorded", D(2024, 9, 2), {}, event_id=FIRST_ID)
    assert order_key(other)[1] > max(TYPE_RANK.values())
