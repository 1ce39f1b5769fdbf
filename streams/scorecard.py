"""The balanced scorecard's KPI catalogue: every KPI as a declaration.

Each KPI names its perspective, definition, target, polarity, RAG thresholds,
comparators, owner and source, and where its numerator and denominator come from
(`streams/kpi.py`). The rules that turn events into monthly measures live in
`streams/measures.py` (one event at a time) and `streams/person_measures.py` (from
a person's events and register history). Adding a KPI means adding a declaration
here and, if it reads events, its rule, with a test.
"""

from __future__ import annotations

from typing import Any

from streams.kpi import (
    POPULATION_0_25,
    Kpi,
    KpiResult,
    Polarity,
    Rag,
    Unit,
    cohort,
    measured,
)

__all__ = ["CATALOGUE", "Kpi", "KpiResult", "Polarity", "Rag", "Unit", "kpi_by_id"]

STATUTORY_WEEKS = 20
STATUTORY_DAYS = STATUTORY_WEEKS * 7


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

STATUTORY_ADVICE_ON_TIME = _timeliness(
    "statutory_advice_on_time",
    "Advice for EHC assessments returned within the statutory 6 weeks",
    "process and timeliness",
    "Advice of every kind (health, social care, educational psychology) returned in the "
    "period on or before its due date, divided by all advice returned in the period.",
    75.0,
    "Council SEN team with each advising service",
    "AdviceReturned events",
    "000, 002",
    "month the advice was returned",
)
EET_PARTICIPATION = _timeliness(
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
CYP_INVOLVED_IN_PLANS = _timeliness(
    "cyp_involved_in_plans",
    "Children and young people involved in their EHC plan reviews",
    "families' experience",
    "Annual reviews held in the period where the child or young person attended or was "
    "involved, divided by reviews held in the period where involvement was recorded.",
    80.0,
    "Council SEN team",
    "AnnualReviewHeld events with young_person_involved",
    "002",
    "month the review was held",
)
ADVICE_COPRODUCED = _timeliness(
    "advice_coproduced",
    "Professional advice developed with the parent and young person",
    "families' experience",
    "Advice returned in the period recorded as co-produced, divided by advice returned in "
    "the period where co-production was recorded (the seed's sample audit, as a census).",
    80.0,
    "Council SEN team with each advising service",
    "AdviceReturned events with coproduced",
    "004",
    "month the advice was returned",
)


def _survey(kpi_id: str, name: str, statement: str, seeds: str, target: float) -> Kpi:
    return _timeliness(
        kpi_id,
        name,
        "families' experience",
        f"Survey responses in the period agreeing or strongly agreeing that {statement}, "
        "divided by responses in the period that answered the question.",
        target,
        "Parent Carer Forum with the council",
        "SurveyResponseReceived events",
        seeds,
        "month of the response",
    )


PARENTS_FEEL_LISTENED_TO = _survey(
    "parents_feel_listened_to",
    "Parents and carers who feel listened to",
    "they feel listened to and their views influence services",
    "000, 002",
    75.0,
)
PARENTS_CAN_FIND_INFORMATION = _survey(
    "parents_can_find_information",
    "Parents and carers who can find the information they need",
    "they can find the information they need to navigate the system",
    "000",
    75.0,
)
PARENTS_NOTICE_IMPROVEMENT = _survey(
    "parents_notice_improvement",
    "Parents and carers who have noticed services improving",
    "they have noticed services improving",
    "000",
    75.0,
)


def _kpi(**fields: Any) -> Kpi:
    """A KPI declared in full; comparators default to none."""
    fields.setdefault("comparators", ())
    return Kpi(**fields)


SURVEY_PARTICIPATION = _kpi(
    id="survey_participation",
    name="Survey participation",
    perspective="families' experience",
    definition="Survey responses from parents and carers in the 12 months to the period's "
    "end, divided by the "
    "children and young people with SEND (EHC plan or SEN support) as at the period's "
    "last month end (one family per child: inferred).",
    numerator="responses from parents and carers in the 12 months",
    denominator="children and young people with SEND at the last month end",
    period="month of the response",
    target_percent=10.0,
    polarity=Polarity.HIGHER_IS_BETTER,
    green_from=10.0,
    amber_from=5.0,
    owner="Parent Carer Forum with the council",
    source="SurveyResponseReceived events and the cohort register",
    seeds="000",
    denominator_from=cohort(),
)
TRIBUNAL_APPEALS = _kpi(
    id="tribunal_appeals",
    name="SEND tribunal appeals registered per 1,000 EHC plans",
    perspective="families' experience",
    definition="Appeals registered by the SEND tribunal in the 12 months to the period's "
    "end, per 1,000 children "
    "and young people with an EHC plan as at the period's last month end (inferred rate).",
    numerator="appeals registered in the 12 months",
    denominator="children and young people with an EHC plan at the last month end",
    period="month the appeal was registered",
    target_percent=5.4,
    polarity=Polarity.LOWER_IS_BETTER,
    green_from=5.4,
    amber_from=10.0,
    owner="Council SEN team",
    source="TribunalAppealRegistered events and the cohort register",
    seeds="national SEN2 measure (inferred target)",
    unit=Unit.PER_1000,
    denominator_from=cohort(statuses=("EHC_PLAN",)),
)
SUPPORTED_INTERNSHIPS = _kpi(
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
PERMANENT_EXCLUSIONS_SEND = _kpi(
    id="permanent_exclusions_send",
    name="Permanent exclusions of pupils with SEND",
    perspective="outcomes",
    definition="Permanent exclusions starting in the period of pupils who had an EHC plan or "
    "SEN support on the day (from the cohort register); the denominator is every permanent "
    "exclusion recorded. RAG on the last 12 months against the 12 before (target: a fall).",
    numerator="permanent exclusions of pupils with SEND",
    denominator="all permanent exclusions",
    period="month the exclusion started",
    target_percent=-1.0,
    polarity=Polarity.LOWER_IS_BETTER,
    green_from=-1.0,
    amber_from=10.0,
    owner="Council inclusion service",
    source="ExclusionRecorded events and the cohort register",
    seeds="000, 001, 003",
    unit=Unit.COUNT,
)
REPEAT_FIXED_TERM_EXCLUSIONS = _kpi(
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
    target_percent=-1.0,
    polarity=Polarity.LOWER_IS_BETTER,
    green_from=-1.0,
    amber_from=10.0,
    owner="Council inclusion service",
    source="ExclusionRecorded events and the cohort register",
    seeds="001",
    unit=Unit.COUNT,
)


def _absence(status: str, label: str, target: float, comparator: float) -> Kpi:
    return _kpi(
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
        comparators=(("leicestershire_2019_secondary", comparator),),
        owner="Council inclusion service",
        source="AttendanceRecorded events and the cohort register",
        seeds="003",
    )


ABSENCE_BY_STATUS = {
    "EHC_PLAN": _absence("EHC_PLAN", "an EHC plan", 6.9, 12.5),
    "SEN_SUPPORT": _absence("SEN_SUPPORT", "SEN support", 5.6, 9.0),
    "NONE": _absence("NONE", "no SEN recorded", 3.8, 5.2),
}
OUT_OF_AREA_SHARE = _kpi(
    id="out_of_area_share",
    name="Children and young people with SEND placed out of area",
    perspective="resources and commissioning",
    definition="Children and young people aged 0-25 with an EHC plan or SEN support whose "
    "current placement is outside the area, divided by all with SEND, as at the last "
    "month end of the period.",
    numerator="with SEND placed out of area at the month end",
    denominator="with SEND at the month end",
    period="as at each month end",
    target_percent=8.5,
    polarity=Polarity.LOWER_IS_BETTER,
    green_from=8.5,
    amber_from=10.6,
    owner="Joint commissioning (council and ICB)",
    source="PlacementStarted and PlacementEnded events in the cohort register",
    seeds="002",
    numerator_from=cohort("placement_area", "OUT_OF_AREA"),
    denominator_from=cohort(),
)
OUT_OF_AREA_PLACEMENTS = _kpi(
    id="out_of_area_placements",
    name="Out-of-area placements of children and young people with SEND",
    perspective="resources and commissioning",
    definition="Children and young people aged 0-25 with SEND placed outside the area as at "
    "the last month end of the period; RAG on the change over 12 months (target -5 % a "
    "year, rising to -15 %).",
    numerator="with SEND placed out of area at the month end",
    denominator="(a count: no denominator)",
    period="as at each month end",
    target_percent=-5.0,
    polarity=Polarity.LOWER_IS_BETTER,
    green_from=-5.0,
    amber_from=0.0,
    owner="Joint commissioning (council and ICB)",
    source="PlacementStarted and PlacementEnded events in the cohort register",
    seeds="001",
    unit=Unit.COUNT,
    numerator_from=cohort("placement_area", "OUT_OF_AREA"),
    denominator_from=cohort(),
)
PHB_UPTAKE = _kpi(
    id="phb_uptake",
    name="Personal health budgets agreed, share of the population aged 0-25",
    perspective="resources and commissioning",
    definition="Personal health budgets agreed in the 12 months to the period's end, "
    "divided by the reference "
    "population aged 0-25 for the year (target 0.1 %).",
    numerator="personal health budgets agreed in the 12 months",
    denominator="population aged 0-25 (reference mid-year estimate)",
    period="month the budget was agreed",
    target_percent=0.1,
    polarity=Polarity.HIGHER_IS_BETTER,
    green_from=0.1,
    amber_from=0.05,
    owner="Integrated care board",
    source="PersonalHealthBudgetAgreed events and the reference population",
    seeds="001",
    denominator_from=POPULATION_0_25,
)
EHCP_TOTAL = _kpi(
    id="ehcp_growth",
    name="Children and young people with an EHC plan",
    perspective="resources and commissioning",
    definition="Children and young people aged 0-25 with an EHC plan as at the last month "
    "end of the period, and its change over 12 months "
    "(monitored, not targeted: RAG green while growth stays within 12.5 %).",
    numerator="with an EHC plan at the month end",
    denominator="(a count: no denominator)",
    period="as at each month end",
    target_percent=12.5,
    polarity=Polarity.LOWER_IS_BETTER,
    green_from=12.5,
    amber_from=20.0,
    comparators=(("region_growth_2020", 9.5), ("england_growth_2020", 10.2)),
    owner="Council SEN team",
    source="EhcPlanIssued and EhcPlanCeased events in the cohort register",
    seeds="003",
    unit=Unit.COUNT,
    numerator_from=cohort(statuses=("EHC_PLAN",)),
    denominator_from=cohort(statuses=("EHC_PLAN",)),
)
EHCP_NEW_SHARE = _kpi(
    id="ehcp_new_share",
    name="New EHC plans as a share of all plans",
    perspective="resources and commissioning",
    definition="EHC plans issued in the 12 months to the period's end, divided by children "
    "and young people with a "
    "plan as at the period's last month end (monitored: 003 had 16 %).",
    numerator="plans issued in the 12 months",
    denominator="with an EHC plan at the last month end",
    period="month the plan was issued",
    target_percent=13.8,
    polarity=Polarity.LOWER_IS_BETTER,
    green_from=16.0,
    amber_from=20.0,
    comparators=(("regional", 13.7), ("national", 13.8)),
    owner="Council SEN team",
    source="EhcPlanIssued events and the cohort register",
    seeds="003",
    numerator_from=measured("ehcp_20_weeks_incl_exceptions", "denominator"),
    denominator_from=cohort(statuses=("EHC_PLAN",)),
)

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
