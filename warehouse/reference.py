"""Reference data: LSOA -> locality and population denominators for the JSNA, and the
comparators published for the scorecard's KPIs.

Loading replaces the previous figures wholesale and records the load (what, when, by
whom) in one transaction; each comparator row keeps the id of the load it came with.
`reference_version` is the latest load's id: the worker compares it before each batch,
so figures loaded while it runs reach the next batch.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg

from streams.comparators import COLUMNS, Comparator, GeographyKind


@dataclass(frozen=True)
class ReferenceLoad:
    """One load of reference data, as the audit shows it."""

    load_id: int
    loaded_at: dt.datetime
    loaded_by: str
    localities: int
    population_rows: int
    digest: str  # SHA-256 of the rows loaded, so two loads can be told apart or matched
    comparators: int = 0


def load_reference(
    conn: psycopg.Connection,
    localities: Sequence[tuple[str, ...]],
    population: Sequence[tuple[str, ...]],
    loaded_by: str,
    comparators: Sequence[Comparator] = (),
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
        digest = _digest(localities, population, comparators)
        row = cursor.execute(
            "INSERT INTO reference_loads"
            " (loaded_by, localities, population_rows, comparators, digest)"
            " VALUES (%s, %s, %s, %s, %s) RETURNING load_id",
            (loaded_by, len(localities), len(population), len(comparators), digest),
        ).fetchone()
        assert row is not None
        cursor.execute("DELETE FROM reference_comparators")
        cursor.executemany(
            f"INSERT INTO reference_comparators (load_id, {', '.join(COLUMNS)})"
            f" VALUES (%s{', %s' * len(COLUMNS)})",
            [(row[0], *comparator.row()) for comparator in comparators],
        )
    return int(row[0])


def comparators(conn: psycopg.Connection) -> tuple[Comparator, ...]:
    """The comparators of the latest load (none before any)."""
    rows = conn.execute(
        f"SELECT {', '.join(COLUMNS)} FROM reference_comparators"
        " ORDER BY kpi_id, year, geography_code"
    ).fetchall()
    return tuple(
        Comparator(code, name, GeographyKind(kind), *rest) for code, name, kind, *rest in rows
    )


def reference_version(conn: psycopg.Connection) -> int:
    """The id of the latest load of reference data (0 before any)."""
    row = conn.execute("SELECT coalesce(max(load_id), 0) FROM reference_loads").fetchone()
    return int(row[0]) if row else 0


def reference_loads(conn: psycopg.Connection) -> list[ReferenceLoad]:
    """Every load, oldest first."""
    rows = conn.execute(
        "SELECT load_id, loaded_at, loaded_by, localities, population_rows, digest,"
        " comparators FROM reference_loads ORDER BY load_id"
    ).fetchall()
    return [ReferenceLoad(*row) for row in rows]


def _digest(
    localities: Sequence[tuple[str, ...]],
    population: Sequence[tuple[str, ...]],
    comparators: Sequence[Comparator] = (),
) -> str:
    text = "\n".join(",".join(row) for row in [*sorted(localities), (), *sorted(population)])
    if comparators:  # a load without them digests as before
        text += "\n\n" + "\n".join(sorted(repr(c.row()) for c in comparators))
    return hashlib.sha256(text.encode()).hexdigest()
