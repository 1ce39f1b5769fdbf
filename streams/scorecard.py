"""The balanced scorecard's KPI catalogue: every KPI declaration, in the order shown.

Each KPI (`streams/kpi.py`) names its perspective, definition, target, polarity, RAG
thresholds, owner and source, and where its numerator and denominator come from (its
published comparators are reference data: `streams/comparators.py`); the declarations
live in `streams/kpis/`, one module per perspective. The
rules that turn events into monthly measures are in `streams/measures.py` (one event
at a time) and `streams/person_measures.py` (from a person's events and history).
Adding a KPI means a declaration, a line here and, if it reads events, its rule and
a test.
"""

from __future__ import annotations

from streams.kpi import Kpi, KpiResult, Polarity, Rag, Unit
from streams.kpis.experience import (
    ADVICE_COPRODUCED,
    CYP_INVOLVED_IN_PLANS,
    PARENTS_CAN_FIND_INFORMATION,
    PARENTS_FEEL_LISTENED_TO,
    PARENTS_NOTICE_IMPROVEMENT,
    SURVEY_PARTICIPATION,
    TRIBUNAL_APPEALS,
)
from streams.kpis.outcomes import (
    ABSENCE_BY_STATUS,
    EET_PARTICIPATION,
    PERMANENT_EXCLUSIONS_SEND,
    POST16_DESTINATION_KNOWN,
    REPEAT_FIXED_TERM_EXCLUSIONS,
    SUPPORTED_INTERNSHIPS,
)
from streams.kpis.resources import (
    EHCP_NEW_SHARE,
    EHCP_TOTAL,
    OUT_OF_AREA_PLACEMENTS,
    OUT_OF_AREA_SHARE,
    PHB_UPTAKE,
)
from streams.kpis.timeliness import (
    ANNUAL_REVIEWS_ON_TIME,
    EHCP_WITHIN_20_WEEKS_EXCL_EXCEPTIONS,
    EHCP_WITHIN_20_WEEKS_INCL_EXCEPTIONS,
    HEALTH_ADVICE_ON_TIME,
    SEND_STATUS_RECORDED,
    SOCIAL_COMMUNICATION_12W,
    SOCIAL_COMMUNICATION_WEEKS,
    STATUTORY_ADVICE_ON_TIME,
    STATUTORY_DAYS,
    STATUTORY_WEEKS,
    THERAPY_KPIS,
    THERAPY_WEEKS,
)

__all__ = [
    "ABSENCE_BY_STATUS",
    "ADVICE_COPRODUCED",
    "ANNUAL_REVIEWS_ON_TIME",
    "CATALOGUE",
    "CYP_INVOLVED_IN_PLANS",
    "EET_PARTICIPATION",
    "EHCP_NEW_SHARE",
    "EHCP_TOTAL",
    "EHCP_WITHIN_20_WEEKS_EXCL_EXCEPTIONS",
    "EHCP_WITHIN_20_WEEKS_INCL_EXCEPTIONS",
    "HEALTH_ADVICE_ON_TIME",
    "OUT_OF_AREA_PLACEMENTS",
    "OUT_OF_AREA_SHARE",
    "PARENTS_CAN_FIND_INFORMATION",
    "PARENTS_FEEL_LISTENED_TO",
    "PARENTS_NOTICE_IMPROVEMENT",
    "PERMANENT_EXCLUSIONS_SEND",
    "PHB_UPTAKE",
    "POST16_DESTINATION_KNOWN",
    "REPEAT_FIXED_TERM_EXCLUSIONS",
    "SEND_STATUS_RECORDED",
    "SOCIAL_COMMUNICATION_12W",
    "SOCIAL_COMMUNICATION_WEEKS",
    "STATUTORY_ADVICE_ON_TIME",
    "STATUTORY_DAYS",
    "STATUTORY_WEEKS",
    "SUPPORTED_INTERNSHIPS",
    "SURVEY_PARTICIPATION",
    "THERAPY_KPIS",
    "THERAPY_WEEKS",
    "TRIBUNAL_APPEALS",
    "Kpi",
    "KpiResult",
    "Polarity",
    "Rag",
    "Unit",
    "kpi_by_id",
]

CATALOGUE: tuple[Kpi, ...] = (
    # process and timeliness
    EHCP_WITHIN_20_WEEKS_EXCL_EXCEPTIONS,
    EHCP_WITHIN_20_WEEKS_INCL_EXCEPTIONS,
    HEALTH_ADVICE_ON_TIME,
    STATUTORY_ADVICE_ON_TIME,
    ANNUAL_REVIEWS_ON_TIME,
    *THERAPY_KPIS.values(),
    SOCIAL_COMMUNICATION_12W,
    SEND_STATUS_RECORDED,
    # outcomes
    POST16_DESTINATION_KNOWN,
    EET_PARTICIPATION,
    SUPPORTED_INTERNSHIPS,
    PERMANENT_EXCLUSIONS_SEND,
    REPEAT_FIXED_TERM_EXCLUSIONS,
    *ABSENCE_BY_STATUS.values(),
    # families' experience
    PARENTS_FEEL_LISTENED_TO,
    PARENTS_CAN_FIND_INFORMATION,
    PARENTS_NOTICE_IMPROVEMENT,
    SURVEY_PARTICIPATION,
    CYP_INVOLVED_IN_PLANS,
    ADVICE_COPRODUCED,
    TRIBUNAL_APPEALS,
    # resources and commissioning
    OUT_OF_AREA_SHARE,
    OUT_OF_AREA_PLACEMENTS,
    PHB_UPTAKE,
    EHCP_TOTAL,
    EHCP_NEW_SHARE,
)


def kpi_by_id(kpi_id: str) -> Kpi:
    for kpi in CATALOGUE:
        if kpi.id == kpi_id:
            return kpi
    raise KeyError(f"unknown KPI {kpi_id!r}")
