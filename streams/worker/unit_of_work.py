"""One unit of work per batch: store the new events, then bring every view up to date.

Two steps in one PostgreSQL transaction: the event store appends the events it has
not seen (`warehouse.event_store.append_new`), then the projections are applied to
exactly those (`apply_projections`: the single-event KPI measures, and with
`ProjectionSettings` the cohort register, JSNA cells and person measures). Storage
only stores and the domain only computes; this module is where the two meet, so the
worker's batch writer, `hub quarantine release` and `hub replay` apply events the
same way. The idempotency record (the events table) commits with the effects, so a
re-delivered batch changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg

from schemas.envelope import Event
from schemas.manifest import ExtractManifest
from streams.projection import ProjectionSettings, project
from warehouse.cohort_store import PostgresProjectionStore, record_horizon
from warehouse.event_store import append_new, record_manifests
from warehouse.measures import add_measures


@dataclass(frozen=True)
class BatchOutcome:
    appended: int
    duplicates: int
    manifests: int


def apply_projections(
    conn: psycopg.Connection,
    events: Sequence[Event],
    projection: ProjectionSettings | None,
    *,
    up_to_sequence: int | None = None,
) -> None:
    """Apply events just accepted by the event store to the views (inside the caller's
    transaction). `up_to_sequence` makes the register read the store as it was then."""
    add_measures(conn, events)
    if projection is not None:
        project(PostgresProjectionStore(conn, up_to_sequence), events, projection)


def apply_batch(
    conn: psycopg.Connection,
    events: Sequence[Event],
    manifests: Sequence[ExtractManifest] = (),
    projection: ProjectionSettings | None = None,
) -> BatchOutcome:
    """Append new events, apply them to every view and record manifests, atomically."""
    with conn.transaction():
        new = append_new(conn, events)
        if new:
            if projection is not None:
                record_horizon(conn, projection)
            apply_projections(conn, new, projection)
        record_manifests(conn, manifests)
    return BatchOutcome(
        appended=len(new), duplicates=len(events) - len(new), manifests=len(manifests)
    )
