"""The balanced scorecard's KPIs as data, and the pure rules that measure them.

A KPI is a declaration (target, polarity, RAG thresholds, comparators); each event
contributes numerator and denominator deltas to a KPI's month. Adding a KPI means
adding a declaration and its contribution rule, with a test.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from schemas.envelope import Event

STATUTORY_WEEKS = 20
STATUTORY_DAYS = STATUTORY_WEEKS * 7


class Polarity(StrEnum):
    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"


class Rag(StrEnum):
    RED = "red"
    AMBER = "amber"
    GREEN = "green"
    NO_DATA = "no_data"


@dataclass(frozen=True)
class Kpi:
    """One scorecard KPI. Percentages are 0-100; thresholds read with the KPI's polarity."""

    id: str
    name: str
    perspective: str
    definition: str
    numerator: str
    denominator: str
    period: str
    target_percent: float
    polarity: Polarity
    green_from: float
    amber_from: float
    comparators: tuple[tuple[str, float], ...]
    owner: str
    source: str
    seeds: str

    def rag(self, percentage: float | None) -> Rag:
        if percentage is None:
            return Rag.NO_DATA
        if self.polarity is Polarity.HIGHER_IS_BETTER:
            if percentage >= self.green_from:
                return Rag.GREEN
            return Rag.AMBER if percentage >= self.amber_from else Rag.RED
        if percentage <= self.green_from:
            return Rag.GREEN
        return Rag.AMBER if percentage <= self.amber_from else Rag.RED


_EHCP_COMMON: dict[str, Any] = dict(
    perspective="process and timeliness",
    period="month the plan was issued",
    target_percent=90.0,
    polarity=Polarity.HIGHER_IS_BETTER,
    green_from=90.0,
    amber_from=80.0,
    owner="Council SEN team",
    source="EhcPlanIssued events from the council's SEN case management system",
)

EHCP_WITHIN_20_WEEKS_EXCL_EXCEPTIONS = Kpi(
    id="ehcp_20_weeks_excl_exceptions",
    name="New EHC plans issued within 20 weeks, excluding permitted exceptions",
    definition=(
        "Plans issued in the period within 20 weeks (140 days) of the request for "
        "assessment, divided by all plans issued in the period; plans where a permitted "
        "exception applied are removed from both."
    ),
    numerator="plans without a permitted exception issued within 140 days of request",
    denominator="plans without a permitted exception issued in the period",
    comparators=(),
    seeds="001, 003 (split inferred)",
    **_EHCP_COMMON,
)

EHCP_WITHIN_20_WEEKS_INCL_EXCEPTIONS = Kpi(
    id="ehcp_20_weeks_incl_exceptions",
    name="New EHC plans issued within 20 weeks, including exception cases",
    definition=(
        "Plans issued in the period within 20 weeks (140 days) of the request for "
        "assessment, divided by all plans issued in the period."
    ),
    numerator="plans issued within 140 days of request",
    denominator="plans issued in the period",
    comparators=(("regional_2020", 67.8), ("national_2020", 58.7)),
    seeds="001, 002, 003",
    **_EHCP_COMMON,
)


def _timeliness(
    kpi_id: str,
    name: str,
    perspective: str,
    definition: str,
    target: float,
    owner: str,
    source: str,
    seeds: str,
    period: str,
) -> Kpi:
    """A KPI of the form "within the deadline / all that happened", higher is better."""
    return Kpi(
        id=kpi_id,
        name=name,
        perspective=perspective,
        definition=definition,
        numerator="those within the deadline",
        denominator="all of them in the period",
        period=period,
        target_percent=target,
        polarity=Polarity.HIGHER_IS_BETTER,
        green_from=target,
        amber_from=target - 10,
        comparators=(),
        owner=owner,
        source=source,
        seeds=seeds,
    )


