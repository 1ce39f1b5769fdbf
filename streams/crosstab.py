"""JSNA cross-tabulations: any two breakdowns together, as at a date, from the register.

The one-way JSNA cells are kept as changes per month end (`streams/jsna.py`); a table
of two breakdowns (need by locality, age band by sex, setting by SEND status, ...) is
counted on demand from each person's state on the day, with the same `dimension_values`
the cells use, so its margins are the one-way cells. A person counts once in each pair
of their values: once for most breakdowns, once per flag for `flag`. People whose states
agree on what two breakdowns read (`READS`) count alike, so the warehouse counts them
in groups (`cross_tabulate_groups`) rather than one state at a time.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from streams.cohort import PersonState
from streams.jsna import DIMENSIONS, dimension_values

SEND_STATUS = "send_status"
BREAKDOWNS = (SEND_STATUS, *(d for d in DIMENSIONS if d != "all"))
DEFINITIONS = {  # what each breakdown means, as exports and the API state it
    SEND_STATUS: "SEND status on the day: EHC_PLAN (an EHC plan in force, or census E), "
    "SEN_SUPPORT (census K), NONE (census N), UNKNOWN (not known to the register)",
    "primary_need": "Primary type of need last recorded (SEN2/school census codes, e.g. ASD, "
    "SEMH, SLCN); UNKNOWN where none is recorded",
    "age_band": "Age in whole years on the day (from month of birth), banded 0-4, 5-10, 11-15, "
    "16-19, 20-25; people outside 0-25 are not counted",
    "sex": "Sex as last recorded by a partner",
    "ethnicity_group": "Major ethnic group as last recorded by a partner",
    "locality": "District of the home LSOA (from the loaded reference data); UNKNOWN without one",
    "setting_type": "Type of education setting on the day; NONE without a placement",
    "placement_area": "Whether the education placement is in the area (IN_AREA) or out of it "
    "(OUT_OF_AREA); NONE without a placement, UNKNOWN where not recorded",
    "flag": "Markers a person may have several of (looked after, child in need, child protection, "
    "early help, "
    "youth offending, elective home education, missing education, NEET): a person counts "
    "once per flag",
}


BIRTH = "month_of_birth"  # every breakdown reads it: nobody outside 0-25 on the day counts
READS = {  # the fields of a person's state each breakdown's values depend on, besides BIRTH
    SEND_STATUS: ("send_status",),
    "primary_need": ("primary_need",),
    "age_band": (),
    "sex": ("sex",),
    "ethnicity_group": ("ethnicity_group",),
    "locality": ("lsoa_code",),
    "setting_type": ("setting_type",),
    "placement_area": ("in_area", "setting_type"),
    "flag": ("open_cases", "elective_home_education", "missing_education", "neet"),
}


class UnknownBreakdown(ValueError):
    """A breakdown the JSNA does not have, or the same one twice; says which exist."""


@dataclass(frozen=True)
class CrossTab:
    """People counted by the value of one breakdown (`rows`) and of another (`columns`)."""

    as_at: dt.date
    rows: str
    columns: str
    counts: Counter[tuple[str, str]]


def check_breakdowns(rows: str, columns: str) -> None:
    for name in (rows, columns):
        if name not in BREAKDOWNS:
            raise UnknownBreakdown(f"no breakdown {name!r}: choose from {', '.join(BREAKDOWNS)}")
    if rows == columns:
        raise UnknownBreakdown("choose two different breakdowns")


def _values(
    state: PersonState, day: dt.date, locality_of: Mapping[str, str]
) -> dict[str, list[str]] | None:
    pairs = dimension_values(state, day, locality_of)
    if pairs is None:
        return None  # not aged 0-25 on the day
    values: dict[str, list[str]] = {SEND_STATUS: [state.send_status]}
    for dimension, value in pairs:
        values.setdefault(dimension, []).append(value)
    return values


def cross_tabulate(
    states: Iterable[PersonState],
    as_at: dt.date,
    rows: str,
    columns: str,
    locality_of: Mapping[str, str],
) -> CrossTab:
    """Count the people in `states` (each person's state on `as_at`) by two breakdowns."""
    groups = ((state, 1) for state in states)
    return cross_tabulate_groups(groups, as_at, rows, columns, locality_of)


def read_by(rows: str, columns: str) -> tuple[str, ...]:
    """The fields of a state that a table of `rows` by `columns` depends on."""
    check_breakdowns(rows, columns)
    return tuple(sorted({BIRTH, *READS[rows], *READS[columns]}))


def cross_tabulate_groups(
    groups: Iterable[tuple[PersonState, int]],
    as_at: dt.date,
    rows: str,
    columns: str,
    locality_of: Mapping[str, str],
) -> CrossTab:
    """Count people by two breakdowns from groups of people: a state standing for each of
    `n` people on `as_at` whose states agree with it on every field `read_by` names."""
    check_breakdowns(rows, columns)
    counts: Counter[tuple[str, str]] = Counter()
    for state, people in groups:
        values = _values(state, as_at, locality_of)
        if values is None:
            continue
        for row in values.get(rows, []):
            for column in values.get(columns, []):
                counts[(row, column)] += people
    return CrossTab(as_at, rows, columns, counts)
