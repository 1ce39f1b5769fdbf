"""Reading the JSNA aggregates: counts, rates per 1,000 and year-on-year change, as at a date.

Cells are kept for every month end (see streams/jsna.py); an as-at date reads the
month end on or before it. Rates use the reference population of the same
breakdown and year (`reference_population`); where no population is loaded the
rate is left empty rather than guessed. Small numbers are not suppressed here:
this is the analysts' view inside the hub, and publication applies the
contract's disclosure-control rule.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg

from streams.jsna import rate_per_1000


def month_end_on_or_before(day: dt.date) -> dt.date:
    first_of_next = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    end = first_of_next - dt.timedelta(days=1)
    return end if end <= day else day.replace(day=1) - dt.timedelta(days=1)


def _year_before(day: dt.date) -> dt.date:
    return month_end_on_or_before(day.replace(year=day.year - 1, day=1) + dt.timedelta(days=40))


def jsna_document(conn: psycopg.Connection, as_at: dt.date) -> dict[str, Any]:
    """Every cell as at `as_at`: count, rate per 1,000 (if population known), change on a year."""
    month_end = month_end_on_or_before(as_at)
    year_before = _year_before(month_end)
    rows = conn.execute(
        """
        SELECT c.send_status, c.dimension, c.value, c.people, prior.people, p.people
        FROM jsna_cells c
        LEFT JOIN jsna_cells prior
               ON prior.as_at = %(prior)s AND prior.send_status = c.send_status
              AND prior.dimension = c.dimension AND prior.value = c.value
        LEFT JOIN reference_population p
               ON p.year = %(year)s AND p.dimension = c.dimension AND p.value = c.value
        WHERE c.as_at = %(at)s
        ORDER BY c.dimension, c.value, c.send_status
        """,
        {"at": month_end, "prior": year_before, "year": month_end.year},
    ).fetchall()
    cells = [
        {
            "send_status": status,
            "dimension": dimension,
            "value": value,
            "people": int(people),
            "rate_per_1000": rate_per_1000(int(people), int(population) if population else None),
            "people_a_year_before": int(prior) if prior is not None else 0,
            "change_on_year": int(people) - (int(prior) if prior is not None else 0),
        }
        for status, dimension, value, people, prior, population in rows
    ]
    return {
        "as_at": month_end.isoformat(),
        "compared_with": year_before.isoformat(),
        "cells": cells,
    }
