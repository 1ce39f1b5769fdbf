"""A synthetic local area: its children and young people, their SEND journeys, partner extracts.

`generate_area` builds, from a profile and a seed, a population aged 0-25 and a
SEND cohort within it (EHC plans and SEN support in the profile's numbers, age
bands and need types), each child with a journey over four academic years:
demographics, census records, requests and plans with annual reviews, placements,
therapy referrals and waits, social care cases, exclusions and post-16
destinations; families' survey responses, tribunal appeals, supported internships
and personal health budgets come from `voice_and_budgets.py`; statutory advice,
neurodevelopmental assessments and attendance from `advice_and_attendance.py`; and a
sample of pupils with no SEN, for the absence comparison, from `pupils_without_sen.py`.
It writes what each partner would send, as CSV extracts in the columns of
`producers/mappings/` (and the EHC plans extract), with faults injected as extra rows,
and the truth about the clean data for the tests.

Everything comes from `random.Random(seed)`: the same seed gives the same files.
Identifiers are synthetic: NHS numbers from the 999 test range, UPNs with a valid
check letter on an invented LA code.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from stdnum.gb.upn import calc_check_digit

from producers.synthetic.ehc_plans import NEEDS
from producers.synthetic.nhs_numbers import check_digit, with_wrong_check_digit

D = dt.date


@dataclass(frozen=True)
class AreaProfile:
    """Calibration figures for one area (domain.md section 7), at scale 1.0."""

    name: str
    area_code: str
    population_0_25: int
    ehc_plans: int
    sen_support: int
    new_plans_per_year: int
    within_20_weeks: float
    permitted_exception_rate: float
    plan_age_bands: tuple[tuple[str, float], ...]
    needs: tuple[tuple[str, float], ...]
    localities: tuple[tuple[str, float], ...]
    ethnicity: tuple[tuple[str, float], ...]
    looked_after_rate: float
    child_in_need_rate: float
    early_help_rate: float
    send_status_recorded_rate: float
    therapy_referral_rate: float
    therapy_within_6_weeks: float
    out_of_area_rate: float
    neet_rate: float
    not_known_rate: float
    permanent_exclusions_per_year: float
    start: dt.date
    end: dt.date
    # Families' voice, tribunals, internships and budgets (voice_and_budgets.py).
    survey_response_rate: float = 0.10  # parent/carer responses per child with SEND, per survey
    survey_agreement: tuple[tuple[str, float], ...] = (
        ("listened_to", 0.66),
        ("can_find_information", 0.72),
        ("improvement_noticed", 0.6),
    )
    phb_per_1000_population: float = 1.0  # budgets agreed per year, per 1,000 aged 0-25
    tribunal_appeals_per_1000_plans: float = 5.0  # appeals registered per year
    supported_internship_rate: float = 0.04  # starts per plan holder aged 16-24, first year
    # Pupils with no SEN (census `N`, pupils_without_sen.py), per pupil on SEN support: a
    # sample for the absence comparison; all of them would be about six per pupil with SEND.
    pupils_without_sen_per_sen_support: float = 0.75


LEICESTERSHIRE = AreaProfile(
    name="leicestershire",
    area_code="E10000018",
    population_0_25=209_231,
    ehc_plans=5_039,
    sen_support=11_086,
    new_plans_per_year=760,
    within_20_weeks=0.92,
    permitted_exception_rate=0.06,
    plan_age_bands=(
        ("0-4", 171 / 5039),
        ("5-10", 1537 / 5039),
        ("11-15", 1756 / 5039),
        ("16-19", 1121 / 5039),
        ("20-25", 454 / 5039),
    ),
    needs=NEEDS,
    localities=(
        ("Blaby", 0.14),
        ("Charnwood", 0.27),
        ("Harborough", 0.13),
        ("Hinckley and Bosworth", 0.16),
        ("Melton", 0.07),
        ("North West Leicestershire", 0.15),
        ("Oadby and Wigston", 0.08),
    ),
    ethnicity=(("WHITE", 0.88), ("ASIAN", 0.06), ("MIXED", 0.03), ("BLACK", 0.02), ("OTHER", 0.01)),
    looked_after_rate=189 / 15_837,
    child_in_need_rate=0.03,
    early_help_rate=0.04,
    send_status_recorded_rate=0.85,
    therapy_referral_rate=0.25,
    therapy_within_6_weeks=0.7,
    out_of_area_rate=0.09,
    neet_rate=0.08,
    not_known_rate=0.04,
    permanent_exclusions_per_year=9,
    start=D(2022, 9, 1),
    end=D(2026, 8, 31),
)
SMOKE = AreaProfile(
    **{
        **LEICESTERSHIRE.__dict__,
        "name": "smoke",
        "population_0_25": 4_000,
        "ehc_plans": 120,
        "sen_support": 260,
        "new_plans_per_year": 24,
    }
)
PROFILES = {profile.name: profile for profile in (LEICESTERSHIRE, SMOKE)}
AGE_BANDS = (
    ("0-4", 0, 4),
    ("5-10", 5, 10),
    ("11-15", 11, 15),
    ("16-19", 16, 19),
    ("20-25", 20, 25),
)


@dataclass(frozen=True)
class Faults:
    """Extra, faulty rows per 1,000 good rows, by kind (refused or deduplicated by the hub)."""

    invalid_nhs_number: float = 2.0
    missing_identifier: float = 1.0
    unknown_code: float = 1.0
    duplicate: float = 3.0
    outside_contract: float = 1.0

    @classmethod
    def none(cls) -> Faults:
        return cls(0, 0, 0, 0, 0)


@dataclass
class Person:
    """One child or young person as the generator knows them (the truth)."""

    index: int
    nhs_number: str
    upn: str | None
    birth_month: dt.date
    sex: str
    ethnicity: str
    lsoa: str
    locality: str
    status: str = "NONE"
    need: str | None = None
    plan_issued: dt.date | None = None
    request: dt.date | None = None
    exception: bool = False
    setting: tuple[str, bool] | None = None
    cases: list[tuple[str, dt.date, dt.date | None]] = field(default_factory=list)
    destination: str | None = None
    census: bool = False


def _choice(r: random.Random, weighted: Sequence[tuple[str, float]]) -> str:
    names = [name for name, _ in weighted]
    return r.choices(names, weights=[w for _, w in weighted])[0]


def age_on(birth_month: dt.date, day: dt.date) -> int:
    return day.year - birth_month.year - (1 if (day.month, day.day) < (birth_month.month, 1) else 0)


def band_of(age: int) -> str | None:
    return next((name for name, low, high in AGE_BANDS if low <= age <= high), None)


class IdentifierPool:
    """Unique synthetic NHS numbers (999 range, valid check digit) and UPNs."""

    def __init__(self, r: random.Random) -> None:
        self.r = r
        self.nhs: set[str] = set()
        self.serial = 0

    def nhs_number(self) -> str:
        while True:
            first_nine = f"999{self.r.randrange(1_000_000):06d}"
            digit = check_digit(first_nine)
            number = f"{first_nine}{digit}"
            if digit is not None and number not in self.nhs:
                self.nhs.add(number)
                return number

    def upn(self) -> str:
        self.serial += 1
        body = (
            f"855{2000 + self.serial // 1000:04d}{22 + self.serial % 4:02d}{self.serial % 1000:03d}"
        )
        return calc_check_digit(body) + body


def lsoa_codes(profile: AreaProfile) -> dict[str, str]:
    """A synthetic LSOA -> locality reference: 40 codes per locality."""
    reference = {}
    serial = 25_000
    for locality, _ in profile.localities:
        for _ in range(40):
            reference[f"E0{serial:07d}"] = locality
            serial += 1
    return reference


def birth_month_for(age: int, on: dt.date, r: random.Random) -> dt.date:
    """A month of birth that makes someone `age` on `on` (a day at the end of August)."""
    if r.random() < 0.33:
        return D(on.year - age - 1, r.randint(9, 12), 1)
    return D(on.year - age, r.randint(1, 8), 1)


def people(
    profile: AreaProfile, scale: float, r: random.Random
) -> tuple[list[Person], dict[str, str]]:
    """The SEND cohort (plans and SEN support) with demographics; and the LSOA reference."""
    reference = lsoa_codes(profile)
    by_locality: dict[str, list[str]] = {}
    for code, locality in reference.items():
        by_locality.setdefault(locality, []).append(code)
    ids = IdentifierPool(r)
    cohort: list[Person] = []
    plans = round(profile.ehc_plans * scale)
    support = round(profile.sen_support * scale)
    for index in range(plans + support):
        has_plan = index < plans
        if has_plan:
            band = _choice(r, profile.plan_age_bands)
        else:
            band = _choice(r, (("5-10", 0.5), ("11-15", 0.45), ("16-19", 0.05)))
        low, high = next((lo, hi) for name, lo, hi in AGE_BANDS if name == band)
        age = r.randint(max(low, 2) if has_plan else low, high)  # no plan before a first birthday
        birth = birth_month_for(age, profile.end, r)
        locality = _choice(r, profile.localities)
        school_age = 4 <= age_on(birth, profile.end) <= 19
        cohort.append(
            Person(
                index=index,
                nhs_number=ids.nhs_number(),
                upn=ids.upn() if school_age else None,
                birth_month=birth,
                sex=r.choice(["FEMALE", "MALE", "MALE"]),
                ethnicity=_choice(r, profile.ethnicity),
                lsoa=r.choice(by_locality[locality]),
                locality=locality,
                status="EHC_PLAN" if has_plan else "SEN_SUPPORT",
                need=_choice(r, profile.needs),
            )
        )
    return cohort, reference


@dataclass
class Extracts:
    """Rows per (source, extract), as CSV-ready dicts; faults listed separately."""

    rows: dict[tuple[str, str], list[dict[str, str]]] = field(default_factory=dict)
    faults: dict[str, int] = field(default_factory=dict)

    def add(self, source: str, extract: str, row: dict[str, str]) -> None:
        self.rows.setdefault((source, extract), []).append(row)

    def csv_text(self, key: tuple[str, str]) -> str:
        rows = self.rows[key]
        columns = list(dict.fromkeys(c for row in rows for c in row))
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()


def _iso(day: dt.date | None) -> str:
    return day.isoformat() if day else ""


def journeys(
    profile: AreaProfile, scale: float, cohort: list[Person], r: random.Random
) -> Extracts:
    """Every partner's rows for the cohort over the profile's window (the truth is in `cohort`).

    Last, it adds to `cohort` a sample of pupils with no SEN, with rows of their own.
    """
    out = Extracts()
    window_days = (profile.end - profile.start).days
    new_plans = round(profile.new_plans_per_year * scale * window_days / 365)
    plan_holders = [p for p in cohort if p.status == "EHC_PLAN"]
    for number, person in enumerate(plan_holders):
        if number < new_plans:
            issued = profile.start + dt.timedelta(days=r.randrange(window_days))
        else:
            issued = profile.start - dt.timedelta(days=r.randint(30, 6 * 365))
        issued = min(max(issued, person.birth_month + dt.timedelta(days=400)), profile.end)
        on_time = r.random() < profile.within_20_weeks
        weeks = r.randint(10, 20) if on_time else r.randint(21, 40)
        request = issued - dt.timedelta(days=weeks * 7 - (r.randint(0, 6) if on_time else 0))
        person.plan_issued, person.request = issued, request
        person.exception = r.random() < profile.permitted_exception_rate
        out.add(
            "education",
            "ehc_plans_issued",
            {
                "plan_reference": f"PLAN-{person.index:06d}",
                "nhs_number": person.nhs_number,
                "upn": person.upn or "",
                "request_date": _iso(request),
                "issue_date": _iso(issued),
                "permitted_exception": "Y" if person.exception else "N",
                "primary_need": person.need or "",
            },
        )
        if request >= profile.start:
            out.add(
                "education",
                "assessment_requests",
                {
                    "request_id": f"REQ-{person.index:06d}",
                    "request_date": _iso(request),
                    "nhs_number": person.nhs_number,
                    "upn": person.upn or "",
                    "requested_by": r.choice(["PAR", "SCH", "HLT"]),
                },
            )
        review = issued + dt.timedelta(days=365)
        while review <= profile.end:
            held = review + dt.timedelta(days=r.randint(-30, 45))
            if held <= profile.end and held >= profile.start:
                out.add(
                    "education",
                    "annual_reviews",
                    {
                        "plan_reference": f"PLAN-{person.index:06d}",
                        "review_date": _iso(held),
                        "nhs_number": person.nhs_number,
                        "upn": person.upn or "",
                        "due_date": _iso(review),
                        "outcome": "MAINTAIN",
                        "young_person_involved": "Y" if r.random() < 0.8 else "N",
                    },
                )
            review += dt.timedelta(days=365)
        age = age_on(person.birth_month, profile.end)
        if 4 <= age <= 19:
            setting = "SPECIAL" if r.random() < 0.4 else "MAINSTREAM"
            in_area = r.random() >= profile.out_of_area_rate
            started = max(issued, profile.start) + dt.timedelta(days=r.randint(0, 60))
            if started <= profile.end:
                person.setting = (setting, in_area)
                out.add(
                    "education",
                    "placements_started",
                    {
                        "placement_id": f"PL-{person.index:06d}",
                        "start_date": _iso(started),
                        "nhs_number": person.nhs_number,
                        "upn": person.upn or "",
                        "setting_type": setting,
                        "sector": r.choice(["MAINTAINED", "ACADEMY"]) if in_area else "INDEPENDENT",
                        "in_area": "Y" if in_area else "N",
                    },
                )
    for person in cohort:
        _details(out, person, profile)
        if person.status == "SEN_SUPPORT":
            _census(out, person, profile, r)
        _therapy(out, person, profile, r)
        _social_care(out, person, profile, r)
        _post16(out, person, profile, r)
    _exclusions(out, cohort, profile, scale, r)
    from producers.synthetic.voice_and_budgets import voice_and_budgets  # it builds on this module

    voice_and_budgets(out, cohort, profile, scale, r)
    from producers.synthetic.advice_and_attendance import advice_and_attendance

    advice_and_attendance(out, cohort, profile)  # its own random source: the rest unchanged
    from producers.synthetic.pupils_without_sen import pupils_without_sen

    cohort.extend(pupils_without_sen(out, cohort, profile, scale))  # its own random source too
    return out


def _details(out: Extracts, person: Person, profile: AreaProfile) -> None:
    out.add(
        "education",
        "person_details",
        {
            "upn": person.upn or "",
            "nhs_number": person.nhs_number,
            "recorded_date": _iso(profile.start),
            "date_of_birth": _iso(person.birth_month + dt.timedelta(days=(person.index * 7) % 27)),
            "sex": person.sex,
            "ethnicity_group": person.ethnicity,
            "lsoa_code": person.lsoa,
        },
    )


def _census(
    out: Extracts, person: Person, profile: AreaProfile, r: random.Random, provision: str = "K"
) -> None:
    """The spring census records of a pupil aged 4 or more: `K` SEN support, `N` no SEN."""
    for year in range(profile.start.year + 1, profile.end.year + 1):
        day = D(year, 1, 20)
        if person.upn is None or age_on(person.birth_month, day) < 4:
            continue
        person.census = True
        out.add(
            "education",
            "sen_support_census",
            {
                "upn": person.upn,
                "nhs_number": person.nhs_number if r.random() < 0.7 else "",
                "census_term": f"{year}-SPR",
                "census_date": _iso(day),
                "sen_provision": provision,
                "sen_primary_need": person.need or "",
            },
        )


def _therapy(out: Extracts, person: Person, profile: AreaProfile, r: random.Random) -> None:
    if r.random() >= profile.therapy_referral_rate:
        return
    referred = profile.start + dt.timedelta(days=r.randrange((profile.end - profile.start).days))
    service = r.choice(["SLT", "OT", "PT"])
    out.add(
        "health",
        "therapy_referrals",
        {
            "REFERRAL_ID": f"R-{person.index:06d}",
            "NHS_NUMBER": person.nhs_number,
            "SERVICE": service,
            "REFERRAL_DATE": _iso(referred),
            "REFERRAL_SOURCE": r.choice(["GP", "SCHOOL_OR_SETTING", "PAEDIATRICS"]),
        },
    )
    wait = r.randint(7, 42) if r.random() < profile.therapy_within_6_weeks else r.randint(43, 150)
    seen = referred + dt.timedelta(days=wait)
    if seen <= profile.end:
        out.add(
            "health",
            "therapy_first_appointments",
            {
                "REFERRAL_ID": f"R-{person.index:06d}",
                "NHS_NUMBER": person.nhs_number,
                "SERVICE": service,
                "REFERRAL_DATE": _iso(referred),
                "APPOINTMENT_DATE": _iso(seen),
                "APPOINTMENT_PURPOSE": "ASSESSMENT",
            },
        )


def _case_kind(profile: AreaProfile, draw: float) -> tuple[str, str] | None:
    """Which social care case (if any) a draw in [0, 1) gives: (extract code, case type)."""
    kinds = (
        ("CLA", "LOOKED_AFTER", profile.looked_after_rate),
        ("CIN", "CHILD_IN_NEED", profile.child_in_need_rate),
        ("EH", "EARLY_HELP", profile.early_help_rate),
    )
    threshold = 0.0
    for code, case_type, rate in kinds:
        threshold += rate
        if draw < threshold:
            return code, case_type
    return None


def _social_care(out: Extracts, person: Person, profile: AreaProfile, r: random.Random) -> None:
    picked = _case_kind(profile, r.random())
    if picked is None:
        return
    code, case_type = picked
    opened = profile.start + dt.timedelta(days=r.randrange((profile.end - profile.start).days))
    recorded = r.random() < profile.send_status_recorded_rate
    out.add(
        "socialcare",
        "cases_opened",
        {
            "case_id": f"C-{person.index:06d}",
            "opened_date": _iso(opened),
            "nhs_number": person.nhs_number,
            "upn": person.upn or "",
            "case_type": code,
            "send_status_recorded": "Y" if recorded else "N",
            "send_status": person.status if recorded else "",
        },
    )
    closed = opened + dt.timedelta(days=r.randint(60, 500)) if r.random() < 0.5 else None
    if closed is not None and closed > profile.end:
        closed = None
    person.cases.append((case_type, opened, closed))
    if closed is not None:
        out.add(
            "socialcare",
            "cases_closed",
            {
                "case_id": f"C-{person.index:06d}",
                "closed_date": _iso(closed),
                "nhs_number": person.nhs_number,
                "upn": person.upn or "",
                "case_type": code,
                "opened_date": _iso(opened),
            },
        )


def _post16(out: Extracts, person: Person, profile: AreaProfile, r: random.Random) -> None:
    if not 16 <= age_on(person.birth_month, profile.end) <= 19:
        return
    draw = r.random()
    destination = (
        "NEET"
        if draw < profile.neet_rate
        else "NOT_KNOWN"
        if draw < profile.neet_rate + profile.not_known_rate
        else "EET"
    )
    person.destination = destination
    out.add(
        "education",
        "post16_destinations",
        {
            "upn": person.upn or "",
            "nhs_number": person.nhs_number,
            "recorded_date": _iso(D(profile.end.year - 1, 12, 1)),
            "destination": destination,
        },
    )


def _exclusions(
    out: Extracts, cohort: list[Person], profile: AreaProfile, scale: float, r: random.Random
) -> None:
    pupils = [p for p in cohort if p.upn is not None]
    years = (profile.end - profile.start).days / 365
    permanent = round(profile.permanent_exclusions_per_year * years * max(scale, 0.05))
    for number in range(permanent + round(permanent * 12)):
        pupil = r.choice(pupils)
        out.add(
            "education",
            "exclusions",
            {
                "exclusion_id": f"X-{number:06d}",
                "nhs_number": pupil.nhs_number,
                "upn": pupil.upn or "",
                "start_date": _iso(
                    profile.start
                    + dt.timedelta(days=r.randrange((profile.end - profile.start).days))
                ),
                "category": "PERM" if number < permanent else "FTE",
                "sessions": "" if number < permanent else str(r.randint(1, 10)),
            },
        )


def inject_faults(out: Extracts, faults: Faults, r: random.Random) -> None:
    """Add faulty copies of good rows; the good rows stay, so the truth is unchanged."""
    for key, rows in out.rows.items():
        good = list(rows)
        for kind, per_1000 in faults.__dict__.items():
            expected = len(good) * per_1000 / 1000
            count = int(expected) + (1 if r.random() < expected - int(expected) else 0)
            for _ in range(count):
                row = dict(r.choice(good))
                if not _corrupt(row, kind, key):
                    continue
                rows.insert(r.randrange(len(rows) + 1), row)
                out.faults[kind] = out.faults.get(kind, 0) + 1


# The code columns an unknown_code fault replaces (the first one a row has).
CODE_COLUMNS = (
    "SERVICE",
    "case_type",
    "category",
    "destination",
    "setting_type",
    "appeal_type",
    "respondent",
    "BUDGET_TYPE",
)


def _corrupt(row: dict[str, str], kind: str, key: tuple[str, str]) -> bool:
    nhs_column = "NHS_NUMBER" if "NHS_NUMBER" in row else "nhs_number"
    if kind == "invalid_nhs_number" and row.get(nhs_column):
        row[nhs_column] = with_wrong_check_digit(row[nhs_column])
        return True
    if kind == "missing_identifier" and key[1] != "ehc_plans_issued":
        row[nhs_column] = ""
        if "upn" in row:
            row["upn"] = ""
        return True
    if kind == "unknown_code":
        for column in CODE_COLUMNS:
            if column in row:
                row[column] = "ZZZ"
                return True
        return False
    if kind == "duplicate":
        return True
    if kind == "outside_contract" and key == ("education", "exclusions"):
        row["school_urn"] = "100001"
        return True
    return False
