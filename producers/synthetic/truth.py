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


# --- The JSNA at a past month end, from the extract rows alone -------------------------------
# The date each extract's event happened on (its `occurred_on` in producers/mappings/).
ROW_DATES = {
    ("education", "assessment_requests"): "request_date",
    ("education", "ehc_plans_issued"): "issue_date",
    ("education", "plans_ceased"): "cease_date",
    ("education", "sen_support_census"): "census_date",
    ("socialcare", "cases_opened"): "opened_date",
    ("socialcare", "cases_closed"): "closed_date",
    ("education", "person_details"): "recorded_date",
}
CENSUS_STATUS = {"E": "EHC_PLAN", "K": "SEN_SUPPORT", "N": "NONE"}
PERSON_DIMENSIONS = ("age_band", "sex", "primary_need", "locality")


def jsna_cells_from_rows(
    rows: dict[tuple[str, str], list[dict[str, str]]],
    reference: dict[str, str],
    as_at: dt.date,
) -> dict[tuple[str, str, str], int]:
    """(SEND status, dimension, value) -> people as at `as_at`, for `PERSON_DIMENSIONS`.

    The rules, restated from docs/extracts/README.md (person details), docs/roles/
    public-health.md, GLOSSARY.md (census codes) and domain.md section 3, applied to clean
    rows of the `ROW_DATES` extracts (status precedence, the latest need and same-day order
    are not written in the docs; they are the register's, as the hub's docstrings say):

    * one person is every row joined by a shared NHS number or UPN (transitively); they
      count from the date of their first row, if aged 0-25 then (or of unknown age);
    * SEND status: EHC_PLAN while a plan is issued and not ceased (an issue and a
      cessation on one day leave it ceased) or the latest census says `E`; otherwise the
      latest census: `K` SEN_SUPPORT, `N` NONE; with neither, UNKNOWN;
    * primary need: the latest recorded by a plan or census record (a plan after a census
      record of the same day), UNKNOWN before any;
    * age band (SEN2: 0-4, 5-10, 11-15, 16-19, 20-25) from the month of birth of the
      latest-dated details record, whole years at `as_at`, for all of the history;
    * sex and locality (the LSOA's, from `reference`) from the latest details record on
      or before `as_at`, else from the first one recorded; UNKNOWN if none or not in
      `reference`.
    """
    owner = _people_of(rows)
    facts: dict[int, list[tuple[dt.date, int, str, dict[str, str]]]] = {}
    for key, extract_rows in rows.items():
        if key not in ROW_DATES:
            raise ValueError(f"no rule for the extract {key}")
        rank = {"ehc_plans_issued": 1, "plans_ceased": 2, "sen_support_census": 0}.get(key[1], 3)
        for row in extract_rows:
            day = dt.date.fromisoformat(row[ROW_DATES[key]])
            facts.setdefault(owner[_ids(row)[0]], []).append((day, rank, key[1], row))
    cells: Counter[tuple[str, str, str]] = Counter()
    for person_facts in facts.values():
        person_facts.sort(key=lambda fact: (fact[0], fact[1]))
        if person_facts[0][0] > as_at:
            continue  # not known yet
        values = _person_on(person_facts, reference, as_at)
        if values is not None:
            status, breakdown = values
            for dimension, value in breakdown:
                cells[(status, dimension, value)] += 1
    return dict(cells)


def _person_on(
    facts: list[tuple[dt.date, int, str, dict[str, str]]],
    reference: dict[str, str],
    as_at: dt.date,
) -> tuple[str, list[tuple[str, str]]] | None:
    details = [row for _, _, extract, row in facts if extract == "person_details"]
    birth = max(details, key=lambda row: row["recorded_date"])["date_of_birth"] if details else ""
    band = "UNKNOWN"
    if birth:
        found = band_of(age_on(dt.date.fromisoformat(birth).replace(day=1), as_at))
        if found is None:
            return None  # aged outside 0-25
        band = found
    plan_open, census, need = False, None, None
    for day, _, extract, row in facts:
        if day > as_at:
            break
        if extract == "ehc_plans_issued":
            plan_open, need = True, row.get("primary_need") or need
        elif extract == "plans_ceased":
            plan_open = False
        elif extract == "sen_support_census":
            census, need = row["sen_provision"], row.get("sen_primary_need") or need
    status = CENSUS_STATUS.get(census or "", "UNKNOWN")
    if plan_open or census == "E":
        status = "EHC_PLAN"
    lsoa = _detail_on(details, "lsoa_code", as_at)
    return status, [
        ("age_band", band),
        ("sex", _detail_on(details, "sex", as_at) or "UNKNOWN"),
        ("primary_need", need or "UNKNOWN"),
        ("locality", reference.get(lsoa, "UNKNOWN") if lsoa else "UNKNOWN"),
    ]


def _detail_on(details: list[dict[str, str]], name: str, as_at: dt.date) -> str | None:
    recorded = sorted((row["recorded_date"], row[name]) for row in details if row.get(name))
    before = [value for day, value in recorded if dt.date.fromisoformat(day) <= as_at]
    if before:
        return before[-1]
    return recorded[0][1] if recorded else None


def _ids(row: dict[str, str]) -> list[str]:
    nhs = row.get("nhs_number") or row.get("NHS_NUMBER")
    return [*([f"nhs:{nhs}"] if nhs else []), *([f"upn:{row['upn']}"] if row.get("upn") else [])]


def _people_of(rows: dict[tuple[str, str], list[dict[str, str]]]) -> dict[str, int]:
    """Identifier -> person number, joining identifiers that share a row."""
    parent: dict[str, str] = {}

    def root(item: str) -> str:
        while parent.setdefault(item, item) != item:
            item = parent[item]
        return item

    for extract_rows in rows.values():
        for row in extract_rows:
            ids = _ids(row)
            for other in ids[1:]:
                parent[root(other)] = root(ids[0])
            root(ids[0])
    numbers: dict[str, int] = {}
    return {item: numbers.setdefault(root(item), len(numbers)) for item in parent}
