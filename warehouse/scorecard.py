"""Reading the balanced scorecard from PostgreSQL: the engine's inputs, loaded once.

The engine (`streams/scorecard_engine.py`, pure) evaluates every KPI declaration over
a span of months; this module runs the queries that feed it (KPI measures, the
cohort counts the catalogue reads, the reference population, the published comparators)
and the JSNA tables its stock figures are protected with, and hands them to
`streams/scorecard_publication.py`, which shapes the protected document the CLI and the
API return.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import psycopg

from streams.disclosure import Rule
from streams.kpi import KpiResult
from streams.publication import Publication
from streams.scorecard_engine import ScorecardInputs, cohort_keys, evaluate
from streams.scorecard_publication import needed_months, publication_periods, publish_scorecard
from warehouse.publication import month_tables, publication_rule
from warehouse.publication_cache import published
from warehouse.reference import comparators


def load_inputs(conn: psycopg.Connection) -> ScorecardInputs:
    measures = {
        (kpi_id, period): (int(n), int(d))
        for kpi_id, period, n, d in conn.execute(
            "SELECT kpi_id, period, numerator, denominator FROM kpi_measures"
        ).fetchall()
    }
    keys = sorted(cohort_keys())
    cohort: dict[tuple[dt.date, str, str, str], int] = defaultdict(int)
    for as_at, status, dimension, value, people in conn.execute(
        """
        SELECT as_at, send_status, dimension, value, people FROM jsna_cells_by_month
        WHERE (dimension, value) IN (SELECT * FROM unnest(%s::text[], %s::text[]))
        """,
        ([k[0] for k in keys], [k[1] for k in keys]),
    ).fetchall():
        cohort[(as_at.replace(day=1), status, dimension, value)] += int(people)
    population = {
        int(year): int(people)
        for year, people in conn.execute(
            "SELECT year, people FROM reference_population"
            " WHERE dimension = 'all' AND value = 'all'"
        ).fetchall()
    }
    return ScorecardInputs(measures, dict(cohort), population, comparators(conn))


def scorecard_as_at(conn: psycopg.Connection) -> dt.date | None:
    """The day of the latest event the hub holds (the scorecard speaks as at then)."""
    row = conn.execute("SELECT max(occurred_at) FROM events").fetchone()
    return row[0].date() if row and row[0] else None


def measure_kpis(
    conn: psycopg.Connection,
    period_from: dt.date | None = None,
    period_to: dt.date | None = None,
    as_at: dt.date | None = None,
) -> list[KpiResult]:
    """Every KPI of the catalogue over [period_from, period_to] (see `evaluate`)."""
    return evaluate(load_inputs(conn), period_from, period_to, as_at)


def published_scorecard(
    conn: psycopg.Connection,
    period_from: dt.date | None = None,
    period_to: dt.date | None = None,
    rule: Rule | None = None,
) -> Publication:
    """The scorecard as published, with the ledger the disclosure audit attacks.

    Each KPI's measures are protected with their totals over the publication periods of the
    data held (`publication_periods`), whatever span is asked for, so every scorecard shows
    them alike. Without `period_from` a flow's headline is the 12 months to the last month
    (by default the month of the latest event): a publication period."""
    rule = rule or publication_rule()
    as_at = scorecard_as_at(conn)
    inputs = load_inputs(conn)
    results = evaluate(inputs, period_from, period_to, as_at)
    tables = month_tables(conn, needed_months(results), rule)
    periods = publication_periods(as_at) if as_at else ()
    return publish_scorecard(
        inputs, results, tables, as_at, rule, periods, yearly_headline=period_from is None
    )


def scorecard_document(
    conn: psycopg.Connection,
    period_from: dt.date | None = None,
    period_to: dt.date | None = None,
) -> dict[str, Any]:
    """The scorecard as published: what `hub scorecard --format json` and the API return
    (kept until the warehouse changes: `warehouse/publication_cache.py`)."""
    return published(
        conn,
        "scorecard",
        (period_from, period_to),
        lambda on: published_scorecard(on, period_from, period_to).document,
    )
