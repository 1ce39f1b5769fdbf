"""Synthetic rows for statutory advice, neurodevelopmental assessments and attendance.

These feed the KPIs no other part of the synthetic area reached (advice returned within
six weeks, advice co-produced, social communication assessments within 12 weeks, and
absence by SEN status; the pupils with no SEN it is compared with are in
`pupils_without_sen.py`), so a demo area shows every KPI of the scorecard with data.
Kept apart from `area.py` (already long); `journeys` calls it after the rest, with a
random source of its own, so the rows every other extract had before are unchanged.
"""

from __future__ import annotations

import datetime as dt
import random

from producers.synthetic.area import AreaProfile, D, Extracts, Person, _iso, age_on

ADVICE = (("HLTH", 0.9), ("SC", 0.8), ("EP", 0.92))  # advice type -> share returned in time
ADVICE_WEEKS = 6  # SEND Regulations 2014 reg. 8(2): advice within 6 weeks of the request
ADVICE_COPRODUCED = 0.72
ND_PATHWAYS = (("SOCIAL_COMMUNICATION_AUTISM", 0.7), ("ADHD", 0.3))
ND_REFERRAL_SHARE = 0.12  # of children in the cohort, over the window
ND_IN_TIME = 0.6  # completed within 12 weeks
TERMS = (("AUT", 12, 20), ("SPR", 3, 28), ("SUM", 7, 19))  # term, end month and day
TERM_SESSIONS = 126
# Share of sessions missed, by SEN status. Leicestershire 2019 (seed 003, secondary): EHC
# plan 12.5 %, SEN support 9 %, no SEN 5.2 %; national rates since 2022 are higher for
# pupils with no SEN, about 6-7 %. Only the pupils of `pupils_without_sen.py` read "NONE".
ABSENCE = {"EHC_PLAN": 0.125, "SEN_SUPPORT": 0.09, "NONE": 0.065}
ATTENDANCE_YEARS = 2  # the last two academic years


def advice_and_attendance(out: Extracts, cohort: list[Person], profile: AreaProfile) -> None:
    r = random.Random(f"{profile.name}:{len(cohort)}:advice-and-attendance")
    for person in cohort:
        _advice(out, person, profile, r)
        _neurodevelopmental(out, person, profile, r)
        attendance(out, person, profile, r)


def _advice(out: Extracts, person: Person, profile: AreaProfile, r: random.Random) -> None:
    """Advice from health, social care and educational psychology for each request."""
    if person.request is None or person.request < profile.start:
        return
    for code, in_time in ADVICE:
        asked = person.request + dt.timedelta(days=r.randint(1, 14))
        due = asked + dt.timedelta(days=ADVICE_WEEKS * 7)
        days = r.randint(14, ADVICE_WEEKS * 7) if r.random() < in_time else r.randint(43, 80)
        returned = asked + dt.timedelta(days=days)
        row = {
            "request_id": f"REQ-{person.index:06d}",
            "advice_type": code,
            "request_date": _iso(person.request),
            "advice_requested_date": _iso(asked),
            "due_date": _iso(due),
            "nhs_number": person.nhs_number,
            "upn": person.upn or "",
        }
        if asked <= profile.end:
            out.add("education", "advice_requests", dict(row))
        if returned <= profile.end:
            coproduced = "Y" if r.random() < ADVICE_COPRODUCED else "N"
            out.add(
                "education",
                "advice_returns",
                {**row, "returned_date": _iso(returned), "coproduced": coproduced},
            )


def _neurodevelopmental(
    out: Extracts, person: Person, profile: AreaProfile, r: random.Random
) -> None:
    """About one child in eight is referred once for a neurodevelopmental assessment."""
    if r.random() >= ND_REFERRAL_SHARE:
        return
    window = (profile.end - profile.start).days
    referred = profile.start + dt.timedelta(days=r.randrange(window))
    if age_on(person.birth_month, referred) < 2:
        return
    pathway = r.choices([p for p, _ in ND_PATHWAYS], [w for _, w in ND_PATHWAYS])[0]
    row = {
        "REFERRAL_ID": f"ND-{person.index:06d}",
        "REFERRAL_DATE": _iso(referred),
        "NHS_NUMBER": person.nhs_number,
        "PATHWAY": pathway,
    }
    out.add("health", "neurodevelopmental_requests", dict(row))
    weeks = r.randint(4, 12) if r.random() < ND_IN_TIME else r.randint(13, 40)
    completed = referred + dt.timedelta(days=weeks * 7)
    if completed <= profile.end:
        out.add(
            "health",
            "neurodevelopmental_completions",
            {**row, "COMPLETED_DATE": _iso(completed)},
        )


def attendance(out: Extracts, person: Person, profile: AreaProfile, r: random.Random) -> None:
    """Each term's sessions for pupils of compulsory school age, the last two years."""
    if person.upn is None:
        return
    missed_share = ABSENCE.get(person.status, ABSENCE["NONE"])
    for year in range(profile.end.year - ATTENDANCE_YEARS, profile.end.year + 1):
        for term, month, day in TERMS:
            ends = D(year, month, day)
            if not profile.start <= ends <= profile.end:
                continue
            if not 5 <= age_on(person.birth_month, ends) <= 15:
                continue
            missed = max(0, round(r.gauss(missed_share, missed_share / 2) * TERM_SESSIONS))
            out.add(
                "education",
                "attendance",
                {
                    "upn": person.upn,
                    "nhs_number": person.nhs_number,
                    "term": f"{year}-{term}",
                    "term_end_date": _iso(ends),
                    "sessions_possible": str(TERM_SESSIONS),
                    "sessions_missed": str(min(missed, TERM_SESSIONS)),
                    "sessions_unauthorised": str(min(missed, TERM_SESSIONS) // 4),
                },
            )
