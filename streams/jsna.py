"""JSNA aggregates: how many children and young people, of which kind, as at each month end.

A cell is (as-at date, SEND status, dimension, value) -> count of people aged 0-25
on that date. One person contributes one count per dimension per month end; when
their history changes, the old contributions are retracted and the new ones added
(`contribution_delta`), so the cells stay current without a rebuild.

Rates per 1,000 need the population of the same breakdown: `rate_per_1000`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from streams.cohort import AGE_BANDS, PersonState, Span, age_band, state_at

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
    values += [("flag", flag) for flag, on in state.flags().items() if on]
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


def contributions(
    spans: Sequence[Span], ends: Sequence[dt.date], locality_of: Mapping[str, str]
) -> Counter[Cell]:
    """One person's counts in every cell, over the given (ascending) month ends.

    Walks spans and month ends together; a span's date-independent values are
    worked out once, only the age band per month. Counting is done by Counter
    over a list of cells (its C loop), the hot path of the worker and of replay.
    """
    keys: list[Cell] = []
    index, count = 0, len(spans)
    static: list[tuple[str, str]] | None = None
    status = UNKNOWN
    birth: tuple[int, int] | None = None
    for day in ends:
        while index < count:
            valid_to = spans[index].valid_to
            if valid_to is None or valid_to > day:
                break
            index += 1
            static = None
        if index >= count:
            break
        span = spans[index]
        if day < span.valid_from:
            continue
        if static is None:
            static = _static_values(span.state, locality_of)
            status = span.state.send_status
            birth = _birth(span.state.month_of_birth)
        if birth is None:
            band = UNKNOWN
        else:
            known = _band(birth, day)
            if known is None:
                continue  # aged outside 0-25 on this day
            band = known
        keys.extend((day, status, dimension, value) for dimension, value in static)
        keys.append((day, status, "age_band", band))
    return Counter(keys)


def first_divergence(old: Sequence[Span], new: Sequence[Span]) -> dt.date | None:
    """The first day on which the two histories say different things; None if they agree.

    Only span boundaries can be such a day, so only they are checked.
    """
    boundaries = sorted(
        {s.valid_from for s in (*old, *new)}
        | {s.valid_to for s in (*old, *new) if s.valid_to is not None}
    )
    for day in boundaries:
        if state_at(old, day) != state_at(new, day):
            return day
    return None


def contribution_delta(
    old: Sequence[Span],
    new: Sequence[Span],
    ends: Sequence[dt.date],
    locality_of: Mapping[str, str],
) -> Counter[Cell]:
    """What to add to the cells when a person's history changes from `old` to `new`.

    Month ends before the histories diverge contribute the same to both, so only
    the later ones are computed (a new event usually changes only recent months).
    """
    since = first_divergence(old, new)
    if since is None:
        return Counter()
    later = [day for day in ends if day >= since]
    delta = contributions(new, later, locality_of)
    delta.subtract(contributions(old, later, locality_of))
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
