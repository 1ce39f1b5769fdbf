"""The scorecard's single-event rules: what one event adds to each KPI's month.

Each event that a KPI reads contributes numerator and denominator deltas to the
month the KPI's period names; everything here is pure, so the worker, replay and
the tests' batch reference add up the same figures. Rules that need a person's
register state (exclusions and absence by SEN status) are in `person_measures.py`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from schemas.envelope import Event
from streams.scorecard import (
    ADVICE_COPRODUCED,
    ANNUAL_REVIEWS_ON_TIME,
    CYP_INVOLVED_IN_PLANS,
    EET_PARTICIPATION,
    EHCP_WITHIN_20_WEEKS_EXCL_EXCEPTIONS,
    EHCP_WITHIN_20_WEEKS_INCL_EXCEPTIONS,
    HEALTH_ADVICE_ON_TIME,
    PARENTS_CAN_FIND_INFORMATION,
    PARENTS_FEEL_LISTENED_TO,
    PARENTS_NOTICE_IMPROVEMENT,
    PHB_UPTAKE,
    POST16_DESTINATION_KNOWN,
    SEND_STATUS_RECORDED,
    SOCIAL_COMMUNICATION_12W,
    SOCIAL_COMMUNICATION_WEEKS,
    STATUTORY_ADVICE_ON_TIME,
    STATUTORY_DAYS,
    SUPPORTED_INTERNSHIPS,
    SURVEY_PARTICIPATION,
    THERAPY_KPIS,
    THERAPY_WEEKS,
    TRIBUNAL_APPEALS,
    Kpi,
)

AGREEMENT = frozenset({"AGREE", "STRONGLY_AGREE"})
SURVEY_QUESTIONS = (
    ("listened_to", PARENTS_FEEL_LISTENED_TO),
    ("can_find_information", PARENTS_CAN_FIND_INFORMATION),
    ("improvement_noticed", PARENTS_NOTICE_IMPROVEMENT),
)


@dataclass(frozen=True)
class MeasureDelta:
    kpi_id: str
    period: dt.date
    numerator: int
    denominator: int


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def issued_within_20_weeks(request_date: dt.date, issue_date: dt.date) -> bool:
    return (issue_date - request_date).days <= STATUTORY_DAYS


def _date(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


def _one(kpi: Kpi, day: dt.date, met: bool) -> list[MeasureDelta]:
    return [MeasureDelta(kpi.id, month_of(day), int(met), 1)]


def _count(kpi: Kpi, day: dt.date) -> list[MeasureDelta]:
    """One more of something counted (the KPI's denominator comes from elsewhere)."""
    return [MeasureDelta(kpi.id, month_of(day), 1, 0)]


def _advice(event: Event) -> list[MeasureDelta]:
    p = event.payload
    returned = _date(p["returned_date"])
    on_time = returned <= _date(p["due_date"])
    deltas = _one(STATUTORY_ADVICE_ON_TIME, returned, on_time)
    if p["advice_type"] == "HEALTH":
        deltas += _one(HEALTH_ADVICE_ON_TIME, returned, on_time)
    if p.get("coproduced") is not None:
        deltas += _one(ADVICE_COPRODUCED, returned, bool(p["coproduced"]))
    return deltas


def _annual_review(event: Event) -> list[MeasureDelta]:
    p = event.payload
    held = _date(p["review_date"])
    deltas = []
    if p.get("due_date"):
        deltas += _one(ANNUAL_REVIEWS_ON_TIME, held, held <= _date(p["due_date"]))
    if p.get("young_person_involved") is not None:
        deltas += _one(CYP_INVOLVED_IN_PLANS, held, bool(p["young_person_involved"]))
    return deltas


def _survey(event: Event) -> list[MeasureDelta]:
    p = event.payload
    day = _date(p["response_date"])
    deltas = [
        delta
        for question, kpi in SURVEY_QUESTIONS
        if p.get(question) is not None
        for delta in _one(kpi, day, p[question] in AGREEMENT)
    ]
    if p["respondent"] == "PARENT_CARER":
        deltas += _count(SURVEY_PARTICIPATION, day)
    return deltas


def _destination(event: Event) -> list[MeasureDelta]:
    p = event.payload
    day = _date(p["recorded_date"])
    return [
        *_one(POST16_DESTINATION_KNOWN, day, p["destination"] != "NOT_KNOWN"),
        *_one(EET_PARTICIPATION, day, p["destination"] == "EET"),
    ]


def _plan(event: Event) -> list[MeasureDelta]:
    p = event.payload
    issue_date = _date(p["issue_date"])
    on_time = int(issued_within_20_weeks(_date(p["request_date"]), issue_date))
    period = month_of(issue_date)
    deltas = [MeasureDelta(EHCP_WITHIN_20_WEEKS_INCL_EXCEPTIONS.id, period, on_time, 1)]
    if not p["permitted_exception"]:
        deltas.append(MeasureDelta(EHCP_WITHIN_20_WEEKS_EXCL_EXCEPTIONS.id, period, on_time, 1))
    return deltas


def _therapy(event: Event) -> list[MeasureDelta]:
    p = event.payload
    seen = _date(p["appointment_date"])
    waited = (seen - _date(p["referral_date"])).days
    return _one(THERAPY_KPIS[p["therapy_type"]], seen, waited <= THERAPY_WEEKS * 7)


def _assessment(event: Event) -> list[MeasureDelta]:
    p = event.payload
    if p["pathway"] != "SOCIAL_COMMUNICATION_AUTISM":
        return []
    done = _date(p["completed_date"])
    waited = (done - _date(p["referral_date"])).days
    return _one(SOCIAL_COMMUNICATION_12W, done, waited <= SOCIAL_COMMUNICATION_WEEKS * 7)


def _case_opened(event: Event) -> list[MeasureDelta]:
    p = event.payload
    return _one(SEND_STATUS_RECORDED, _date(p["opened_date"]), bool(p["send_status_recorded"]))


Rule = Callable[[Event], list[MeasureDelta]]


def _counting(kpi: Kpi, date_field: str) -> Rule:
    """A rule counting each event in the month of its `date_field`."""

    def rule(event: Event) -> list[MeasureDelta]:
        return _count(kpi, _date(event.payload[date_field]))

    return rule


RULES: dict[str, Rule] = {
    "EhcPlanIssued": _plan,
    "TherapyFirstAppointmentHeld": _therapy,
    "NeurodevelopmentalAssessmentCompleted": _assessment,
    "AdviceReturned": _advice,
    "AnnualReviewHeld": _annual_review,
    "SocialCareCaseOpened": _case_opened,
    "Post16DestinationRecorded": _destination,
    "SurveyResponseReceived": _survey,
    "SupportedInternshipStarted": _counting(SUPPORTED_INTERNSHIPS, "start_date"),
    "TribunalAppealRegistered": _counting(TRIBUNAL_APPEALS, "registered_date"),
    "PersonalHealthBudgetAgreed": _counting(PHB_UPTAKE, "agreed_date"),
}


def contributions(event: Event) -> list[MeasureDelta]:
    """What one event adds to each KPI's month. Events no KPI reads contribute nothing."""
    rule = RULES.get(event.event_type)
    return rule(event) if rule is not None else []


def add_up(deltas: Iterable[MeasureDelta]) -> list[MeasureDelta]:
    """Deltas added up per (KPI, month), in a stable order, dropping those that cancel out."""
    totals: dict[tuple[str, dt.date], list[int]] = defaultdict(lambda: [0, 0])
    for delta in deltas:
        total = totals[(delta.kpi_id, delta.period)]
        total[0] += delta.numerator
        total[1] += delta.denominator
    return [MeasureDelta(k, p, n, d) for (k, p), (n, d) in sorted(totals.items()) if n or d]


def retract(deltas: Iterable[MeasureDelta]) -> list[MeasureDelta]:
    """The deltas that take `deltas` back out (a state or a revision no longer in effect)."""
    return [MeasureDelta(d.kpi_id, d.period, -d.numerator, -d.denominator) for d in deltas]


def sum_contributions(events: Iterable[Event]) -> list[MeasureDelta]:
    """All events' deltas added up per (KPI, month), in a stable order."""
    return add_up(delta for event in events for delta in contributions(event))
