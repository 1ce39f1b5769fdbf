"""One unit of work per batch: store the new events, then bring every view up to date.

Two steps in one PostgreSQL transaction: the event store appends the events it has
not seen (`warehouse.event_store.append_new`, which also records the supersessions a
correction or withdrawal causes), then the projections are applied to exactly those
(`apply_projections`: the single-event KPI measures, and with `ProjectionSettings` the
cohort register, JSNA cells and person measures). A revision that went out of effect
has its contribution retracted and the one that came in added (`streams.revisions`). Storage
only stores and the domain only computes; this module is where the two meet, so the
worker's batch writer, `hub quarantine release` and `hub replay` apply events the
same way. The idempotency record (the events table) commits with the effects, so a
re-delivered batch changes nothing.

The worker passes a `CurrentProjection`: the settings are read once the append lock is
held, and read again from the warehouse whenever reference data was loaded since, so a
batch is never projected with localities older than the tables it writes to.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import psycopg

from schemas.envelope import Event
from schemas.manifest import ExtractManifest
from streams.measures import add_up, retract, sum_contributions
from streams.projection import ProjectionSettings, project
from streams.revisions import revision_change
from warehouse.cohort_store import PostgresProjectionStore, projection_settings, record_horizon
from warehouse.event_store import append_new, earlier_revisions, record_manifests
from warehouse.measures import upsert_measures
from warehouse.reference import reference_version

# fixed settings, or a function reading them on the batch's connection
Projection = ProjectionSettings | Callable[[psycopg.Connection], ProjectionSettings]


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
    change = revision_change(earlier_revisions(conn, events, up_to_sequence), events)
    upsert_measures(
        conn,
        add_up(
            [
                *sum_contributions(change.applied),
                *retract(sum_contributions(change.retracted)),
            ]
        ),
    )
    if projection is not None:
        project(PostgresProjectionStore(conn, up_to_sequence), events, projection, change)


class CurrentProjection:
    """The projection's settings as the warehouse holds them, read again after each load
    of reference data (a new `reference_loads` id) and otherwise kept."""

    def __init__(self) -> None:
        self._settings: ProjectionSettings | None = None
        self._version = -1

    def __call__(self, conn: psycopg.Connection) -> ProjectionSettings:
        version = reference_version(conn)
        if self._settings is None or version != self._version:
            self._settings, self._version = projection_settings(conn), version
        return self._settings


def apply_batch(
    conn: psycopg.Connection,
    events: Sequence[Event],
    manifests: Sequence[ExtractManifest] = (),
    projection: Projection | None = None,
) -> BatchOutcome:
    """Append new events, apply them to every view and record manifests, atomically."""
    with conn.transaction():
        new = append_new(conn, events)  # holds the append lock until the transaction ends
        if new:
            settings = projection(conn) if callable(projection) else projection
            if settings is not None:
                record_horizon(conn, settings)
            apply_projections(conn, new, settings)
        record_manifests(conn, manifests)
    return BatchOutcome(
        appended=len(new), duplicates=len(events) - len(new), manifests=len(manifests)
    )
