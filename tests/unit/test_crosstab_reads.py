"""A cross-tab counts people in groups that agree on what its two breakdowns read
(`streams.crosstab.READS`): so a breakdown's values must change with no other field of a
person's state, and counting groups must give the counts of counting people one by one."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from typing import Any

import pytest

from streams.cohort import PersonState
from streams.crosstab import (
    BIRTH,
    BREAKDOWNS,
    READS,
    _values,
    cross_tabulate,
    cross_tabulate_groups,
    read_by,
)

DAY = dt.date(2026, 8, 31)
LOCALITY_OF = {"E01000001": "Charnwood", "E01000002": "Melton"}
BASE = PersonState(
    send_status="EHC_PLAN",
    primary_need="ASD",
    month_of_birth="2014-03",
    sex="FEMALE",
    ethnicity_group="WHITE",
    lsoa_code="E01000001",
    setting_type="MAINSTREAM",
    in_area=True,
    plan_open=True,
    census_status="E",
    open_cases=(("CHILD_IN_NEED", "2026-01-01"),),
)
CHANGES: dict[str, Any] = {  # another value for every field of a state
    "send_status": "SEN_SUPPORT",
    "primary_need": "SEMH",
    "sex": "MALE",
    "ethnicity_group": "ASIAN",
    "lsoa_code": "E01000002",
    "setting_type": None,
    "in_area": False,
    "plan_open": False,
    "census_status": "K",
    "open_cases": (("CHILD_PROTECTION", "2026-02-01"), ("LOOKED_AFTER", "2026-03-01")),
    "elective_home_education": True,
    "missing_education": True,
    "neet": True,
    "send_flag_on_health_record": True,
    "open_therapy_waits": (("SLT", "2026-01-01"),),
    "open_nd_assessments": (("ASD", "2026-01-01"),),
}


def test_every_field_of_a_state_is_changed_here() -> None:
    fields = {field.name for field in dataclasses.fields(PersonState)}
    assert fields == {*CHANGES, BIRTH}


@pytest.mark.parametrize("breakdown", BREAKDOWNS)
def test_a_breakdown_changes_with_no_field_it_does_not_read(breakdown: str) -> None:
    before = _values(BASE, DAY, LOCALITY_OF)
    assert before is not None
    for field, value in CHANGES.items():
        after = _values(dataclasses.replace(BASE, **{field: value}), DAY, LOCALITY_OF)
        assert after is not None
        if field not in READS[breakdown]:
            assert after.get(breakdown) == before.get(breakdown), field


def test_groups_count_as_the_people_in_them() -> None:
    people = [
        dataclasses.replace(BASE, **{field: value})
        for field, value in CHANGES.items()
        for _ in range(1 + len(field) % 3)
    ] + [dataclasses.replace(BASE, month_of_birth="1990-01"), BASE]
    for rows, columns in [("primary_need", "locality"), ("flag", "sex"), ("age_band", "flag")]:
        fields = read_by(rows, columns)
        groups = Counter(
            dataclasses.replace(PersonState(), **{f: getattr(p, f) for f in fields}) for p in people
        )
        grouped = cross_tabulate_groups(groups.items(), DAY, rows, columns, LOCALITY_OF)
        assert grouped == cross_tabulate(people, DAY, rows, columns, LOCALITY_OF)
