"""Synthetic rows for families' surveys, tribunal appeals, supported internships and PHBs.

Kept apart from `area.py` (already long); its `journeys` calls `voice_and_budgets` last.
"""

from __future__ import annotations

import datetime as dt
import random

from producers.synthetic.area import AreaProfile, D, Extracts, Person, _choice, _iso, age_on

AGREE = (("STRONGLY_AGREE", 0.3), ("AGREE", 0.7))
NOT_AGREE = (("NEUTRAL", 0.45), ("DISAGREE", 0.38), ("STRONGLY_DISAGREE", 0.17))
UNANSWERED = {"listened_to": 0.04, "can_find_information": 0.06, "improvement_noticed": 0.12}
YEARLY_IMPROVEMENT = 0.02  # agreement rises a little each survey
SURVEY_WEEKS = 8  # the survey is open from 1 February
APPEAL_TYPES = (
    ("PLAN_CONTENTS", 0.58),
    ("REFUSAL_TO_ASSESS", 0.2),
    ("REFUSAL_TO_ISSUE_PLAN", 0.08),
    ("REFUSAL_TO_AMEND", 0.05),
    ("CEASE_TO_MAINTAIN", 0.04),
    ("DISABILITY_DISCRIMINATION", 0.03),
    ("REFUSAL_TO_REASSESS", 0.01),
    ("OTHER", 0.01),
)
NO_PLAN_APPEALS = frozenset({"REFUSAL_TO_ASSESS", "REFUSAL_TO_ISSUE_PLAN"})
BUDGET_TYPES = (("NOTIONAL", 0.55), ("DIRECT_PAYMENT", 0.35), ("THIRD_PARTY", 0.1))
PHB_SHARE_WITH_PLAN = 0.75  # most budgets go to children with complex needs
INTERNSHIP_GROWTH = 1.1  # the KPI's target: +10 % a year


def voice_and_budgets(
    out: Extracts, cohort: list[Person], profile: AreaProfile, scale: float, r: random.Random
) -> None:
    """Survey responses, internships, tribunal appeals and budgets, all within the window."""
    for person in cohort:
        _survey_responses(out, person, profile, r)
        _supported_internship(out, person, profile, r)
    _tribunal_appeals(out, cohort, profile, r)
    _health_budgets(out, cohort, profile, scale, r)


def _respondent(age: int, rate: float, draw: float) -> str | None:
    """Who answers for this child (if anyone): mostly a parent or carer."""
    young_person = 0.03 if age >= 16 else 0.01 if age >= 11 else 0.0
    if draw < rate:
        return "PARENT_CARER"
    if draw < rate + young_person:
        return "CHILD_OR_YOUNG_PERSON"
    if draw < rate + young_person + 0.003:
        return "OTHER"
    return None


def _survey_responses(
    out: Extracts, person: Person, profile: AreaProfile, r: random.Random
) -> None:
    """One yearly survey each spring; about `survey_response_rate` of families answer it.

    Every response carries the child's NHS number (and UPN): the voice mapping refuses a
    row with neither, so an anonymous response could not be sent.
    """
    first = profile.start.year + 1
    for year in range(first, profile.end.year + 1):
        opens = D(year, 2, 1)
        age = age_on(person.birth_month, opens)
        respondent = _respondent(age, profile.survey_response_rate, r.random())
        answered = opens + dt.timedelta(days=r.randrange(SURVEY_WEEKS * 7))
        if (
            respondent is None
            or not 0 <= age <= 25
            or person.birth_month > opens
            or not profile.start <= answered <= profile.end
        ):
            continue
        row = {
            "survey_id": f"{year}-send-local-offer",
            "response_id": f"SR-{year}-{person.index:06d}",
            "response_date": _iso(answered),
            "nhs_number": person.nhs_number,
            "upn": person.upn or "",
            "respondent": respondent,
        }
        for question, agreement in profile.survey_agreement:
            if r.random() < UNANSWERED.get(question, 0.05):
                row[question] = ""
                continue
            agrees = r.random() < agreement + YEARLY_IMPROVEMENT * (year - first)
            row[question] = _choice(r, AGREE if agrees else NOT_AGREE)
        out.add("voice", "survey_responses", row)


