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

import logging
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import psycopg

from pipelines.replay_fold import Share, fold_people
from pipelines.replay_processes import Parallel, fold_in_processes
from pipelines.replay_tables import (
    COMPARED_COLUMNS,
    TableComparison,
    compare,
    replace_live,
    scratch_tables,
)
from streams.jsna import Cell
from streams.linkage import link
from streams.measures import add_up
from streams.projection import ProjectionSettings
from streams.worker.unit_of_work import apply_projections
from warehouse.cohort_store import event_from_row
from warehouse.event_store import APPEND_LOCK, EVENT_COLUMNS, in_effect_sql
from warehouse.measures import add_measures, upsert_measures

BATCH_EVENTS = 5_000
MAX_WORKERS = 4
PARALLEL_FROM_EVENTS = 50_000

log = logging.getLogger("hub.replay")


@dataclass(frozen=True)
class ReplayReport:
    events: int
    seconds: float
    tables: tuple[TableComparison, ...]
    applied: bool
    phases: tuple[tuple[str, float], ...] = ()  # (phase, seconds) of the three main phases

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
    dsn: str | None = None,
    workers: int | None = None,
) -> ReplayReport:
    """Rebuild the projections in a scratch schema, compare them with the live ones.

    Given the warehouse's `dsn` (and an autocommit `conn`, so the scratch schema is
    visible to other sessions), people are folded in `workers` processes, by default
    one per core once the store holds 50,000 events; without it, in this process.
    """
    started = time.monotonic()
    total_row = conn.execute(
        "SELECT count(*) FILTER (WHERE erased_at IS NULL), coalesce(max(sequence), 0) FROM events"
    ).fetchone()
    total, watermark = (int(total_row[0]), int(total_row[1])) if total_row else (0, 0)
    if workers is None:  # starting a process costs about a second: worth it for large stores
        workers = min(os.cpu_count() or 1, MAX_WORKERS) if total >= PARALLEL_FROM_EVENTS else 1
    with scratch_tables(conn) as scratch:
        parallel = Parallel(dsn, scratch, workers) if dsn and conn.autocommit else None
        done, phases = _rebuild_bulk(conn, settings, watermark, progress, total, parallel)
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK,))
            latest = conn.execute("SELECT coalesce(max(sequence), 0) FROM events").fetchone()
            end = int(latest[0]) if latest else watermark
            done += _rebuild(conn, settings, watermark, end, batch_events, None, total)
            compared = time.monotonic()
            tables = tuple(compare(conn, scratch, table) for table in COMPARED_COLUMNS)
            phases.append(("comparing", time.monotonic() - compared))
            log.info("replay: tables compared in %.1fs", phases[-1][1])
            if apply:
                replace_live(conn, scratch)
    return ReplayReport(done, time.monotonic() - started, tables, apply, tuple(phases))


def _rebuild_bulk(
    conn: psycopg.Connection,
    settings: ProjectionSettings,
    up_to: int,
    progress: Progress | None,
    total: int,
    parallel: Parallel | None,
) -> tuple[int, list[tuple[str, float]]]:
    """Everything up to `up_to` in one pass per projection, with the projections' own rules.

    Link every pseudonym pair first, then read the events grouped by person (a
    server-side cursor, so memory stays flat) and fold each person once. The result
    is the state the incremental path reaches; the comparison proves it. People are
    independent of each other once linked, so with `parallel` they are shared out
    between processes by a hash of their id, one core each.
    """
    started = time.monotonic()
    pairs = conn.execute(
        "SELECT DISTINCT nhs_pseudonym, upn_pseudonym FROM public.events"
        " WHERE sequence <= %s AND erased_at IS NULL",
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
    # fresh statistics before the fold's join: without them the planner takes `erased_at IS
    # NULL` on a newly loaded store for a rare case and joins by nested loops (a rebuild of
    # 320,000 events ran for more than 7 minutes instead of seconds)
    conn.execute("ANALYZE public.events")
    conn.execute("ANALYZE person_links")
    linking = time.monotonic() - started
    log.info("replay: %d people linked in %.1fs", len(people), linking)
    if parallel is not None and parallel.workers > 1:
        folded = fold_in_processes(parallel, settings, up_to, progress, total)
    else:
        folded = [fold_people(conn, settings, up_to, Share(0, 1), _reporter(progress, total))]
    folding = time.monotonic() - started - linking
    log.info("replay: people folded in %.1fs", folding)
    cells: Counter[Cell] = Counter()
    for share in folded:
        cells.update(share.cells)
    with conn.transaction():
        upsert_measures(conn, add_up(d for share in folded for d in share.measures))
        with (
            conn.cursor() as cursor,
            cursor.copy(
                "COPY jsna_cell_changes (as_at, send_status, dimension, value, change) FROM STDIN"
            ) as copy,
        ):
            for cell, people_count in cells.items():
                if people_count:
                    copy.write_row((*cell, people_count))
    done = sum(share.events for share in folded)
    # events with no pseudonym reach no person but still count towards KPIs
    orphans = conn.execute(
        f"SELECT {EVENT_COLUMNS} FROM public.events e WHERE e.sequence <= %(up_to)s"
        " AND e.nhs_pseudonym IS NULL AND e.upn_pseudonym IS NULL"
        f" AND {in_effect_sql('e', '%(up_to)s')}",
        {"up_to": up_to},
    ).fetchall()
    if orphans:
        with conn.transaction():
            add_measures(conn, [event_from_row(row) for row in orphans])
        done += len(orphans)
    return done, [("linking", linking), ("folding", folding)]


def _reporter(progress: Progress | None, total: int) -> Callable[[int], None]:
    def report(done: int) -> None:
        if progress is not None:
            progress(done, total)

    return report


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
            " WHERE sequence > %s AND sequence <= %s AND erased_at IS NULL"
            " ORDER BY sequence LIMIT %s",
            (last, up_to, batch_events),
        ).fetchall()
        if not rows:
            break
        events = [event_from_row(row[1:]) for row in rows]
        last = int(rows[-1][0])
        with conn.transaction():
            apply_projections(conn, events, settings, up_to_sequence=last)
        done += len(events)
        if progress is not None:
            progress(done, total)
    return done
