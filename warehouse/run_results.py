"""The reconcile runs' results, read back per partner: the dashboard's data-quality page.

`pipelines/results.py` writes each run with its reconciliation checks and data-quality
expectations; this reads them for the API's role (which may not import the pipelines).
A reconciliation check on an extract belongs to the partner that published it (its
manifest's `source_system`); the checks on KPIs belong to the hub itself (`HUB`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

import psycopg

HUB = "hub"  # the subject of the checks on KPI denominators, not a partner's extract


@dataclass(frozen=True)
class Check:
    """One reconciliation check of a run: expected against actual."""

    check: str
    subject: str
    party: str
    expected: int
    actual: int
    passed: bool
    detail: str


@dataclass(frozen=True)
class Expectation:
    """One data-quality expectation of a run, as counts."""

    suite: str
    expectation: str
    columns: str
    element_count: int
    unexpected_count: int
    passed: bool


@dataclass(frozen=True)
class PartyTally:
    """A partner's reconciliation checks in one run: how many, how many failed."""

    checks: int = 0
    failed: int = 0


@dataclass(frozen=True)
class Run:
    """One reconcile run: when, whether it passed, its checks per partner and expectations."""

    run_id: str
    finished_at: dt.datetime
    passed: bool
    by_party: dict[str, PartyTally] = field(default_factory=dict)
    expectations: int = 0
    expectations_failed: int = 0
    unexpected_values: int = 0


def run_history(conn: psycopg.Connection, flow: str, limit: int = 30) -> list[Run]:
    """The flow's newest runs, newest first, each with its checks counted per partner."""
    runs = conn.execute(
        "SELECT run_id::text, finished_at, passed FROM pipeline_runs WHERE flow = %s"
        " ORDER BY finished_at DESC, run_id LIMIT %s",
        (flow, limit),
    ).fetchall()
    ids = [run_id for run_id, _, _ in runs]
    tallies: dict[str, dict[str, PartyTally]] = defaultdict(dict)
    for run_id, party, checks, failed in conn.execute(
        "SELECT r.run_id::text, coalesce(m.source_system, %s), count(*),"
        " count(*) FILTER (WHERE NOT r.passed)"
        " FROM reconciliation_results r"
        " LEFT JOIN extract_manifests m ON m.extract_id::text = r.subject"
        " WHERE r.run_id = ANY(%s::uuid[]) GROUP BY 1, 2",
        (HUB, ids),
    ).fetchall():
        tallies[run_id][party] = PartyTally(int(checks), int(failed))
    quality = {
        run_id: (int(n), int(failed), int(unexpected))
        for run_id, n, failed, unexpected in conn.execute(
            "SELECT run_id::text, count(*), count(*) FILTER (WHERE NOT passed),"
            " coalesce(sum(unexpected_count), 0)"
            " FROM data_quality_results WHERE run_id = ANY(%s::uuid[]) GROUP BY 1",
            (ids,),
        ).fetchall()
    }
    return [
        Run(
            run_id,
            finished_at,
            passed,
            dict(sorted(tallies[run_id].items())),
            *quality.get(run_id, (0, 0, 0)),
        )
        for run_id, finished_at, passed in runs
    ]


def checks_of(conn: psycopg.Connection, run_id: str) -> list[Check]:
    """A run's reconciliation checks, by partner, failures first."""
    rows = conn.execute(
        "SELECT r.check_name, r.subject, coalesce(m.source_system, %s), r.expected, r.actual,"
        " r.passed, r.detail FROM reconciliation_results r"
        " LEFT JOIN extract_manifests m ON m.extract_id::text = r.subject"
        " WHERE r.run_id = %s::uuid ORDER BY 3, r.passed, r.check_name, r.subject",
        (HUB, run_id),
    ).fetchall()
    return [Check(*row) for row in rows]


def expectations_of(conn: psycopg.Connection, run_id: str) -> list[Expectation]:
    """A run's data-quality expectations, failures first."""
    rows = conn.execute(
        "SELECT suite, expectation, column_names, element_count, unexpected_count, passed"
        " FROM data_quality_results WHERE run_id = %s::uuid"
        " ORDER BY passed, suite, expectation, column_names",
        (run_id,),
    ).fetchall()
    return [Expectation(*row) for row in rows]
