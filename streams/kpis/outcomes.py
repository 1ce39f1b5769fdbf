"""The outcomes perspective: what happens to children and young people with SEND.

Post-16 destinations and participation, supported internships, exclusions and
absence by SEN status.
"""

from __future__ import annotations

from typing import Any

from streams.kpi import Kpi, Polarity, Unit, declare, share

POST16_DESTINATION_KNOWN = share(
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

EET_PARTICIPATION = share(
    "eet_participation",
    "Young people with SEND in education, employment or training",
    "outcomes",
    "Post-16 statuses recorded in the period that are EET, divided by all statuses recorded "
    "in the period (not known counts in the cohort, so poor tracking shows; inferred "
    "16-25 with SEND).",
    85.0,
    "Council participation team",
    "Post16DestinationRecorded events",
    "001, 003",
    "month the status was recorded",
)

SUPPORTED_INTERNSHIPS = declare(
    id="supported_internships",
    name="Young people starting supported internships",
    perspective="outcomes",
    definition="Supported internships started in the period; RAG on the last 12 months against "
    "the 12 before (target +10 % a year).",
    numerator="supported internships started in the period",
    denominator="(a count: no denominator)",
    period="month the internship started",
    target_percent=10.0,
    polarity=Polarity.HIGHER_IS_BETTER,
    green_from=10.0,
    amber_from=0.0,
    owner="Council participation team",
    source="SupportedInternshipStarted events",
    seeds="001",
    unit=Unit.COUNT,
)

# exclusions are counts whose RAG wants a fall on the year before
_EXCLUSIONS_COMMON: dict[str, Any] = dict(
    unit=Unit.COUNT,
    target_percent=-1.0,
    polarity=Polarity.LOWER_IS_BETTER,
    green_from=-1.0,
    amber_from=10.0,
    owner="Council inclusion service",
    source="ExclusionRecorded events and the cohort register",
)

PERMANENT_EXCLUSIONS_SEND = declare(
    id="permanent_exclusions_send",
    name="Permanent exclusions of pupils with SEND",
    perspective="outcomes",
    definition="Permanent exclusions starting in the period of pupils who had an EHC plan or "
    "SEN support on the day (from the cohort register); the denominator is every permanent "
    "exclusion recorded. RAG on the last 12 months against the 12 before (target: a fall).",
    numerator="permanent exclusions of pupils with SEND",
    denominator="all permanent exclusions",
    period="month the exclusion started",
    **_EXCLUSIONS_COMMON,
    seeds="000, 001, 003",
)

REPEAT_FIXED_TERM_EXCLUSIONS = declare(
    id="repeat_fixed_term_exclusions",
    name="Pupils with SEND with 3 or more fixed-term exclusions in an academic year",
    perspective="outcomes",
    definition="Pupils with an EHC plan or SEN support on the day of their third fixed-term "
    "exclusion in an academic year (September to August), counted in that month; the "
    "denominator counts every pupil reaching a third. RAG on the last 12 months against "
    "the 12 before (target: a fall).",
    numerator="pupils with SEND reaching their third fixed-term exclusion of the year",
    denominator="all pupils reaching their third fixed-term exclusion of the year",
    period="month of the third exclusion",
    **_EXCLUSIONS_COMMON,
    seeds="001",
)


def _absence(status: str, label: str, target: float) -> Kpi:
    return declare(
        id=f"absence_rate_{status.lower()}",
        name=f"Overall absence rate, pupils with {label}",
        perspective="outcomes",
        definition=f"Half-day sessions missed by pupils with {label} on the day their term's "
        "attendance was recorded, divided by the sessions they could have attended.",
        numerator="sessions missed",
        denominator="sessions possible",
        period="month the term's attendance was recorded",
        target_percent=target,
        polarity=Polarity.LOWER_IS_BETTER,
        green_from=target,
        amber_from=target + 2.0,
        owner="Council inclusion service",
        source="AttendanceRecorded events and the cohort register",
        seeds="003",
    )


ABSENCE_BY_STATUS = {
    "EHC_PLAN": _absence("EHC_PLAN", "an EHC plan", 6.9),
    "SEN_SUPPORT": _absence("SEN_SUPPORT", "SEN support", 5.6),
    "NONE": _absence("NONE", "no SEN recorded", 3.8),
}
