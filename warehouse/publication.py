"""Reading what the hub publishes: the disclosure rule in force and the JSNA tables to protect.

The rule is the strictest of the shipped contracts' `disclosure_control` rules; the
JSNA cells of each month end are read whole, because a month's cells are protected
together (`streams/publication.py`), whichever document shows them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from functools import cache

import psycopg

from contracts.loading import shipped_contracts
from streams.disclosure import Rule
from streams.publication import CellKey, MonthTable, month_table


@cache
def publication_rule() -> Rule:
    """The disclosure rule every published figure obeys: the shipped contracts' strictest."""
    return Rule.of(shipped_contracts().values())


ONE_MONTH_CELLS = (
    "SELECT as_at, send_status, dimension, value, people FROM jsna_cells WHERE as_at = ANY(%s)"
)
MONTHS_CELLS = (  # the same rows (migration 0017), quicker for many month ends
    "SELECT as_at, send_status, dimension, value, people FROM jsna_cells_by_month"
    " WHERE as_at = ANY(%s)"
)


def cells_at(
    conn: psycopg.Connection, month_ends: Iterable[dt.date]
) -> dict[dt.date, dict[CellKey, int]]:
    """Every JSNA cell at each of these month ends (a month with nobody: no cells)."""
    days = sorted(set(month_ends))
    cells: dict[dt.date, dict[CellKey, int]] = defaultdict(dict)
    # one month end: the view with the date pushed into it; many: their running totals
    query = ONE_MONTH_CELLS if len(days) == 1 else MONTHS_CELLS
    for as_at, status, dimension, value, people in conn.execute(query, (days,)).fetchall():
        cells[as_at][(status, dimension, value)] = int(people)
    return {day: cells.get(day, {}) for day in days}


def month_tables(
    conn: psycopg.Connection, month_ends: Iterable[dt.date], rule: Rule
) -> dict[dt.date, MonthTable]:
    """Each month end's JSNA cells, protected together."""
    return {day: month_table(day, cells, rule) for day, cells in cells_at(conn, month_ends).items()}
