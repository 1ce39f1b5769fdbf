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
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby

import psycopg
from psycopg.types.json import Jsonb

from schemas.envelope import Event
from streams.cohort import timeline
from streams.jsna import Cell, changes
from streams.linkage import link
from streams.measures import MeasureDelta, add_up
from streams.person_measures import person_contributions
from streams.projection import ProjectionSettings, project
from warehouse.cohort_store import (
    EVENT_COLUMNS,
    PostgresProjectionStore,
    event_from_row,
    state_to_json,
)
from warehouse.event_store import APPEND_LOCK
from warehouse.measures import add_measures, upsert_measures

COMPARED_COLUMNS = {
    "kpi_measures": "kpi_id, period, numerator, denominator",
    "person_links": "pseudonym, person_id",
    "cohort_history": "person_id, valid_from, valid_to, state, caused_by",
    "jsna_cell_changes": "as_at, send_status, dimension, value, change",
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
        done = _rebuild_bulk(conn, settings, watermark, progress, total)
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


def _rebuild_bulk(
    conn: psycopg.Connection,
    settings: ProjectionSettings,
    up_to: int,
    progress: Progress | None,
    total: int,
) -> int:
    """Everything up to `up_to` in one pass per projection, with the projections' own rules.

    Link every pseudonym pair first, then read the events grouped by person (a
    server-side cursor, so memory stays flat) and fold each person once. The result
    is the state the incremental path reaches; the comparison proves it.
    """
    pairs = conn.execute(
        "SELECT DISTINCT nhs_pseudonym, upn_pseudonym FROM public.events WHERE sequence <= %s",
        (up_to,),
    ).fetchall()
    groups = [
        frozenset(
            key for key in (f"nhs:{nhs}" if nhs else None, f"upn:{upn}" if upn else None) if key
        )
        for nhs, upn in pairs
    ]
    people = link({}, groups).people
    with (
        conn.transaction(),
        conn.cursor() as cursor,
        cursor.copy("COPY person_links (pseudonym, person_id) FROM STDIN") as copy,
    ):
        for person_id, members in people.items():
            for pseudonym in members:
                copy.write_row((pseudonym, person_id))
    ends = settings.month_ends()
    cells: Counter[Cell] = Counter()
    measures: list[Event] = []
    person_measures: list[MeasureDelta] = []
    done = 0
    history: list[tuple[object, ...]] = []
    with conn.transaction():
        with conn.cursor(name="replay_events") as events:
            events.itersize = 5_000
            events.execute(
                f"""
                SELECT l.person_id, {_prefixed(EVENT_COLUMNS)}
                FROM public.events e
                JOIN person_links l ON l.pseudonym = CASE
                    WHEN e.nhs_pseudonym IS NOT NULL THEN 'nhs:' || e.nhs_pseudonym
                    ELSE 'upn:' || e.upn_pseudonym END
                WHERE e.sequence <= %s
                ORDER BY l.person_id
                """,
                (up_to,),
            )
            for person_id, rows in groupby(events, key=lambda row: row[0]):
                person_events = [event_from_row(row[1:]) for row in rows]
                spans = timeline(person_events)
                history.extend(
                    (
                        person_id,
                        span.valid_from,
                        span.valid_to,
                        Jsonb(state_to_json(span.state)),
                        list(span.caused_by),
                    )
                    for span in spans
                )
                cells.update(changes(spans, ends, settings.locality_of))
                measures.extend(person_events)
                person_measures.extend(person_contributions(person_events, spans))
                done += len(person_events)
                if len(measures) >= 20_000:  # between fetches: flush what has been folded
                    add_measures(conn, measures)
                    upsert_measures(conn, add_up(person_measures))
                    _copy_history(conn, history)
                    measures.clear()
                    person_measures.clear()
                    history.clear()
                    if progress is not None:
                        progress(done, total)
        add_measures(conn, measures)
        upsert_measures(conn, add_up(person_measures))
        _copy_history(conn, history)
        with (
            conn.cursor() as cursor,
            cursor.copy(
                "COPY jsna_cell_changes (as_at, send_status, dimension, value, change) FROM STDIN"
            ) as copy,
        ):
            for cell, people_count in cells.items():
                if people_count:
                    copy.write_row((*cell, people_count))
    # events with no pseudonym reach no person but still count towards KPIs
    orphans = conn.execute(
        f"SELECT {EVENT_COLUMNS} FROM public.events"
        " WHERE sequence <= %s AND nhs_pseudonym IS NULL AND upn_pseudonym IS NULL",
        (up_to,),
    ).fetchall()
    if orphans:
        with conn.transaction():
            add_measures(conn, [event_from_row(row) for row in orphans])
        done += len(orphans)
    return done


def _copy_history(conn: psycopg.Connection, rows: list[tuple[object, ...]]) -> None:
    with (
        conn.cursor() as cursor,
        cursor.copy(
            "COPY cohort_history (person_id, valid_from, valid_to, state, caused_by) FROM STDIN"
        ) as copy,
    ):
        for row in rows:
            copy.write_row(row)


def _prefixed(columns: str) -> str:
    return ", ".join(f"e.{name.strip()}" for name in columns.split(","))


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
