"""JSNA cross-tabulations: any two breakdowns together, as at a date, from the register.

The one-way JSNA cells are kept as changes per month end (`streams/jsna.py`); a table
of two breakdowns (need by locality, age band by sex, setting by SEND status, ...) is
counted on demand from each person's state on the day, with the same `dimension_values`
the cells use, so its margins are the one-way cells. A person counts once in each pair
of their values: once for most breakdowns, once per flag for `flag`.
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
    check_breakdowns(rows, columns)
    counts: Counter[tuple[str, str]] = Counter()
    for state in states:
        values = _values(state, as_at, locality_of)
        if values is None:
            continue
        for row in values.get(rows, []):
            for column in values.get(columns, []):
                counts[(row, column)] += 1
    return CrossTab(as_at, rows, columns, counts)
