"""Reference data as an input like any other: load it, and every figure follows at once.

Loading LSOA-to-locality or population figures records the load, then rebuilds every
projection from the event store with the new figures (replay, applied), so each JSNA
cell is what it would have been had the figures been there from the start. Population
denominators and published comparators are read when a rate or a scorecard is shown, so
they need no rebuild. The worker reads the new figures before its next batch
(`streams/worker/unit_of_work.CurrentProjection`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg

from pipelines.replay import ReplayReport, replay
from streams.comparators import Comparator
from warehouse.cohort_store import projection_settings
from warehouse.reference import load_reference


@dataclass(frozen=True)
class ReferenceApplied:
    load_id: int
    rebuild: ReplayReport


def apply_reference(
    conn: psycopg.Connection,
    localities: Sequence[tuple[str, ...]],
    population: Sequence[tuple[str, ...]],
    *,
    loaded_by: str,
    dsn: str | None = None,
    comparators: Sequence[Comparator] = (),
) -> ReferenceApplied:
    """Load the reference data, record the load, and rebuild the projections with it."""
    load_id = load_reference(conn, localities, population, loaded_by, comparators)
    report = replay(conn, projection_settings(conn), apply=True, dsn=dsn)
    return ReferenceApplied(load_id, report)
