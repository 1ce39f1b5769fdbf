"""The ground truth of a synthetic area: the figures the hub must compute from its clean data.

It is worked out from the generator's own model of each person and from the clean extract
rows, under the definitions in `definitions.py`, never by the hub's code, so the hub can be
tested against it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from producers.synthetic.area import AreaProfile, Extracts, Person, age_on, band_of
from producers.synthetic.definitions import agreed, ehc_plan_on_time, therapy_seen_in_time

THERAPY_CODES = {"SLT": "salt", "OT": "ot", "PT": "physio"}
SURVEY_KPIS = (
    ("listened_to", "parents_feel_listened_to"),
    ("can_find_information", "parents_can_find_information"),
    ("improvement_noticed", "parents_notice_improvement"),
)
COUNTED = (  # KPIs that count events: numerator 1 each, denominator from elsewhere (0)
    (("education", "supported_internships"), "supported_internships"),
    (("education", "tribunal_appeals_registered"), "tribunal_appeals"),
    (("health", "personal_health_budgets"), "phb_uptake"),
)


def truth_from_people(
    profile: AreaProfile, cohort: list[Person], reference: dict[str, str], scale: float
) -> dict[str, Any]:
    """The register, the JSNA cells at the area's end and the 20-week KPIs, person by person."""
    as_at = profile.end
    statuses: Counter[str] = Counter()
    cells: Counter[tuple[str, str, str]] = Counter()
    for person in cohort:
        status = _status(person)
        statuses[status] += 1
        band = band_of(age_on(person.birth_month, as_at))
        if band is None:
            continue
        for dimension, value in _breakdowns(person, status, band, reference[person.lsoa], as_at):
            cells[(status, dimension, value)] += 1
    plans = [
        (ehc_plan_on_time(p.request, p.plan_issued), p.exception)
        for p in cohort
        if p.plan_issued is not None and p.request is not None
    ]
    return {
        "as_at": as_at.isoformat(),
        "register": dict(sorted(statuses.items())),
        "jsna_cells": [
            {"send_status": s, "dimension": d, "value": v, "people": n}
            for (s, d, v), n in sorted(cells.items())
        ],
        "kpis": {
            "ehcp_20_weeks_incl_exceptions": {
                "numerator": sum(1 for on_time, _ in plans if on_time),
                "denominator": len(plans),
            },
            "ehcp_20_weeks_excl_exceptions": {
                "numerator": sum(1 for on_time, exception in plans if on_time and not exception),
                "denominator": sum(1 for _, exception in plans if not exception),
            },
        },
        "population_0_25": round(profile.population_0_25 * scale),
    }


def _breakdowns(
    person: Person, status: str, band: str, locality: str, as_at: dt.date
) -> list[tuple[str, str]]:
    """Every JSNA (dimension, value) a person counts in on `as_at`."""
    need = person.need if status != "UNKNOWN" else None
    setting = person.setting
    values = [
        ("all", "all"),
        ("primary_need", need or "UNKNOWN"),
        ("age_band", band),
        ("sex", person.sex),
        ("ethnicity_group", person.ethnicity),
        ("locality", locality),
        ("setting_type", setting[0] if setting else "NONE"),
        (
            "placement_area",
            ("IN_AREA" if setting[1] else "OUT_OF_AREA") if setting else "NONE",
        ),
    ]
    flags = {
        {"LOOKED_AFTER": "looked_after", "CHILD_IN_NEED": "child_in_need"}.get(
            case_type, "early_help"
        )
        for case_type, opened, closed in person.cases
        if opened <= as_at and (closed is None or closed > as_at)
    }
    if person.destination == "NEET":
        flags.add("neet")
    return values + [("flag", flag) for flag in sorted(flags)]


def kpis_from_rows(extracts: Extracts) -> dict[str, dict[str, int]]:
    """True numerators and denominators of the single-event KPIs, from the clean rows."""
    totals: dict[str, list[int]] = {}

    def count(kpi_id: str, met: bool, denominator: int = 1) -> None:
        figures = totals.setdefault(kpi_id, [0, 0])
        figures[0] += int(met)
        figures[1] += denominator

    rows = extracts.rows
    for row in rows.get(("health", "therapy_first_appointments"), []):
        in_time = therapy_seen_in_time(
            dt.date.fromisoformat(row["REFERRAL_DATE"]),
            dt.date.fromisoformat(row["APPOINTMENT_DATE"]),
        )
        count(f"therapy_{THERAPY_CODES[row['SERVICE']]}_seen_within_6_weeks", in_time)
    for row in rows.get(("education", "annual_reviews"), []):
        count("annual_reviews_on_time", row["review_date"] <= row["due_date"])
        count("cyp_involved_in_plans", row["young_person_involved"] == "Y")
    for row in rows.get(("socialcare", "cases_opened"), []):
        count("send_status_recorded_new_cases", row["send_status_recorded"] == "Y")
    for row in rows.get(("education", "post16_destinations"), []):
        count("post16_destination_known", row["destination"] != "NOT_KNOWN")
        count("eet_participation", row["destination"] == "EET")
    for row in rows.get(("voice", "survey_responses"), []):
        for question, kpi_id in SURVEY_KPIS:
            if row.get(question):  # an unanswered question is not counted
                count(kpi_id, agreed(row[question]))
        if row["respondent"].upper() == "PARENT_CARER":
            count("survey_participation", True, denominator=0)
    for key, kpi_id in COUNTED:
        for _ in rows.get(key, []):
            count(kpi_id, True, denominator=0)
    return {k: {"numerator": n, "denominator": d} for k, (n, d) in sorted(totals.items())}


def _status(person: Person) -> str:
    if person.status == "EHC_PLAN":
        return "EHC_PLAN"
    return "SEN_SUPPORT" if person.census else "UNKNOWN"
