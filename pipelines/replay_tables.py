"""The tables replay rebuilds: where they are built, how they are compared, how they
replace the live ones.

Replay rebuilds each projection table in a scratch schema (`scratch_tables`, made
LIKE the live table, dropped afterwards), compares it row for row with the live one
(`compare`) and, when asked, copies it over the live one (`replace_live`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg

# table -> (its primary key, the other columns compared)
COMPARED_COLUMNS = {
    "kpi_measures": (("kpi_id", "period"), ("numerator", "denominator")),
    "person_links": (("pseudonym",), ("person_id",)),
    "cohort_history": (("person_id", "valid_from"), ("valid_to", "state", "caused_by")),
    "jsna_cell_changes": (("as_at", "send_status", "dimension", "value"), ("change",)),
}


@dataclass(frozen=True)
class TableComparison:
    table: str
    live_rows: int
    replayed_rows: int
    only_live: int
    only_replayed: int

    @property
    def equal(self) -> bool:
        return self.only_live == 0 and self.only_replayed == 0


@contextmanager
def scratch_tables(conn: psycopg.Connection) -> Iterator[str]:
    """A new schema holding an empty copy of each compared table, first on the search
    path while the block runs; dropped afterwards, whatever happens."""
    scratch = f"replay_{uuid.uuid4().hex[:12]}"
    conn.execute(f"CREATE SCHEMA {scratch}")
    try:
        for table in COMPARED_COLUMNS:
            conn.execute(f"CREATE TABLE {scratch}.{table} (LIKE public.{table} INCLUDING ALL)")
        conn.execute(f"SET search_path TO {scratch}, public")
        yield scratch
    finally:
        conn.execute("RESET search_path")
        conn.execute(f"DROP SCHEMA IF EXISTS {scratch} CASCADE")


def replace_live(conn: psycopg.Connection, scratch: str) -> None:
    """Copy every rebuilt table over its live one (inside the caller's transaction), and
    record the rebuild: documents published before it are not served after it."""
    for table in COMPARED_COLUMNS:
        conn.execute(f"DELETE FROM public.{table}")
        conn.execute(f"INSERT INTO public.{table} SELECT * FROM {scratch}.{table}")
    conn.execute("INSERT INTO public.projection_rebuilds DEFAULT VALUES")


def compare(conn: psycopg.Connection, scratch: str, table: str) -> TableComparison:
    """Row for row: a row is only live (or only replayed) when the other table has no row
    with its key or that row differs in any compared column. Both tables have the same
    primary key (the scratch one is made LIKE the live one), so this counts exactly what
    `EXCEPT ALL` would, but joins on the key instead of sorting whole rows (a million
    events make about half a million register spans, each with a JSON state)."""
    keys, values = COMPARED_COLUMNS[table]
    matched = " AND ".join(f"l.{key} = r.{key}" for key in keys)
    differs = (
        f"ROW({', '.join(f'l.{v}' for v in values)}) IS DISTINCT FROM"
        f" ROW({', '.join(f'r.{v}' for v in values)})"
    )
    key = keys[0]
    counts = conn.execute(
        f"""
        SELECT count(l.{key}), count(r.{key}),
               count(*) FILTER (WHERE l.{key} IS NOT NULL AND (r.{key} IS NULL OR {differs})),
               count(*) FILTER (WHERE r.{key} IS NOT NULL AND (l.{key} IS NULL OR {differs}))
        FROM public.{table} l FULL JOIN {scratch}.{table} r ON {matched}
        """
    ).fetchone()
    assert counts is not None
    return TableComparison(table, *(int(n) for n in counts))
