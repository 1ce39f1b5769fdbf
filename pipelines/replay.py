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
import multiprocessing
import multiprocessing.queues
import os
import queue
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby

import psycopg

from hub.processes import die_with_parent
from streams.cohort import timeline
from streams.jsna import Cell, changes
from streams.linkage import link
from streams.measures import MeasureDelta, add_up, contributions
from streams.person_measures import person_contributions
from streams.projection import ProjectionSettings
from streams.unit_of_work import apply_projections
from warehouse.cohort_store import (
    EVENT_COLUMNS,
    event_from_row,
    state_jsonb,
)
from warehouse.connection import connect
from warehouse.event_store import APPEND_LOCK
from warehouse.measures import add_measures, upsert_measures

# table -> (its primary key, the other columns compared)
COMPARED_COLUMNS = {
    "kpi_measures": (("kpi_id", "period"), ("numerator", "denominator")),
    "person_links": (("pseudonym",), ("person_id",)),
    "cohort_history": (("person_id", "valid_from"), ("valid_to", "state", "caused_by")),
    "jsna_cell_changes": (("as_at", "send_status", "dimension", "value"), ("change",)),
}
BATCH_EVENTS = 5_000
MAX_WORKERS = 4
PARALLEL_FROM_EVENTS = 50_000

log = logging.getLogger("hub.replay")


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
    scratch = f"replay_{uuid.uuid4().hex[:12]}"
    total_row = conn.execute("SELECT count(*), coalesce(max(sequence), 0) FROM events").fetchone()
    total, watermark = (int(total_row[0]), int(total_row[1])) if total_row else (0, 0)
    if workers is None:  # starting a process costs about a second: worth it for large stores
        workers = min(os.cpu_count() or 1, MAX_WORKERS) if total >= PARALLEL_FROM_EVENTS else 1
    parallel = Parallel(dsn, scratch, workers) if dsn and conn.autocommit else None
    conn.execute(f"CREATE SCHEMA {scratch}")
    try:
        for table in COMPARED_COLUMNS:
            conn.execute(f"CREATE TABLE {scratch}.{table} (LIKE public.{table} INCLUDING ALL)")
        conn.execute(f"SET search_path TO {scratch}, public")
        phases: dict[str, float] = {}
        done = _rebuild_bulk(conn, settings, watermark, progress, total, parallel, phases)
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK,))
            latest = conn.execute("SELECT coalesce(max(sequence), 0) FROM events").fetchone()
            end = int(latest[0]) if latest else watermark
            done += _rebuild(conn, settings, watermark, end, batch_events, None, total)
            compared = time.monotonic()
            tables = tuple(_compare(conn, scratch, table) for table in COMPARED_COLUMNS)
            phases["comparing"] = time.monotonic() - compared
            log.info("replay: tables compared in %.1fs", phases["comparing"])
            if apply:
                for table in COMPARED_COLUMNS:
                    conn.execute(f"DELETE FROM public.{table}")
                    conn.execute(f"INSERT INTO public.{table} SELECT * FROM {scratch}.{table}")
    finally:
        conn.execute("RESET search_path")
        conn.execute(f"DROP SCHEMA IF EXISTS {scratch} CASCADE")
    return ReplayReport(done, time.monotonic() - started, tables, apply, tuple(phases.items()))


def _rebuild_bulk(
    conn: psycopg.Connection,
    settings: ProjectionSettings,
    up_to: int,
    progress: Progress | None,
    total: int,
    parallel: Parallel | None,
    phases: dict[str, float],
) -> int:
    """Everything up to `up_to` in one pass per projection, with the projections' own rules.

    Link every pseudonym pair first, then read the events grouped by person (a
    server-side cursor, so memory stays flat) and fold each person once. The result
    is the state the incremental path reaches; the comparison proves it. People are
    independent of each other once linked, so with `parallel` they are shared out
    between processes by a hash of their id, one core each.
    """
    started = time.monotonic()
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
    phases["linking"] = time.monotonic() - started
    log.info("replay: %d people linked in %.1fs", len(people), phases["linking"])
    if parallel is not None and parallel.workers > 1:
        folded = _fold_in_processes(parallel, settings, up_to, progress, total)
    else:
        folded = [_fold_people(conn, settings, up_to, Share(0, 1), _reporter(progress, total))]
    phases["folding"] = time.monotonic() - started - phases["linking"]
    log.info("replay: people folded in %.1fs", phases["folding"])
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
        f"SELECT {EVENT_COLUMNS} FROM public.events"
        " WHERE sequence <= %s AND nhs_pseudonym IS NULL AND upn_pseudonym IS NULL",
        (up_to,),
    ).fetchall()
    if orphans:
        with conn.transaction():
            add_measures(conn, [event_from_row(row) for row in orphans])
        done += len(orphans)
    return done


@dataclass(frozen=True)
class Parallel:
    """How to fold people in other processes: where the warehouse is, the scratch schema
    they write the histories into, and how many processes."""

    dsn: str
    scratch: str
    workers: int


