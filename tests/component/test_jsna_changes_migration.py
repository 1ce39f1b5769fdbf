"""Migration 0007 turns month-end JSNA cells into changes and the view gives them back."""

from __future__ import annotations

import datetime as dt
import uuid

import psycopg
import pytest

from hub.stack.postgres import EmbeddedPostgres
from warehouse.migrate import upgrade

D = dt.date
# Two keys over Jan-Apr 2025: one rises, falls and rises again (a month of zero in the
# middle is a missing row), the other holds to the end of the horizon.
OLD_CELLS = [
    (D(2025, 1, 31), "EHC_PLAN", "all", "all", 5),
    (D(2025, 2, 28), "EHC_PLAN", "all", "all", 7),
    (D(2025, 4, 30), "EHC_PLAN", "all", "all", 2),
    (D(2025, 2, 28), "SEN_SUPPORT", "sex", "FEMALE", 3),
    (D(2025, 3, 31), "SEN_SUPPORT", "sex", "FEMALE", 3),
    (D(2025, 4, 30), "SEN_SUPPORT", "sex", "FEMALE", 3),
]


@pytest.fixture
def database_at_0006(postgres_server: EmbeddedPostgres) -> str:
    name = f"hub_0006_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_server.dsn("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    dsn = postgres_server.dsn(name)
    upgrade(dsn, "0006")
    return dsn


@pytest.mark.parametrize("horizon_recorded", [True, False])
def test_old_cells_come_back_unchanged_through_the_view(
    database_at_0006: str, horizon_recorded: bool
) -> None:
    with psycopg.connect(database_at_0006, autocommit=True) as conn:
        if horizon_recorded:
            conn.execute(
                "INSERT INTO jsna_horizon (first_month, last_month)"
                " VALUES ('2025-01-01', '2025-04-01')"
            )
        with conn.cursor() as cursor:
            cursor.executemany("INSERT INTO jsna_cells VALUES (%s, %s, %s, %s, %s)", OLD_CELLS)
    upgrade(database_at_0006)
    with psycopg.connect(database_at_0006, autocommit=True) as conn:
        cells = conn.execute(
            "SELECT as_at, send_status, dimension, value, people FROM jsna_cells ORDER BY 1, 2"
        ).fetchall()
        changes = dict(
            ((row[0], row[1]), row[2])
            for row in conn.execute(
                "SELECT as_at, send_status, change FROM jsna_cell_changes"
            ).fetchall()
        )
    assert sorted(cells) == sorted(OLD_CELLS)
    assert changes == {
        (D(2025, 1, 31), "EHC_PLAN"): 5,
        (D(2025, 2, 28), "EHC_PLAN"): 2,
        (D(2025, 3, 31), "EHC_PLAN"): -7,
        (D(2025, 4, 30), "EHC_PLAN"): 2,
        (D(2025, 2, 28), "SEN_SUPPORT"): 3,
    }
