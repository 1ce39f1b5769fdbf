"""The families' experience perspective: voice, involvement and disputes.

Survey measures and participation, children involved in their plans, co-produced
advice, and tribunal appeals per 1,000 plans.
"""

from __future__ import annotations

from streams.kpi import Kpi, Polarity, Unit, cohort, declare, share


def _survey(kpi_id: str, name: str, statement: str, seeds: str, target: float) -> Kpi:
    return share(
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

SURVEY_PARTICIPATION = declare(
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

CYP_INVOLVED_IN_PLANS = share(
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

ADVICE_COPRODUCED = share(
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

TRIBUNAL_APPEALS = declare(
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
