"""Reading a JSNA cross-tabulation: each person's register state on the day, counted by
two breakdowns (`streams/crosstab.py`), as at the month end on or before the date asked.

The one-way cells are read at month ends, so a cross-tab is too: its margins are those
cells, and a table published beside them cannot be set against them to recover a count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import psycopg

from streams.crosstab import CrossTab, check_breakdowns, cross_tabulate
from warehouse.cohort_store import locality_reference, state_from_json
from warehouse.jsna import month_end_on_or_before


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
    states = conn.execute(
        """
        SELECT state FROM cohort_history
        WHERE valid_from <= %(day)s AND (valid_to IS NULL OR valid_to > %(day)s)
        """,
        {"day": month_end},
    ).fetchall()
    if locality_of is None:
        locality_of = locality_reference(conn)  # read only: the API may call it
    return cross_tabulate(
        (state_from_json(row[0]) for row in states), month_end, rows, columns, locality_of
    )
