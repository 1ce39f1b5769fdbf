"""Writing KPI measure deltas to `kpi_measures`: the one place monthly figures change.

Deltas add to a (KPI, month) row; a row whose numerator and denominator both come
back to zero (a retraction cancelled it) is deleted, so the live table and a
replay's rebuild hold the same rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import psycopg

from schemas.envelope import Event
from streams.measures import MeasureDelta, sum_contributions


def upsert_measures(conn: psycopg.Connection, deltas: Sequence[MeasureDelta]) -> None:
    if not deltas:
        return
    rows = [(d.kpi_id, d.period, d.numerator, d.denominator) for d in deltas]
    with conn.cursor() as cursor:
        cursor.executemany(
            """
            INSERT INTO kpi_measures (kpi_id, period, numerator, denominator)
            VALUES (%s, %s, %s, %s)
            ON CONFLICT (kpi_id, period) DO UPDATE SET
                numerator = kpi_measures.numerator + EXCLUDED.numerator,
                denominator = kpi_measures.denominator + EXCLUDED.denominator,
                updated_at = now()
            """,
            rows,
        )
        if any(n < 0 or d < 0 for _, _, n, d in rows):
            cursor.execute(
                "DELETE FROM kpi_measures WHERE numerator = 0 AND denominator = 0"
                " AND kpi_id = ANY(%s)",
                (sorted({row[0] for row in rows}),),
            )


def add_measures(conn: psycopg.Connection, events: Iterable[Event]) -> None:
    """The single-event KPI contributions of `events`, added."""
    upsert_measures(conn, sum_contributions(events))
