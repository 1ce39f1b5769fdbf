"""The process and timeliness perspective: statutory deadlines and waits.

Plans within 20 weeks, advice within 6 weeks, annual reviews, therapy and social
communication waits, and SEND status recorded when social care cases open.
"""

from __future__ import annotations

from typing import Any

from streams.kpi import Kpi, Polarity, share

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
    seeds="001, 002, 003",
    **_EHCP_COMMON,
)

THERAPY_WEEKS = 6

THERAPY_KPIS = {
    therapy: share(
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

SOCIAL_COMMUNICATION_12W = share(
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

HEALTH_ADVICE_ON_TIME = share(
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

STATUTORY_ADVICE_ON_TIME = share(
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

ANNUAL_REVIEWS_ON_TIME = share(
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

SEND_STATUS_RECORDED = share(
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
