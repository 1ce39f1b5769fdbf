"""The JSNA cells of many month ends, read as running totals (`jsna_cells_by_month`,
migration 0017), equal the `jsna_cells` view row for row: changes before the horizon,
after it, on a month's last day, several in a month, and totals that fall to zero and
come back."""

from __future__ import annotations

import datetime as dt
import random

import psycopg
import pytest

from warehouse.connection import connect
from warehouse.publication import cells_at

FIRST, LAST = dt.date(2019, 1, 1), dt.date(2020, 12, 1)  # the horizon's first and last month
KEYS = [
    (status, dimension, value)
    for status in ("ehcp", "sen_support")
    for dimension, value in (("all", "all"), ("sex", "F"), ("primary_need", "ASD"))
]


def month_ends(first: dt.date, last: dt.date) -> list[dt.date]:
    ends, month = [], first
    while month <= last:
        following = (month + dt.timedelta(days=32)).replace(day=1)
        ends.append(following - dt.timedelta(days=1))
        month = following
    return ends


def changes(seed: int) -> dict[tuple[dt.date, str, str, str], int]:
    """Random changes from half a year before the horizon to a quarter after it, a few on
    month ends, some undoing what came before (a cell back to zero)."""
    rng = random.Random(seed)
    made: dict[tuple[dt.date, str, str, str], int] = {}
    totals = dict.fromkeys(KEYS, 0)
    day = dt.date(2018, 7, 1)
    while day < dt.date(2021, 4, 1):
        key = rng.choice(KEYS)
        change = -totals[key] if totals[key] and rng.random() < 0.2 else rng.randint(-2, 5)
        if change and (day, *key) not in made:
            made[(day, *key)] = change
            totals[key] += change
        day += dt.timedelta(days=rng.choice([1, 3, 9, 30]))
        if rng.random() < 0.1:  # now and then, a month's last day
            day = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
            day -= dt.timedelta(days=1)
    return made


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_running_totals_equal_the_view_at_every_month_end(warehouse_dsn: str, seed: int) -> None:
    with connect(warehouse_dsn) as conn:
        conn.execute(
            "INSERT INTO jsna_horizon (first_month, last_month) VALUES (%s, %s)", (FIRST, LAST)
        )
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO jsna_cell_changes (as_at, send_status, dimension, value, change)"
                " VALUES (%s, %s, %s, %s, %s)",
                [(*key, change) for key, change in changes(seed).items()],
            )
        asked = month_ends(dt.date(2018, 10, 1), dt.date(2021, 2, 1))  # outside it too
        view = rows(conn, "jsna_cells", asked)
        running = rows(conn, "jsna_cells_by_month", asked)
        assert running == view
        assert {day for day, *_ in view} == set(month_ends(FIRST, LAST))  # not outside it
        shown = {(day, *key) for day, *key, _ in view}
        vanished = [  # a cell at one month end and not at the next: its total fell to zero
            (key, day) for (day, *key) in shown for later in month_ends(FIRST, LAST)
            if later.replace(day=1) == (day + dt.timedelta(days=1)) and (later, *key) not in shown
        ]  # fmt: skip
        assert len(view) > 100 and vanished, "the changes exercise what they should"
        by_month = cells_at(conn, asked)  # what the scorecard's month tables read
        assert {(d, *k, n) for d, cells in by_month.items() for k, n in cells.items()} == set(view)
        one = month_ends(FIRST, LAST)[5]
        assert cells_at(conn, [one])[one] == {tuple(r[1:4]): r[4] for r in view if r[0] == one}


def rows(conn: psycopg.Connection, source: str, days: list[dt.date]) -> list[tuple[object, ...]]:
    return sorted(
        conn.execute(
            f"SELECT as_at, send_status, dimension, value, people FROM {source}"
            " WHERE as_at = ANY(%s)",
            (days,),
        ).fetchall()
    )