def _supported_internship(
    out: Extracts, person: Person, profile: AreaProfile, r: random.Random
) -> None:
    """At most one internship, starting in September, for a plan holder aged 16-24."""
    if person.plan_issued is None:
        return
    for year in range(profile.start.year, profile.end.year + 1):
        starts = D(year, 9, 1) + dt.timedelta(days=r.randrange(21))
        if (
            not profile.start <= starts <= profile.end
            or person.plan_issued > starts
            or not 16 <= age_on(person.birth_month, starts) <= 24
        ):
            continue
        growth = INTERNSHIP_GROWTH ** (year - profile.start.year)
        if r.random() < profile.supported_internship_rate * growth:
            out.add(
                "education",
                "supported_internships",
                {
                    "internship_id": f"SI-{person.index:06d}",
                    "start_date": _iso(starts),
                    "nhs_number": person.nhs_number,
                    "upn": person.upn or "",
                    "planned_end_date": _iso(D(year + 1, 7, 18)),
                },
            )
            return


def _between(earliest: dt.date, latest: dt.date, r: random.Random) -> dt.date:
    return earliest + dt.timedelta(days=r.randrange((latest - earliest).days + 1))


def _tribunal_appeals(
    out: Extracts, cohort: list[Person], profile: AreaProfile, r: random.Random
) -> None:
    """About `tribunal_appeals_per_1000_plans` appeals a year; refusals from children without."""
    plans = sum(1 for p in cohort if p.status == "EHC_PLAN")
    years = (profile.end - profile.start).days / 365
    appeals = round(profile.tribunal_appeals_per_1000_plans / 1000 * plans * years)
    last_issue = profile.end - dt.timedelta(days=60)
    holders = [p for p in cohort if p.plan_issued is not None and p.plan_issued <= last_issue]
    without = [p for p in cohort if p.status != "EHC_PLAN"]
    for number in range(appeals):
        kind = _choice(r, APPEAL_TYPES)
        pool = without if kind in NO_PLAN_APPEALS else holders
        if not pool:
            continue
        person = r.choice(pool)
        earliest = profile.start
        if person.plan_issued is not None:
            earliest = max(earliest, person.plan_issued + dt.timedelta(days=30))
        out.add(
            "education",
            "tribunal_appeals_registered",
            {
                "appeal_id": f"TA-{number:05d}",
                "registered_date": _iso(_between(earliest, profile.end, r)),
                "nhs_number": person.nhs_number,
                "upn": person.upn or "",
                "appeal_type": kind,
            },
        )


def _health_budgets(
    out: Extracts, cohort: list[Person], profile: AreaProfile, scale: float, r: random.Random
) -> None:
    """About `phb_per_1000_population` budgets a year per 1,000 aged 0-25, one per child.

    The budgets go to children in the cohort (most with a plan), so they add no one to the
    register that the truth does not know.
    """
    window = (profile.end - profile.start).days
    population = round(profile.population_0_25 * scale)
    budgets = round(profile.phb_per_1000_population / 1000 * population * window / 365)
    plans = [p for p in cohort if p.status == "EHC_PLAN"]
    others = [p for p in cohort if p.status != "EHC_PLAN"]
    with_plan = min(len(plans), round(budgets * PHB_SHARE_WITH_PLAN))
    chosen = r.sample(plans, with_plan) + r.sample(others, min(len(others), budgets - with_plan))
    for number, person in enumerate(chosen):
        earliest = max(profile.start, person.birth_month + dt.timedelta(days=90))
        if earliest > profile.end:
            continue
        out.add(
            "health",
            "personal_health_budgets",
            {
                "PHB_ID": f"PHB-{number:05d}",
                "NHS_NUMBER": person.nhs_number,
                "AGREED_DATE": _iso(_between(earliest, profile.end, r)),
                "BUDGET_TYPE": _choice(r, BUDGET_TYPES),
            },
        )