THERAPY_WEEKS = 6
THERAPY_KPIS = {
    therapy: _timeliness(
        f"therapy_{therapy.lower()}_seen_within_6_weeks",
        f"{label} first appointments within 6 weeks of referral",
        "process and timeliness",
        f"{label} first appointments in the period held within 42 days of the referral, "
        "divided by all first appointments held in the period.",
        90.0,
        "Community health trust",
        "TherapyFirstAppointmentHeld events from the community health record",
        "001",
        "month of the first appointment",
    )
    for therapy, label in (
        ("SALT", "Speech and language therapy"),
        ("OT", "Occupational therapy"),
        ("PHYSIO", "Physiotherapy"),
    )
}
SOCIAL_COMMUNICATION_WEEKS = 12
SOCIAL_COMMUNICATION_12W = _timeliness(
    "social_communication_wait_12w",
    "Social communication (autism) assessments within 12 weeks of referral",
    "process and timeliness",
    "Social communication assessments completed in the period within 84 days of referral, "
    "divided by all completed in the period.",
    90.0,
    "Community health trust (neurodevelopmental pathway)",
    "NeurodevelopmentalAssessmentCompleted events (pathway SOCIAL_COMMUNICATION_AUTISM)",
    "001, 002, 003",
    "month the assessment was completed",
)
HEALTH_ADVICE_ON_TIME = _timeliness(
    "health_advice_on_time",
    "Health advice for EHC assessments returned within 6 weeks",
    "process and timeliness",
    "Health advice returned in the period on or before its due date (6 weeks after it "
    "was requested), divided by all health advice returned in the period.",
    100.0,
    "Integrated care board (designated clinical officer)",
    "AdviceReturned events with advice_type HEALTH",
    "000, 002",
    "month the advice was returned",
)
ANNUAL_REVIEWS_ON_TIME = _timeliness(
    "annual_reviews_on_time",
    "Annual reviews held within 12 months of the plan or last review",
    "process and timeliness",
    "Annual reviews held in the period on or before their due date, divided by all "
    "reviews held in the period whose due date is recorded (inferred definition).",
    100.0,
    "Council SEN team",
    "AnnualReviewHeld events with a due_date",
    "001, 004",
    "month the review was held",
)
SEND_STATUS_RECORDED = _timeliness(
    "send_status_recorded_new_cases",
    "New social care cases with SEND status recorded",
    "process and timeliness",
    "Early Help, child in need, child protection, looked-after and youth offending cases "
    "opened in the period whose SEND status was recorded, divided by all opened.",
    100.0,
    "Children and family services",
    "SocialCareCaseOpened events",
    "001",
    "month the case was opened",
)
POST16_DESTINATION_KNOWN = _timeliness(
    "post16_destination_known",
    "Young people with SEND with a known post-16 destination",
    "outcomes",
    "Destinations recorded in the period that are known (EET or NEET), divided by all "
    "destinations recorded in the period.",
    97.0,
    "Council participation team",
    "Post16DestinationRecorded events",
    "001",
    "month the destination was recorded",
)

CATALOGUE: tuple[Kpi, ...] = (
    EHCP_WITHIN_20_WEEKS_EXCL_EXCEPTIONS,
    EHCP_WITHIN_20_WEEKS_INCL_EXCEPTIONS,
    HEALTH_ADVICE_ON_TIME,
    ANNUAL_REVIEWS_ON_TIME,
    *THERAPY_KPIS.values(),
    SOCIAL_COMMUNICATION_12W,
    SEND_STATUS_RECORDED,
    POST16_DESTINATION_KNOWN,
)


def kpi_by_id(kpi_id: str) -> Kpi:
    for kpi in CATALOGUE:
        if kpi.id == kpi_id:
            return kpi
    raise KeyError(f"unknown KPI {kpi_id!r}")


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


