"""Reconciliation: did every row a partner sent reach the event store, and does the KPI agree?

Three questions, each answered with expected and actual counts so a failure says
how far out it is:

* per extract, the events its manifest lists against the events stored for it
  (`extract_events_stored`), and the rows the partner said it sent against the
  manifest (`extract_rows_listed`);
* the KPI denominators against the plans in the event store
  (`kpi_denominator_matches_store`), one check per KPI.

Counting happens in SQL (`gather_counts`); judging is the pure `reconcile`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg

from streams.scorecard import (
    EHCP_WITHIN_20_WEEKS_EXCL_EXCEPTIONS,
    EHCP_WITHIN_20_WEEKS_INCL_EXCEPTIONS,
)
from warehouse.event_store import in_effect_sql


@dataclass(frozen=True)
class ExtractCounts:
    """What one extract's manifest claims, and what the store holds for it."""

    extract_id: str
    source_system: str
    event_type: str
    rows_sent: int
    events_listed: int
    events_stored: int


@dataclass(frozen=True)
class StoreCounts:
    """Everything reconciliation needs, counted once."""

    extracts: Sequence[ExtractCounts]
    plans_stored: int
    plans_stored_without_exception: int
    kpi_denominators: dict[str, int]


@dataclass(frozen=True)
class CheckResult:
    """One reconciliation check on one subject (an extract or a KPI)."""

    check: str
    subject: str
    expected: int
    actual: int
    detail: str

    @property
    def passed(self) -> bool:
        return self.expected == self.actual


def reconcile(counts: StoreCounts) -> list[CheckResult]:
    """Judge the counts: every check's expected against actual."""
    results: list[CheckResult] = []
    for extract in counts.extracts:
        what = f"{extract.event_type} from {extract.source_system}"
        results.append(
            CheckResult(
                "extract_rows_listed",
                extract.extract_id,
                extract.rows_sent,
                extract.events_listed,
                f"{what}: rows the producer sent vs event ids its manifest lists",
            )
        )
        results.append(
            CheckResult(
                "extract_events_stored",
                extract.extract_id,
                extract.events_listed,
                extract.events_stored,
                f"{what}: events the manifest lists vs events in the store",
            )
        )
    expected_denominators = {
        EHCP_WITHIN_20_WEEKS_INCL_EXCEPTIONS.id: counts.plans_stored,
        EHCP_WITHIN_20_WEEKS_EXCL_EXCEPTIONS.id: counts.plans_stored_without_exception,
    }
    for kpi_id, expected in expected_denominators.items():
        results.append(
            CheckResult(
                "kpi_denominator_matches_store",
                kpi_id,
                expected,
                counts.kpi_denominators.get(kpi_id, 0),
                "EhcPlanIssued events in effect in the store vs the KPI's denominator"
                " over all months",
            )
        )
    return results


def gather_counts(conn: psycopg.Connection) -> StoreCounts:
    """Count, in one snapshot, what the manifests claim and what the store holds."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        extract_rows = conn.execute(
            """
            SELECT m.extract_id::text, m.source_system, m.event_type, m.rows_sent,
                   (SELECT count(*) FROM extract_manifest_events l
                     WHERE l.extract_id = m.extract_id),
                   (SELECT count(*) FROM extract_manifest_events l
                      JOIN events e ON e.event_id = l.event_id
                     WHERE l.extract_id = m.extract_id)
            FROM extract_manifests m
            ORDER BY m.published_at, m.extract_id
            """
        ).fetchall()
        plans = conn.execute(  # the revisions in effect: a corrected plan counts once
            f"""
            SELECT count(*),
                   count(*) FILTER (WHERE NOT (payload ->> 'permitted_exception')::boolean)
            FROM events e WHERE e.event_type = 'EhcPlanIssued' AND {in_effect_sql("e", "NULL")}
            """
        ).fetchone()
        denominators = conn.execute(
            "SELECT kpi_id, sum(denominator) FROM kpi_measures GROUP BY kpi_id"
        ).fetchall()
    return StoreCounts(
        extracts=[
            ExtractCounts(str(r[0]), str(r[1]), str(r[2]), int(r[3]), int(r[4]), int(r[5]))
            for r in extract_rows
        ],
        plans_stored=int(plans[0]) if plans else 0,
        plans_stored_without_exception=int(plans[1]) if plans else 0,
        kpi_denominators={str(kpi_id): int(total) for kpi_id, total in denominators},
    )
