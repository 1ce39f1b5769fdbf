"""Replay: rebuild every projection from the event store and prove it equal to the live one.

The projections (KPI measures, person links, cohort history, JSNA cells) are
rebuilt in a scratch schema by the same code the worker runs, reading the event
store in batches in arrival order, without the broker. Then each table is
compared with the live one, row for row. With `apply`, the rebuilt tables
replace the live ones: that is how a changed KPI definition reaches every past
period.

While the final catch-up, comparison and swap run, the event store's append lock
is held, so the worker waits rather than changing the live tables under us.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import psycopg

from streams.projection import ProjectionSettings, project
from warehouse.cohort_store import EVENT_COLUMNS, PostgresProjectionStore, event_from_row
from warehouse.event_store import APPEND_LOCK, add_measures

COMPARED_COLUMNS = {
    "kpi_measures": "kpi_id, period, numerator, denominator",
    "person_links": "pseudonym, person_id",
    "cohort_history": "person_id, valid_from, valid_to, state, caused_by",
    "jsna_cells": "as_at, send_status, dimension, value, people",
}
BATCH_EVENTS = 5_000


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


@dataclass(frozen=True)
class ReplayReport:
    events: int
    seconds: float
    tables: tuple[TableComparison, ...]
    applied: bool

    @property
    def equal(self) -> bool:
        return all(table.equal for table in self.tables)


Progress = Callable[[int, int], None]


def replay(
    conn: psycopg.Connection,
    settings: ProjectionSettings,
    *,
    apply: bool = False,
    batch_events: int = BATCH_EVENTS,
    progress: Progress | None = None,
) -> ReplayReport:
    """Rebuild the projections in a scratch schema, compare them with the live ones."""
    started = time.monotonic()
    scratch = f"replay_{uuid.uuid4().hex[:12]}"
    total_row = conn.execute("SELECT count(*), coalesce(max(sequence), 0) FROM events").fetchone()
    total, watermark = (int(total_row[0]), int(total_row[1])) if total_row else (0, 0)
    conn.execute(f"CREATE SCHEMA {scratch}")
    try:
        for table in COMPARED_COLUMNS:
            conn.execute(f"CREATE TABLE {scratch}.{table} (LIKE public.{table} INCLUDING ALL)")
        conn.execute(f"SET search_path TO {scratch}, public")
        done = _rebuild(conn, settings, 0, watermark, batch_events, progress, total)
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK,))
            latest = conn.execute("SELECT coalesce(max(sequence), 0) FROM events").fetchone()
            end = int(latest[0]) if latest else watermark
            done += _rebuild(conn, settings, watermark, end, batch_events, None, total)
            tables = tuple(_compare(conn, scratch, table) for table in COMPARED_COLUMNS)
            if apply:
                for table in COMPARED_COLUMNS:
                    conn.execute(f"DELETE FROM public.{table}")
                    conn.execute(f"INSERT INTO public.{table} SELECT * FROM {scratch}.{table}")
    finally:
        conn.execute("RESET search_path")
        conn.execute(f"DROP SCHEMA IF EXISTS {scratch} CASCADE")
    return ReplayReport(done, time.monotonic() - started, tables, apply)


def _rebuild(
    conn: psycopg.Connection,
    settings: ProjectionSettings,
    after: int,
    up_to: int,
    batch_events: int,
    progress: Progress | None,
    total: int,
) -> int:
    done = 0
    last = after
    while last < up_to:
        rows = conn.execute(
            f"SELECT sequence, {EVENT_COLUMNS} FROM public.events"
            " WHERE sequence > %s AND sequence <= %s ORDER BY sequence LIMIT %s",
            (last, up_to, batch_events),
        ).fetchall()
        if not rows:
            break
        events = [event_from_row(row[1:]) for row in rows]
        last = int(rows[-1][0])
        with conn.transaction():
            add_measures(conn, events)
            project(PostgresProjectionStore(conn, up_to_sequence=last), events, settings)
        done += len(events)
        if progress is not None:
            progress(done, total)
    return done


def _compare(conn: psycopg.Connection, scratch: str, table: str) -> TableComparison:
    columns = COMPARED_COLUMNS[table]
    live = f"SELECT {columns} FROM public.{table}"
    rebuilt = f"SELECT {columns} FROM {scratch}.{table}"
    counts = conn.execute(
        f"""
        SELECT (SELECT count(*) FROM public.{table}), (SELECT count(*) FROM {scratch}.{table}),
               (SELECT count(*) FROM ({live} EXCEPT ALL {rebuilt}) only_live),
               (SELECT count(*) FROM ({rebuilt} EXCEPT ALL {live}) only_replayed)
        """
    ).fetchone()
    assert counts is not None
    return TableComparison(table, *(int(n) for n in counts))
