"""Reading the balanced scorecard out of `kpi_measures`: one document for CLI and API alike."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg

from streams.scorecard import CATALOGUE, KpiResult


def measure_kpis(
    conn: psycopg.Connection,
    period_from: dt.date | None = None,
    period_to: dt.date | None = None,
) -> list[KpiResult]:
    """Every KPI of the catalogue summed over the months in [period_from, period_to]."""
    rows = conn.execute(
        """
        SELECT kpi_id, sum(numerator), sum(denominator), min(period), max(period)
        FROM kpi_measures
        WHERE (%(from)s::date IS NULL OR period >= %(from)s::date)
          AND (%(to)s::date IS NULL OR period <= %(to)s::date)
        GROUP BY kpi_id
        """,
        {"from": period_from, "to": period_to},
    ).fetchall()
    by_id = {row[0]: row for row in rows}
    results = []
    for kpi in CATALOGUE:
        row = by_id.get(kpi.id)
        if row is None:
            results.append(KpiResult(kpi, 0, 0, None, None))
        else:
            results.append(KpiResult(kpi, int(row[1]), int(row[2]), row[3], row[4]))
    return results


def scorecard_document(
    conn: psycopg.Connection,
    period_from: dt.date | None = None,
    period_to: dt.date | None = None,
) -> dict[str, Any]:
    """The scorecard as JSON-ready data: what `hub scorecard --format json` and the API return."""
    as_at = conn.execute(
        "SELECT max(occurred_at) FROM events WHERE event_type = 'EhcPlanIssued'"
    ).fetchone()
    latest = as_at[0] if as_at else None
    return {
        "as_at": latest.date().isoformat() if latest else None,
        "kpis": [result.as_dict() for result in measure_kpis(conn, period_from, period_to)],
    }