@dataclass(frozen=True)
class Share:
    """Which people one process folds: those whose id hashes to `index` modulo `of`."""

    index: int
    of: int


@dataclass(frozen=True)
class Folded:
    """What folding a share of the people gave, besides the histories already written."""

    events: int
    cells: Counter[Cell]
    measures: list[MeasureDelta]


def _reporter(progress: Progress | None, total: int) -> Callable[[int], None]:
    def report(done: int) -> None:
        if progress is not None:
            progress(done, total)

    return report


def _fold_people(
    conn: psycopg.Connection,
    settings: ProjectionSettings,
    up_to: int,
    share: Share,
    report: Callable[[int], None],
) -> Folded:
    """Fold each person of the share once, from all their events: histories are written
    to `cohort_history` (in the search path's schema), cells and measures returned."""
    ends = settings.month_ends()
    cells: Counter[Cell] = Counter()
    measures: list[MeasureDelta] = []
    history: list[tuple[object, ...]] = []
    done = 0
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
                WHERE e.sequence <= %s AND (hashtext(l.person_id) & 2147483647) %% %s = %s
                ORDER BY l.person_id
                """,
                (up_to, share.of, share.index),
            )
            pending = 0
            for person_id, rows in groupby(events, key=lambda row: row[0]):
                person_events = [event_from_row(row[1:]) for row in rows]
                spans = timeline(person_events)
                history.extend(
                    (
                        person_id,
                        span.valid_from,
                        span.valid_to,
                        state_jsonb(span.state),
                        list(span.caused_by),
                    )
                    for span in spans
                )
                cells.update(changes(spans, ends, settings.locality_of))
                measures.extend(d for event in person_events for d in contributions(event))
                measures.extend(person_contributions(person_events, spans))
                done += len(person_events)
                pending += len(person_events)
                if pending >= 20_000:  # between fetches: write what has been folded
                    _copy_history(conn, history)
                    history.clear()
                    measures = add_up(measures)
                    pending = 0
                    report(done)
        _copy_history(conn, history)
    report(done)
    return Folded(done, cells, add_up(measures))


def _fold_share(
    parallel: Parallel,
    settings: ProjectionSettings,
    up_to: int,
    share: Share,
    messages: multiprocessing.queues.Queue[tuple[str, int, object]],
) -> None:
    """A replay process: fold one share of the people, say how far it got, hand back the rest."""
    die_with_parent()  # a replay stopped by a signal leaves no process folding behind
    try:
        with connect(parallel.dsn) as conn:
            conn.execute(f"SET search_path TO {parallel.scratch}, public")
            folded = _fold_people(
                conn,
                settings,
                up_to,
                share,
                lambda done: messages.put(("progress", share.index, done)),
            )
        messages.put(("done", share.index, folded))
    except Exception as error:  # the parent raises it; name the kind, never a value
        sqlstate = getattr(error, "sqlstate", None)
        messages.put(("failed", share.index, f"{type(error).__name__} (SQLSTATE {sqlstate})"))


def _fold_in_processes(
    parallel: Parallel,
    settings: ProjectionSettings,
    up_to: int,
    progress: Progress | None,
    total: int,
) -> list[Folded]:
    context = multiprocessing.get_context("spawn")  # no fork: the parent may hold threads
    messages: multiprocessing.queues.Queue[tuple[str, int, object]] = context.Queue()
    processes = [
        context.Process(
            target=_fold_share,
            args=(parallel, settings, up_to, Share(index, parallel.workers), messages),
            name=f"replay-{index}",
            daemon=True,
        )
        for index in range(parallel.workers)
    ]
    for process in processes:
        process.start()
    done = [0] * parallel.workers
    folded: dict[int, Folded] = {}
    try:
        while len(folded) < len(processes):
            try:
                kind, index, body = messages.get(timeout=1.0)
            except queue.Empty:
                lost = [
                    p.name for i, p in enumerate(processes) if i not in folded and not p.is_alive()
                ]
                if not lost:
                    continue
                try:  # a result sent just before its process ended may still be on its way
                    kind, index, body = messages.get(timeout=1.0)
                except queue.Empty:
                    raise ReplayFailed(
                        f"replay process {lost[0]} ended without its result"
                    ) from None
            if kind == "progress":
                done[index] = int(str(body))
                if progress is not None:
                    progress(sum(done), total)
            elif kind == "done" and isinstance(body, Folded):
                folded[index] = body
            else:
                raise ReplayFailed(f"replay process {index} failed: {body}")
    finally:
        for process in processes:
            if process.is_alive() and len(folded) < len(processes):
                process.terminate()
            process.join(timeout=10)
    return [folded[index] for index in sorted(folded)]


class ReplayFailed(RuntimeError):
    """A replay process failed; the message names the kind of error, never a value."""


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
            apply_projections(conn, events, settings, up_to_sequence=last)
        done += len(events)
        if progress is not None:
            progress(done, total)
    return done


def _compare(conn: psycopg.Connection, scratch: str, table: str) -> TableComparison:
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
