"""Lineage: which event types feed each published figure, declared beside the rules that count.

Information governance asks of every published figure what it was built from. A KPI's
numerator and denominator each come from monthly measures (added up from the event types
`MEASURED_FROM` lists, the rules of `streams/measures.py` and `streams/person_measures.py`),
the register (the event types `streams/cohort.py` folds) or the reference population; the
JSNA and its cross-tabs count the register. `FAMILIES` is every published figure family
with the event types and other sources it reads. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from streams.cohort import TYPE_RANK
from streams.kpi import Figure, Kpi, Source
from streams.person_measures import READS as READ_WITH_THE_REGISTER
from streams.scorecard import (
    ABSENCE_BY_STATUS,
    ADVICE_COPRODUCED,
    ANNUAL_REVIEWS_ON_TIME,
    CATALOGUE,
    CYP_INVOLVED_IN_PLANS,
    EET_PARTICIPATION,
    EHCP_WITHIN_20_WEEKS_EXCL_EXCEPTIONS,
    EHCP_WITHIN_20_WEEKS_INCL_EXCEPTIONS,
    HEALTH_ADVICE_ON_TIME,
    PARENTS_CAN_FIND_INFORMATION,
    PARENTS_FEEL_LISTENED_TO,
    PARENTS_NOTICE_IMPROVEMENT,
    PERMANENT_EXCLUSIONS_SEND,
    PHB_UPTAKE,
    POST16_DESTINATION_KNOWN,
    REPEAT_FIXED_TERM_EXCLUSIONS,
    SEND_STATUS_RECORDED,
    SOCIAL_COMMUNICATION_12W,
    STATUTORY_ADVICE_ON_TIME,
    SUPPORTED_INTERNSHIPS,
    SURVEY_PARTICIPATION,
    THERAPY_KPIS,
    TRIBUNAL_APPEALS,
)

REGISTER = frozenset(TYPE_RANK)  # the event types the cohort register folds
REFERENCE_POPULATION = "reference population (ONS mid-year estimates)"
REFERENCE_LOCALITIES = "reference LSOA-to-locality lookup"

# Each event type a measure rule reads, and the KPIs whose monthly measures it adds to
# (tests/unit/test_lineage.py holds this to the rules).
MEASURED_FROM: dict[str, tuple[Kpi, ...]] = {
    "EhcPlanIssued": (EHCP_WITHIN_20_WEEKS_INCL_EXCEPTIONS, EHCP_WITHIN_20_WEEKS_EXCL_EXCEPTIONS),
    "TherapyFirstAppointmentHeld": tuple(THERAPY_KPIS.values()),
    "NeurodevelopmentalAssessmentCompleted": (SOCIAL_COMMUNICATION_12W,),
    "AdviceReturned": (STATUTORY_ADVICE_ON_TIME, HEALTH_ADVICE_ON_TIME, ADVICE_COPRODUCED),
    "AnnualReviewHeld": (ANNUAL_REVIEWS_ON_TIME, CYP_INVOLVED_IN_PLANS),
    "SocialCareCaseOpened": (SEND_STATUS_RECORDED,),
    "Post16DestinationRecorded": (POST16_DESTINATION_KNOWN, EET_PARTICIPATION),
    "SurveyResponseReceived": (
        PARENTS_FEEL_LISTENED_TO,
        PARENTS_CAN_FIND_INFORMATION,
        PARENTS_NOTICE_IMPROVEMENT,
        SURVEY_PARTICIPATION,
    ),
    "SupportedInternshipStarted": (SUPPORTED_INTERNSHIPS,),
    "TribunalAppealRegistered": (TRIBUNAL_APPEALS,),
    "PersonalHealthBudgetAgreed": (PHB_UPTAKE,),
    # counted by the pupil's SEND status on the day, which the register knows
    "AttendanceRecorded": tuple(ABSENCE_BY_STATUS.values()),
    "ExclusionRecorded": (PERMANENT_EXCLUSIONS_SEND, REPEAT_FIXED_TERM_EXCLUSIONS),
}


@dataclass(frozen=True)
class Family:
    """A published figure family: a KPI, the JSNA or its cross-tabs, and what it reads."""

    figure: str  # a KPI id, "jsna" or "jsna_crosstab"
    kind: str  # "kpi", "jsna" or "crosstab"
    event_types: frozenset[str]
    also_reads: tuple[str, ...] = ()


def measured_by(kpi_id: str) -> frozenset[str]:
    """The event types a KPI's own monthly measures are added up from, with the register's
    when a rule counts by the person's SEND status on the day."""
    types = {kind for kind, kpis in MEASURED_FROM.items() if any(k.id == kpi_id for k in kpis)}
    if types & READ_WITH_THE_REGISTER:
        types |= REGISTER
    return frozenset(types)


def _reads(kpi: Kpi, figure: Figure) -> tuple[frozenset[str], tuple[str, ...]]:
    if figure.source is Source.COHORT:
        return REGISTER, ()
    if figure.source is Source.POPULATION:
        return frozenset(), (REFERENCE_POPULATION,)
    return measured_by(figure.kpi_id or kpi.id), ()


def kpi_family(kpi: Kpi) -> Family:
    """What a KPI's value is built from: its numerator's and its denominator's sources."""
    types: set[str] = set()
    others: list[str] = []
    for figure in (kpi.numerator_from, kpi.denominator_from):
        read, also = _reads(kpi, figure)
        types |= read
        others += [name for name in also if name not in others]
    return Family(kpi.id, "kpi", frozenset(types), tuple(others))


def families(kpis: Iterable[Kpi] = CATALOGUE) -> tuple[Family, ...]:
    """Every published figure family, the scorecard's KPIs in their order first."""
    return (
        *(kpi_family(kpi) for kpi in kpis),
        Family("jsna", "jsna", REGISTER, (REFERENCE_POPULATION, REFERENCE_LOCALITIES)),
        Family("jsna_crosstab", "crosstab", REGISTER, (REFERENCE_LOCALITIES,)),
    )


FAMILIES = families()
