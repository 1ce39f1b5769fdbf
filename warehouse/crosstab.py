"""Reading a JSNA cross-tabulation: each person's register state on the day, counted by
two breakdowns (`streams/crosstab.py`), as at the month end on or before the date asked,
and published protected beside that month's one-way cells (`streams/crosstab_publication.py`).

The one-way cells are read at month ends, so a cross-tab is too: its margins are those
cells, and a table published beside them cannot be set against them to recover a count.
The register is counted in PostgreSQL by the fields the two breakdowns read (`groups_on`),
a few hundred groups rather than every person's whole state parsed here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import psycopg

from streams.cohort import PersonState, age_band
from streams.crosstab import (
    BIRTH,
    CrossTab,
    check_breakdowns,
    cross_tabulate_groups,
    read_by,
)
from streams.crosstab_publication import publish_crosstab
from streams.disclosure import Rule
from streams.publication import Publication
from warehouse.cohort_store import locality_reference
from warehouse.jsna import month_end_on_or_before
from warehouse.publication import month_tables, publication_rule
from warehouse.publication_cache import published

# how a field is read from the state (by default as JSON), what is grouped on, and what
# the group's state is given: for the month of birth its age band on the day and for the
# LSOA its locality (the group's smallest value stands for them all); for the open cases
# only their kinds (`PersonState.flags_on`)
GROUPED = {
    BIRTH: (
        "state ->> 'month_of_birth'",
        "b.band, CASE WHEN b.band IS NULL THEN h.month_of_birth END",
        "min(h.month_of_birth)",
    ),
    "lsoa_code": (
        "state ->> 'lsoa_code'",
        "l.locality, coalesce(h.lsoa_code, '') = ''",
        "min(h.lsoa_code)",
    ),
    "open_cases": (
        "ARRAY(SELECT DISTINCT c ->> 0 FROM jsonb_array_elements(state -> 'open_cases') c"
        " ORDER BY 1)",
        "h.open_cases",
        "h.open_cases",
    ),
}
LOCALITIES = """
        LEFT JOIN unnest(%(codes)s::text[], %(localities)s::text[]) AS l(lsoa_code, locality)
            ON l.lsoa_code = h.lsoa_code
"""
YEARS_OF_BIRTH = 30  # the months of birth looked up in `bands_on`: every age band's


def bands_on(day: dt.date) -> dict[str, str]:
    """Each month of birth (YYYY-MM) with an age band on `day`, and that band."""
    births = (
        f"{year:04d}-{month:02d}"
        for year in range(day.year - YEARS_OF_BIRTH, day.year + 1)
        for month in range(1, 13)
    )
    return {birth: band for birth in births if (band := age_band(birth, day)) is not None}


def groups_on(
    conn: psycopg.Connection, day: dt.date, fields: Sequence[str], locality_of: Mapping[str, str]
) -> list[tuple[PersonState, int]]:
    """The people in the register on `day`, grouped by `fields` of their states: a state
    with those fields (the others as a new state has them) and how many people it stands
    for. Everyone in a group has the same values of those fields, except that the month of
    birth groups by the age band on `day` and the LSOA code by the locality `locality_of`
    gives it: all that the breakdowns read of them (`streams/jsna.py`, `_static_values`)."""
    if BIRTH not in fields:
        raise ValueError("every breakdown reads the month of birth (`read_by`)")
    read, keys, shown = [], [], []
    for field in fields:
        value, key, given = GROUPED.get(field, (f"state -> '{field}'", f"h.{field}", f"h.{field}"))
        read.append(f"{value} AS {field}")
        keys.append(key)
        shown.append(given)
    bands = bands_on(day)
    # the fields read once, into a narrow table: grouping the whole states sorts on disk
    rows = conn.execute(
        f"""
        WITH h AS MATERIALIZED (
            SELECT {", ".join(read)} FROM cohort_history
            WHERE valid_from <= %(day)s AND (valid_to IS NULL OR valid_to > %(day)s)
        )
        SELECT count(*), {", ".join(shown)}
        FROM h
        LEFT JOIN unnest(%(births)s::text[], %(bands)s::text[]) AS b(month_of_birth, band)
            ON b.month_of_birth = h.month_of_birth
        {LOCALITIES if "lsoa_code" in fields else ""}
        GROUP BY {", ".join(keys)}
        """,
        {
            "day": day,
            "codes": list(locality_of),
            "localities": list(locality_of.values()),
            "births": list(bands),
            "bands": list(bands.values()),
        },
    ).fetchall()
    return [(_state(fields, row[1:]), int(row[0])) for row in rows]


def _state(fields: Sequence[str], values: Sequence[Any]) -> PersonState:
    given = dict(zip(fields, values, strict=True))
    if "open_cases" in given:
        given["open_cases"] = tuple((kind, "") for kind in given["open_cases"])
    return PersonState(**given)


def cross_tab(
    conn: psycopg.Connection,
    as_at: dt.date,
    rows: str,
    columns: str,
    locality_of: Mapping[str, str] | None = None,
) -> CrossTab:
    """People by `rows` and `columns` as at the month end on or before `as_at` (localities
    from the loaded reference data unless given)."""
    check_breakdowns(rows, columns)
    month_end = month_end_on_or_before(as_at)
    if locality_of is None:
        locality_of = locality_reference(conn)  # read only: the API may call it
    groups = groups_on(conn, month_end, read_by(rows, columns), locality_of)
    return cross_tabulate_groups(groups, month_end, rows, columns, locality_of)


def published_crosstabs(
    conn: psycopg.Connection,
    as_at: dt.date,
    pairs: Iterable[tuple[str, str]],
    rule: Rule | None = None,
) -> list[Publication]:
    """Cross-tabs of these pairs as published as at `as_at`, the register read once."""
    rule = rule or publication_rule()
    wanted: Sequence[tuple[str, str]] = list(pairs)
    for rows, columns in wanted:
        check_breakdowns(rows, columns)
    month_end = month_end_on_or_before(as_at)
    table = month_tables(conn, [month_end], rule)[month_end]
    locality_of = locality_reference(conn)

    def counted(rows: str, columns: str) -> CrossTab:
        # outside the JSNA's horizon the one-way cells are empty: so are its cross-tabs,
        # which are published beside them and must add up to them
        fields = read_by(rows, columns)
        groups = groups_on(conn, month_end, fields, locality_of) if table.true else []
        return cross_tabulate_groups(groups, month_end, rows, columns, locality_of)

    return [publish_crosstab(counted(rows, columns), table, rule) for rows, columns in wanted]


def published_crosstab(
    conn: psycopg.Connection, as_at: dt.date, rows: str, columns: str, rule: Rule | None = None
) -> Publication:
    """One cross-tab as published, with the ledger the disclosure audit attacks."""
    return published_crosstabs(conn, as_at, [(rows, columns)], rule)[0]


def crosstab_document(
    conn: psycopg.Connection, as_at: dt.date, rows: str, columns: str
) -> dict[str, Any]:
    """People by two breakdowns as at `as_at`, protected: what the CLI and the API return.

    Raises `UnknownBreakdown` (a ValueError naming the choices) for an unknown or
    repeated breakdown. Kept until the warehouse changes (`warehouse/publication_cache.py`)."""
    return published(
        conn,
        "crosstab",
        (as_at, rows, columns),
        lambda on: published_crosstab(on, as_at, rows, columns).document,
    )
