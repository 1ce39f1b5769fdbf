"""The ground truth of a synthetic area: the figures the hub must compute from its clean data.

It is worked out from the generator's own model of each person and from the clean extract
rows, under the definitions in `definitions.py`, never by the hub's code, so the hub can be
tested against it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from typing import Any

from producers.synthetic.area import AreaProfile, Extracts, Person, age_on, band_of
from producers.synthetic.definitions import (
    REPEAT_FIXED_TERM,
    WITH_SEND,
    academic_year,
    advice_in_time,
    agreed,
    ehc_plan_on_time,
    social_communication_in_time,
    therapy_seen_in_time,
)

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
ABSENCE_KPIS = {
    "EHC_PLAN": "absence_rate_ehc_plan",
    "SEN_SUPPORT": "absence_rate_sen_support",
    "NONE": "absence_rate_none",
}
# The exclusions extract's category codes (docs/extracts): permanent, and fixed-term.
PERMANENT_EXCLUSION = frozenset({"PERM", "PEX"})
FIXED_TERM_EXCLUSION = frozenset({"FTE", "FIX", "SUS"})


def truth_from_people(
    profile: AreaProfile, cohort: list[Person], reference: dict[str, str], scale: float
) -> dict[str, Any]:
    """The register, the JSNA cells at the area's end, the 20-week KPIs and the KPIs read
    from the cohort at the end (`kpis_at_end`), person by person."""
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
        "kpis_at_end": _kpis_at_end(cells, cohort, as_at),
        "population_0_25": round(profile.population_0_25 * scale),
    }


def _kpis_at_end(
    cells: Counter[tuple[str, str, str]], cohort: list[Person], as_at: dt.date
) -> dict[str, dict[str, int]]:
    """The KPIs that read the cohort, as the scorecard shows them for the 12 months to
    `as_at` (a month end): those with SEND placed out of area among all with SEND, plans
    held, and plans issued in the 12 months among plans held (domain.md section 4d)."""
    with_send = sum(cells[(status, "all", "all")] for status in sorted(WITH_SEND))
    out_of_area = sum(
        cells[(status, "placement_area", "OUT_OF_AREA")] for status in sorted(WITH_SEND)
    )
    plans = cells[("EHC_PLAN", "all", "all")]
    month = as_at.year * 12 + as_at.month - 12  # the first of the 12 months, counted from 0
    year_from = dt.date(month // 12, month % 12 + 1, 1)
    new_plans = sum(
        1
        for p in cohort
        if p.plan_issued is not None and p.request is not None
        if year_from <= p.plan_issued <= as_at
    )
    figures = {
        "out_of_area_share": (out_of_area, with_send),
        "out_of_area_placements": (out_of_area, with_send),
        "ehcp_growth": (plans, plans),
        "ehcp_new_share": (new_plans, plans),
    }
    return {k: {"numerator": n, "denominator": d} for k, (n, d) in sorted(figures.items())}


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
    """True numerators and denominators, over all months, of the KPIs the hub measures from
    events: one event at a time, or (absence and exclusions) with the pupil's SEN status on
    the day, from the clean rows."""
    totals: dict[str, list[int]] = {}

    def count(kpi_id: str, numerator: int, denominator: int = 1) -> None:
        figures = totals.setdefault(kpi_id, [0, 0])
        figures[0] += int(numerator)
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
    for row in rows.get(("education", "advice_returns"), []):
        in_time = advice_in_time(
            dt.date.fromisoformat(row["advice_requested_date"]),
            dt.date.fromisoformat(row["returned_date"]),
        )
        count("statutory_advice_on_time", in_time)
        if row["advice_type"] == "HLTH":
            count("health_advice_on_time", in_time)
        if row.get("coproduced"):
            count("advice_coproduced", row["coproduced"] == "Y")
    for row in rows.get(("health", "neurodevelopmental_completions"), []):
        if row["PATHWAY"] == "SOCIAL_COMMUNICATION_AUTISM":
            in_time = social_communication_in_time(
                dt.date.fromisoformat(row["REFERRAL_DATE"]),
                dt.date.fromisoformat(row["COMPLETED_DATE"]),
            )
            count("social_communication_wait_12w", in_time)
    _by_status_on_the_day(rows, count)
    return {k: {"numerator": n, "denominator": d} for k, (n, d) in sorted(totals.items())}


def _by_status_on_the_day(
    rows: dict[tuple[str, str], list[dict[str, str]]], count: Callable[[str, int, int], None]
) -> None:
    """Absence and exclusions, each counted by the pupil's SEN status on its day (the
    register's rules, as `jsna_cells_from_rows` states them, from the register's rows)."""
    owner = _people_of(rows)
    register = _facts_by_person(
        {key: extract_rows for key, extract_rows in rows.items() if key in REGISTER_EXTRACTS},
        owner,
    )

    def status(person: int, day: dt.date) -> str:
        return _register_on(register.get(person, []), day)[0]

    for row in rows.get(("education", "attendance"), []):
        kpi_id = ABSENCE_KPIS.get(
            status(owner[_ids(row)[0]], dt.date.fromisoformat(row["term_end_date"]))
        )
        if kpi_id is not None:
            count(kpi_id, int(row["sessions_missed"]), int(row["sessions_possible"]))
    fixed_term: dict[tuple[int, int], list[dt.date]] = {}
    for row in rows.get(("education", "exclusions"), []):
        person, day = owner[_ids(row)[0]], dt.date.fromisoformat(row["start_date"])
        category = row["category"].upper()
        if category in PERMANENT_EXCLUSION:
            count("permanent_exclusions_send", status(person, day) in WITH_SEND, 1)
        elif category in FIXED_TERM_EXCLUSION:
            fixed_term.setdefault((person, academic_year(day)), []).append(day)
    for (person, _), days in sorted(fixed_term.items()):
        if len(days) >= REPEAT_FIXED_TERM:
            third = sorted(days)[REPEAT_FIXED_TERM - 1]
            count("repeat_fixed_term_exclusions", status(person, third) in WITH_SEND, 1)


def _status(person: Person) -> str:
    if person.status == "EHC_PLAN":
        return "EHC_PLAN"
    return person.status if person.census else "UNKNOWN"  # SEN_SUPPORT or NONE, as returned


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
REGISTER_EXTRACTS = frozenset(
    {
        ("education", "ehc_plans_issued"),
        ("education", "plans_ceased"),
        ("education", "sen_support_census"),
    }
)
Fact = tuple[dt.date, int, str, dict[str, str]]  # day, same-day order, extract, row
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
    for key in rows:
        if key not in ROW_DATES:
            raise ValueError(f"no rule for the extract {key}")
    facts = _facts_by_person(rows, _people_of(rows))
    cells: Counter[tuple[str, str, str]] = Counter()
    for person_facts in facts.values():
        if person_facts[0][0] > as_at:
            continue  # not known yet
        values = _person_on(person_facts, reference, as_at)
        if values is not None:
            status, breakdown = values
            for dimension, value in breakdown:
                cells[(status, dimension, value)] += 1
    return dict(cells)


def _facts_by_person(
    rows: dict[tuple[str, str], list[dict[str, str]]], owner: dict[str, int]
) -> dict[int, list[Fact]]:
    """Each person's rows of the `ROW_DATES` extracts, by day and same-day order."""
    facts: dict[int, list[Fact]] = {}
    for key, extract_rows in rows.items():
        rank = {"ehc_plans_issued": 1, "plans_ceased": 2, "sen_support_census": 0}.get(key[1], 3)
        for row in extract_rows:
            day = dt.date.fromisoformat(row[ROW_DATES[key]])
            facts.setdefault(owner[_ids(row)[0]], []).append((day, rank, key[1], row))
    for person_facts in facts.values():
        person_facts.sort(key=lambda fact: (fact[0], fact[1]))
    return facts


def _register_on(facts: list[Fact], as_at: dt.date) -> tuple[str, str | None]:
    """The SEND status and primary need on `as_at`, from the person's facts up to then."""
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
    return status, need


def _person_on(
    facts: list[Fact],
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
    status, need = _register_on(facts, as_at)
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
