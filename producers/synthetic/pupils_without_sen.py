"""Pupils with no SEN: the census `N` returns and the attendance the absence comparison needs.

The cohort `people` makes is children and young people with SEND, but the absence KPIs set
them beside pupils with no SEN. So `journeys` adds, after everything else and with a random
source of its own (every other row unchanged), a sample of pupils of compulsory school age
whom the spring census returns as `N`: their details, census records and termly attendance.
"""

from __future__ import annotations

import random

from producers.synthetic.advice_and_attendance import attendance
from producers.synthetic.area import (
    AreaProfile,
    Extracts,
    IdentifierPool,
    Person,
    _census,
    _choice,
    _details,
    birth_month_for,
    lsoa_codes,
)

AGES = (5, 15)  # at the area's end: of school age through the years attendance is sent for


def pupils_without_sen(
    out: Extracts, cohort: list[Person], profile: AreaProfile, scale: float
) -> list[Person]:
    """The sample's rows, added to `out`; the pupils, numbered on from the cohort."""
    first = cohort[0].nhs_number if cohort else ""  # differs by seed, as the pupils should
    r = random.Random(f"{profile.name}:{len(cohort)}:{first}:pupils-without-sen")
    ids = IdentifierPool(r)
    ids.nhs = {person.nhs_number for person in cohort}  # never one the cohort holds
    ids.serial = len(cohort)  # past every UPN serial the cohort used
    by_locality: dict[str, list[str]] = {}
    for code, locality in lsoa_codes(profile).items():
        by_locality.setdefault(locality, []).append(code)
    count = round(profile.sen_support * scale * profile.pupils_without_sen_per_sen_support)
    pupils = []
    for number in range(count):
        locality = _choice(r, profile.localities)
        pupil = Person(
            index=len(cohort) + number,
            nhs_number=ids.nhs_number(),
            upn=ids.upn(),
            birth_month=birth_month_for(r.randint(*AGES), profile.end, r),
            sex=r.choice(["FEMALE", "MALE"]),
            ethnicity=_choice(r, profile.ethnicity),
            lsoa=r.choice(by_locality[locality]),
            locality=locality,
        )
        _details(out, pupil, profile)
        _census(out, pupil, profile, r, provision="N")
        attendance(out, pupil, profile, r)
        pupils.append(pupil)
    return pupils
