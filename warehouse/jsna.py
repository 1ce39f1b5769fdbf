"""Reading the JSNA aggregates: counts, rates per 1,000 and year-on-year change, as at a date.

Cells are kept for every month end (see streams/jsna.py); an as-at date reads the
month end on or before it. Rates use the reference population of the same
breakdown and year (`reference_population`); where no population is loaded the
rate is `x` (not available) rather than guessed. Every figure leaves protected by
the contract's disclosure-control rule (`streams/publication.py`): counts 1 to 7 are
`c`, the rest rounded to the nearest 5, rates and changes from the protected counts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg

from streams.disclosure import Rule
from streams.publication import Publication, month_table, publish_jsna
from warehouse.publication import cells_at, publication_rule
from warehouse.publication_cache import published


def month_end_on_or_before(day: dt.date) -> dt.date:
    first_of_next = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    end = first_of_next - dt.timedelta(days=1)
    return end if end <= day else day.replace(day=1) - dt.timedelta(days=1)


def _year_before(day: dt.date) -> dt.date:
    return month_end_on_or_before(day.replace(year=day.year - 1, day=1) + dt.timedelta(days=40))


def published_jsna(
    conn: psycopg.Connection, as_at: dt.date, rule: Rule | None = None
) -> Publication:
    """The JSNA as published as at `as_at`, with the ledger the disclosure audit attacks."""
    rule = rule or publication_rule()
    month_end = month_end_on_or_before(as_at)
    year_before = _year_before(month_end)
    cells = cells_at(conn, [month_end, year_before])
    population = {
        (dimension, value): int(people)
        for dimension, value, people in conn.execute(
            "SELECT dimension, value, people FROM reference_population WHERE year = %s",
            (month_end.year,),
        ).fetchall()
        if people
    }
    return publish_jsna(
        month_table(month_end, cells[month_end], rule),
        month_table(year_before, cells[year_before], rule),
        cells[month_end],
        population,
        rule,
    )


def jsna_document(conn: psycopg.Connection, as_at: dt.date) -> dict[str, Any]:
    """Every cell as at `as_at`, protected: count, rate per 1,000, change on a year (kept
    until the warehouse changes: `warehouse/publication_cache.py`)."""
    return published(conn, "jsna", as_at, lambda on: published_jsna(on, as_at).document)
