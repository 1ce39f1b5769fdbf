"""A synthetic area with six years of plan history whose person details are dated at its end.

It is the case a council's first load makes: years of requests, issued and ceased plans,
census records and social care cases, and one person-details extract dated today (the
area's end), sent last. The people and most rows come from `area.py` (`people`,
`journeys`) over a six-year window; this module keeps the extracts of that history, dates
every person-details row at the area's end, and adds what `journeys` does not make:
ceased plans, census records of plan holders (`E`, then `K` once ceased) and of pupils whose
support ended (`N`).

`write_history_area` writes `extracts/<source>/<extract>.csv` (for `hub backfill` or
`hub produce`) and `reference/` (localities and population, for `hub reference load`); the
JSNA the rows imply at any month end is `truth.jsna_cells_from_rows`, from the rows only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

from producers.synthetic.area import (
    SMOKE,
    AreaProfile,
    Extracts,
    Person,
    age_on,
    journeys,
    people,
)
from producers.synthetic.area_files import population_rows, reference_files

YEARS = 6
# The extracts of the plan history, and the person details sent after them.
HISTORY_EXTRACTS = (
    ("education", "assessment_requests"),
    ("education", "ehc_plans_issued"),
    ("education", "plans_ceased"),
    ("education", "sen_support_census"),
    ("socialcare", "cases_opened"),
    ("socialcare", "cases_closed"),
    ("education", "person_details"),
)
CEASED_SHARE = 0.25  # of plans issued at least 90 days before the end
SUPPORT_ENDED_SHARE = 0.3  # of pupils on SEN support with 2 or more census records


@dataclass(frozen=True)
class HistoryArea:
    profile: AreaProfile
    people: list[Person]
    extracts: Extracts
    reference: dict[str, str]  # LSOA -> locality
    scale: float


def history_profile(base: AreaProfile = SMOKE, years: int = YEARS) -> AreaProfile:
    """`base` over the `years` up to its end (the day its person details are dated)."""
    start = base.end.replace(year=base.end.year - years) + dt.timedelta(days=1)
    return dataclasses.replace(base, name=f"{base.name}-history", start=start)


def history_area(profile: AreaProfile, seed: int, scale: float) -> HistoryArea:
    """The area's people and the rows of `HISTORY_EXTRACTS`, with no faulty rows."""
    r = random.Random(seed)
    cohort, reference = people(profile, scale, r)
    made = journeys(profile, scale, cohort, r)
    extracts = Extracts({key: made.rows.get(key, []) for key in HISTORY_EXTRACTS})
    for row in extracts.rows[("education", "person_details")]:
        row["recorded_date"] = profile.end.isoformat()
    ceased = _cessations(extracts, cohort, profile, r)
    _plan_census(extracts, cohort, profile, ceased)
    _support_ended(extracts, r)
    return HistoryArea(profile, cohort, extracts, reference, scale)


def write_history_area(area: HistoryArea, out_dir: Path) -> dict[tuple[str, str], int]:
    """Write the extracts and the reference data; the rows written per extract."""
    written = {}
    for (source, extract), rows in area.extracts.rows.items():
        if not rows:
            continue
        path = out_dir / "extracts" / source / f"{extract}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(area.extracts.csv_text((source, extract)))
        written[(source, extract)] = len(rows)
    population = population_rows(area.profile, area.scale, random.Random(0))
    for name, content in reference_files(area.reference, population).items():
        (out_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (out_dir / name).write_bytes(content)
    return written


def _cessations(
    out: Extracts, cohort: list[Person], profile: AreaProfile, r: random.Random
) -> dict[int, dt.date]:
    """Cease some plans between 90 days after issue and the end; person index -> date."""
    ceased = {}
    for person in cohort:
        issued = person.plan_issued
        if issued is None or (profile.end - issued).days < 90 or r.random() >= CEASED_SHARE:
            continue
        day = issued + dt.timedelta(days=r.randint(90, (profile.end - issued).days))
        ceased[person.index] = day
        out.add(
            "education",
            "plans_ceased",
            {
                "plan_reference": f"PLAN-{person.index:06d}",
                "cease_date": day.isoformat(),
                "cease_reason": r.choice(["NEEDS_MET_WITHOUT_PLAN", "MOVED_TO_ANOTHER_LA"]),
                "nhs_number": person.nhs_number,
                "upn": person.upn or "",
                "issue_date": issued.isoformat(),
            },
        )
    return ceased


def _plan_census(
    out: Extracts, cohort: list[Person], profile: AreaProfile, ceased: dict[int, dt.date]
) -> None:
    """Spring census records of plan holders of school age: `E` while the plan is open,
    `K` (SEN support) once it has ceased."""
    for person in cohort:
        if person.plan_issued is None or person.upn is None:
            continue
        for year in range(profile.start.year + 1, profile.end.year + 1):
            day = dt.date(year, 1, 20)
            if day < person.plan_issued or not 4 <= age_on(person.birth_month, day) <= 19:
                continue
            provision = "K" if day >= ceased.get(person.index, dt.date.max) else "E"
            out.add(
                "education",
                "sen_support_census",
                {
                    "upn": person.upn,
                    "nhs_number": person.nhs_number,
                    "census_term": f"{year}-SPR",
                    "census_date": day.isoformat(),
                    "sen_provision": provision,
                    "sen_primary_need": person.need or "",
                },
            )


def _support_ended(out: Extracts, r: random.Random) -> None:
    """For some pupils on SEN support, support ends: from a census on, they say `N`."""
    by_pupil: dict[str, list[dict[str, str]]] = {}
    for row in out.rows[("education", "sen_support_census")]:
        if row["sen_provision"] == "K":
            by_pupil.setdefault(row["upn"], []).append(row)
    for upn in sorted(by_pupil):
        records = sorted(by_pupil[upn], key=lambda row: row["census_date"])
        if len(records) < 2 or r.random() >= SUPPORT_ENDED_SHARE:
            continue
        for row in records[r.randrange(1, len(records)) :]:
            row["sen_provision"] = "N"
            row["sen_primary_need"] = ""
