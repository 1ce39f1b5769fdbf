"""JSNA aggregates: how many children and young people, of which kind, as at each month end.

A cell is (as-at date, SEND status, dimension, value) -> count of people aged 0-25
on that date. The cells are kept as *changes*: a person adds +1 to a cell on the
first month end they count in it and -1 on the first month end they no longer do
(`changes`), so a state that holds for years costs a few rows, not one per month.
The count as at a month end is the sum of the changes up to it (`cells_from_changes`,
and the `jsna_cells` view in the warehouse). When a person's history changes, the
old changes are retracted and the new ones added (`contribution_delta`).

Rates per 1,000 need the population of the same breakdown: `rate_per_1000`.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from itertools import pairwise

from streams.cohort import AGE_BANDS, PersonState, Span, age_band

Cell = tuple[dt.date, str, str, str]
UNKNOWN = "UNKNOWN"
DIMENSIONS = (
    "all",
    "primary_need",
    "age_band",
    "sex",
    "ethnicity_group",
    "locality",
    "setting_type",
    "placement_area",
    "flag",
)


def month_ends(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every last day of a month from `first`'s month to `last`'s month, inclusive."""
    ends = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        next_year, next_month = (year + 1, 1) if month == 12 else (year, month + 1)
        ends.append(dt.date(next_year, next_month, 1) - dt.timedelta(days=1))
        year, month = next_year, next_month
    return ends


def _static_values(state: PersonState, locality_of: Mapping[str, str]) -> list[tuple[str, str]]:
    """The (dimension, value) pairs that do not depend on the date (all but age band)."""
    locality = locality_of.get(state.lsoa_code, UNKNOWN) if state.lsoa_code else UNKNOWN
    if state.in_area is None:
        area = UNKNOWN if state.setting_type else "NONE"
    else:
        area = "IN_AREA" if state.in_area else "OUT_OF_AREA"
    values = [
        ("all", "all"),
        ("primary_need", state.primary_need or UNKNOWN),
        ("sex", state.sex or UNKNOWN),
        ("ethnicity_group", state.ethnicity_group or UNKNOWN),
        ("locality", locality),
        ("setting_type", state.setting_type or "NONE"),
        ("placement_area", area),
    ]
    values += [("flag", flag) for flag in state.flags_on()]
    return values


def dimension_values(
    state: PersonState, day: dt.date, locality_of: Mapping[str, str]
) -> list[tuple[str, str]] | None:
    """(dimension, value) pairs one person adds on `day`; None if not aged 0-25 then."""
    band = age_band(state.month_of_birth, day)
    if band is None and state.month_of_birth is not None:
        return None  # known age outside 0-25
    return [*_static_values(state, locality_of), ("age_band", band or UNKNOWN)]


def _birth(month_of_birth: str | None) -> tuple[int, int] | None:
    if not month_of_birth:
        return None
    year, month = month_of_birth.split("-")
    return int(year), int(month)


def _band(birth: tuple[int, int], day: dt.date) -> str | None:
    age = day.year - birth[0] - (1 if (day.month, day.day) < (birth[1], 1) else 0)
    for name, low, high in AGE_BANDS:
        if low <= age <= high:
            return name
    return None


Signature = tuple[str, tuple[tuple[str, str], ...], tuple[int, int] | None]
BAND_STARTS = sorted({low for _, low, _ in AGE_BANDS} | {AGE_BANDS[-1][2] + 1})


def _signature(state: PersonState, locality_of: Mapping[str, str]) -> Signature:
    """All that a state shows in the cells on any day: status, values, month of birth."""
    return (
        state.send_status,
        tuple(_static_values(state, locality_of)),
        _birth(state.month_of_birth),
    )


@cache
def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)


def _band_pieces(
    birth: tuple[int, int] | None, ends: Sequence[dt.date], low: int, high: int
) -> list[tuple[int, int, str | None]]:
    """Month-end index ranges [start, stop) within [low, high) of one age band each.

    At a month end the age is whole years since the month of birth, so the band can
    only change on the month end of a birthday that starts a band.
    """
    if birth is None:
        return [(low, high, UNKNOWN)]
    breaks = {low, high}
    for age in BAND_STARTS:
        index = bisect_left(ends, _month_end(birth[0] + age, birth[1]))
        if low < index < high:
            breaks.add(index)
    edges = sorted(breaks)
    return [(a, b, _band(birth, ends[a])) for a, b in pairwise(edges)]


def changes(
    spans: Sequence[Span], ends: Sequence[dt.date], locality_of: Mapping[str, str]
) -> Counter[Cell]:
    """One person's contribution to the cells over the (ascending) month ends, as changes."""
    delta: dict[Cell, int] = {}
    last = len(ends)
    for span in spans:
        low = bisect_left(ends, span.valid_from)
        high = last if span.valid_to is None else bisect_left(ends, span.valid_to)
        if low >= high:
            continue
        status, static, birth = _signature(span.state, locality_of)
        for start, stop, band in _band_pieces(birth, ends, low, high):
            if band is None:
                continue  # aged outside 0-25 on these month ends
            keys = [*static, ("age_band", band)]
            rise = ends[start]
            for dimension, value in keys:
                cell = (rise, status, dimension, value)
                delta[cell] = delta.get(cell, 0) + 1
            if stop < last:
                fall = ends[stop]
                for dimension, value in keys:
                    cell = (fall, status, dimension, value)
                    delta[cell] = delta.get(cell, 0) - 1
    return Counter({cell: n for cell, n in delta.items() if n != 0})


def cells_from_changes(deltas: Mapping[Cell, int], ends: Sequence[dt.date]) -> Counter[Cell]:
    """The count in every cell as at each month end: the changes added up to it."""
    by_key: dict[tuple[str, str, str], list[tuple[dt.date, int]]] = {}
    for (day, status, dimension, value), n in deltas.items():
        by_key.setdefault((status, dimension, value), []).append((day, n))
    cells: Counter[Cell] = Counter()
    for key, moves in by_key.items():
        moves.sort()
        running, index = 0, 0
        for day in ends:
            while index < len(moves) and moves[index][0] <= day:
                running += moves[index][1]
                index += 1
            if running:
                cells[(day, key[0], key[1], key[2])] = running
    return cells


def contribution_delta(
    old: Sequence[Span],
    new: Sequence[Span],
    ends: Sequence[dt.date],
    locality_of: Mapping[str, str],
) -> Counter[Cell]:
    """What to add to the changes when a person's history goes from `old` to `new`."""
    if old == new:
        return Counter()
    delta = changes(new, ends, locality_of)
    delta.subtract(changes(old, ends, locality_of))
    return Counter({cell: n for cell, n in delta.items() if n != 0})


def total(deltas: Iterable[Counter[Cell]]) -> Counter[Cell]:
    summed: Counter[Cell] = Counter()
    for delta in deltas:
        summed.update(delta)
    return Counter({cell: n for cell, n in summed.items() if n != 0})


def rate_per_1000(count: int, population: int | None) -> float | None:
    if not population:
        return None
    return round(1000 * count / population, 2)
