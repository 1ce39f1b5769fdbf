"""Reference data the JSNA needs: LSOA -> locality, and population denominators.

Loading replaces the previous figures wholesale and records the load (what, when, by
whom) in one transaction. `reference_version` is the latest load's id: the worker
compares it before each batch, so figures loaded while it runs reach the next batch.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg


@dataclass(frozen=True)
class ReferenceLoad:
    """One load of reference data, as the audit shows it."""

    load_id: int
    loaded_at: dt.datetime
    loaded_by: str
    localities: int
    population_rows: int
    digest: str  # SHA-256 of the rows loaded, so two loads can be told apart or matched


def load_reference(
    conn: psycopg.Connection,
    localities: Sequence[tuple[str, ...]],
    population: Sequence[tuple[str, ...]],
    loaded_by: str,
) -> int:
    """Replace the reference data with these rows and record the load; its id."""
    with conn.transaction(), conn.cursor() as cursor:
        cursor.execute("DELETE FROM reference_localities")
        cursor.executemany(
            "INSERT INTO reference_localities (lsoa_code, locality) VALUES (%s, %s)",
            [(code, locality) for code, locality in localities],
        )
        cursor.execute("DELETE FROM reference_population")
        cursor.executemany(
            "INSERT INTO reference_population (year, dimension, value, people)"
            " VALUES (%s, %s, %s, %s)",
            [(int(year), dim, value, int(people)) for year, dim, value, people in population],
        )
        row = cursor.execute(
            "INSERT INTO reference_loads (loaded_by, localities, population_rows, digest)"
            " VALUES (%s, %s, %s, %s) RETURNING load_id",
            (loaded_by, len(localities), len(population), _digest(localities, population)),
        ).fetchone()
    assert row is not None
    return int(row[0])


def reference_version(conn: psycopg.Connection) -> int:
    """The id of the latest load of reference data (0 before any)."""
    row = conn.execute("SELECT coalesce(max(load_id), 0) FROM reference_loads").fetchone()
    return int(row[0]) if row else 0


def reference_loads(conn: psycopg.Connection) -> list[ReferenceLoad]:
    """Every load, oldest first."""
    rows = conn.execute(
        "SELECT load_id, loaded_at, loaded_by, localities, population_rows, digest"
        " FROM reference_loads ORDER BY load_id"
    ).fetchall()
    return [ReferenceLoad(*row) for row in rows]


def _digest(localities: Sequence[tuple[str, ...]], population: Sequence[tuple[str, ...]]) -> str:
    text = "\n".join(",".join(row) for row in [*sorted(localities), (), *sorted(population)])
    return hashlib.sha256(text.encode()).hexdigest()
