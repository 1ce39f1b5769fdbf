"""Reading a JSNA cross-tabulation: each person's register state on the day, counted by
two breakdowns (`streams/crosstab.py`), as at the month end on or before the date asked,
and published protected beside that month's one-way cells (`streams/crosstab_publication.py`).

The one-way cells are read at month ends, so a cross-tab is too: its margins are those
cells, and a table published beside them cannot be set against them to recover a count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import psycopg

from streams.cohort import PersonState
from streams.crosstab import CrossTab, check_breakdowns, cross_tabulate
from streams.crosstab_publication import publish_crosstab
from streams.disclosure import Rule
from streams.publication import Publication
from warehouse.cohort_store import locality_reference, state_from_json
from warehouse.jsna import month_end_on_or_before
from warehouse.publication import month_tables, publication_rule
from warehouse.publication_cache import published


def states_on(conn: psycopg.Connection, day: dt.date) -> list[PersonState]:
    """Every person's register state on `day`."""
    rows = conn.execute(
        """
        SELECT state FROM cohort_history
        WHERE valid_from <= %(day)s AND (valid_to IS NULL OR valid_to > %(day)s)
        """,
        {"day": day},
    ).fetchall()
    return [state_from_json(row[0]) for row in rows]


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
    return cross_tabulate(states_on(conn, month_end), month_end, rows, columns, locality_of)


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
    # outside the JSNA's horizon the one-way cells are empty: so are its cross-tabs, which
    # are published beside them and must add up to them
    states = states_on(conn, month_end) if table.true else []
    locality_of = locality_reference(conn)
    return [
        publish_crosstab(cross_tabulate(states, month_end, rows, columns, locality_of), table, rule)
        for rows, columns in wanted
    ]


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
        lambda: published_crosstab(conn, as_at, rows, columns).document,
    )