def _other_contributions(event: Event) -> list[MeasureDelta]:
    """The single-event KPIs other than the 20-week plans."""
    p = event.payload
    kind = event.event_type
    if kind == "TherapyFirstAppointmentHeld":
        seen = _date(p["appointment_date"])
        waited = (seen - _date(p["referral_date"])).days
        return _one(THERAPY_KPIS[p["therapy_type"]], seen, waited <= THERAPY_WEEKS * 7)
    if kind == "NeurodevelopmentalAssessmentCompleted":
        if p["pathway"] != "SOCIAL_COMMUNICATION_AUTISM":
            return []
        done = _date(p["completed_date"])
        waited = (done - _date(p["referral_date"])).days
        return _one(SOCIAL_COMMUNICATION_12W, done, waited <= SOCIAL_COMMUNICATION_WEEKS * 7)
    if kind == "AdviceReturned":
        if p["advice_type"] != "HEALTH":
            return []
        returned = _date(p["returned_date"])
        return _one(HEALTH_ADVICE_ON_TIME, returned, returned <= _date(p["due_date"]))
    if kind == "AnnualReviewHeld":
        if not p.get("due_date"):
            return []
        held = _date(p["review_date"])
        return _one(ANNUAL_REVIEWS_ON_TIME, held, held <= _date(p["due_date"]))
    if kind == "SocialCareCaseOpened":
        return _one(SEND_STATUS_RECORDED, _date(p["opened_date"]), bool(p["send_status_recorded"]))
    if kind == "Post16DestinationRecorded":
        known = p["destination"] != "NOT_KNOWN"
        return _one(POST16_DESTINATION_KNOWN, _date(p["recorded_date"]), known)
    return []


def contributions(event: Event) -> list[MeasureDelta]:
    """What one event adds to each KPI's month. Events no KPI reads contribute nothing."""
    if event.event_type != "EhcPlanIssued":
        return _other_contributions(event)
    request_date = dt.date.fromisoformat(event.payload["request_date"])
    issue_date = dt.date.fromisoformat(event.payload["issue_date"])
    on_time = int(issued_within_20_weeks(request_date, issue_date))
    period = month_of(issue_date)
    deltas = [MeasureDelta(EHCP_WITHIN_20_WEEKS_INCL_EXCEPTIONS.id, period, on_time, 1)]
    if not event.payload["permitted_exception"]:
        deltas.append(MeasureDelta(EHCP_WITHIN_20_WEEKS_EXCL_EXCEPTIONS.id, period, on_time, 1))
    return deltas


def sum_contributions(events: Iterable[Event]) -> list[MeasureDelta]:
    """All events' deltas added up per (KPI, month), in a stable order."""
    totals: dict[tuple[str, dt.date], list[int]] = defaultdict(lambda: [0, 0])
    for event in events:
        for delta in contributions(event):
            total = totals[(delta.kpi_id, delta.period)]
            total[0] += delta.numerator
            total[1] += delta.denominator
    return [MeasureDelta(k, p, n, d) for (k, p), (n, d) in sorted(totals.items())]


@dataclass(frozen=True)
class KpiResult:
    """A KPI measured over a span of months."""

    kpi: Kpi
    numerator: int
    denominator: int
    first_period: dt.date | None
    last_period: dt.date | None

    @property
    def percentage(self) -> float | None:
        if self.denominator == 0:
            return None
        return round(100.0 * self.numerator / self.denominator, 1)

    @property
    def rag(self) -> Rag:
        return self.kpi.rag(self.percentage)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.kpi.id,
            "name": self.kpi.name,
            "perspective": self.kpi.perspective,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "percentage": self.percentage,
            "target_percent": self.kpi.target_percent,
            "polarity": self.kpi.polarity.value,
            "rag": self.rag.value,
            "period_from": self.first_period.isoformat()[:7] if self.first_period else None,
            "period_to": self.last_period.isoformat()[:7] if self.last_period else None,
            "comparators": dict(self.kpi.comparators),
            "definition": self.kpi.definition,
            "source": self.kpi.source,
            "owner": self.kpi.owner,
        }
