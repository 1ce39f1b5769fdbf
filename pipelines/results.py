"""Pipeline results in the warehouse: written by each run, read back by `hub status`.

A run is stored in one transaction with all its check results, so a half-written
run is never read as the latest.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg

from pipelines.data_quality import SUITE_NAME, ExpectationOutcome
from pipelines.reconciliation import CheckResult

RECONCILE_FLOW = "reconcile"


@dataclass(frozen=True)
class PipelineRun:
    """One run of the reconcile flow, with everything it found."""

    run_id: uuid.UUID
    flow: str
    started_at: dt.datetime
    finished_at: dt.datetime
    reconciliation: Sequence[CheckResult]
    data_quality: Sequence[ExpectationOutcome]
    orchestrator_run_id: str | None = None

    @property
    def reconciled(self) -> bool:
        return all(check.passed for check in self.reconciliation)

    @property
    def quality_passed(self) -> bool:
        return all(outcome.passed for outcome in self.data_quality)

    @property
    def passed(self) -> bool:
        return self.reconciled and self.quality_passed


@dataclass(frozen=True)
class RunSummary:
    """The one-line answer `hub status` gives for a check."""

    check: str
    ran_at: dt.datetime
    passed: bool
    summary: str

    def as_dict(self) -> dict[str, object]:
        return {
            "check": self.check,
            "ran_at": self.ran_at.isoformat(timespec="seconds"),
            "passed": self.passed,
            "summary": self.summary,
        }


def store_run(conn: psycopg.Connection, run: PipelineRun) -> None:
    with conn.transaction():
        conn.execute(
            """
            INSERT INTO pipeline_runs
                (run_id, flow, orchestrator_run_id, started_at, finished_at, passed)
            VALUES (%s, %s, %s, %s, %s, %s)
            """,
            (
                run.run_id,
                run.flow,
                run.orchestrator_run_id,
                run.started_at,
                run.finished_at,
                run.passed,
            ),
        )
        with conn.cursor() as cursor:
            cursor.executemany(
                """
                INSERT INTO reconciliation_results
                    (run_id, check_name, subject, expected, actual, passed, detail)
                VALUES (%s, %s, %s, %s, %s, %s, %s)
                """,
                [
                    (run.run_id, c.check, c.subject, c.expected, c.actual, c.passed, c.detail)
                    for c in run.reconciliation
                ],
            )
            cursor.executemany(
                """
                INSERT INTO data_quality_results (run_id, suite, expectation, column_names,
                    element_count, unexpected_count, passed)
                VALUES (%s, %s, %s, %s, %s, %s, %s)
                """,
                [
                    (
                        run.run_id,
                        SUITE_NAME,
                        o.expectation,
                        o.columns,
                        o.element_count,
                        o.unexpected_count,
                        o.passed,
                    )
                    for o in run.data_quality
                ],
            )


def summarise(run: PipelineRun) -> list[RunSummary]:
    """The reconciliation and data-quality verdicts of one run, in words."""
    failed_checks = [c for c in run.reconciliation if not c.passed]
    if failed_checks:
        worst = failed_checks[0]
        reconciliation = (
            f"{len(failed_checks)} of {len(run.reconciliation)} checks out; first: "
            f"{worst.check} on {worst.subject}: expected {worst.expected}, found {worst.actual}"
        )
    else:
        reconciliation = f"{len(run.reconciliation)} checks, all counts agree"
    failed_expectations = [o for o in run.data_quality if not o.passed]
    if failed_expectations:
        quality = "; ".join(
            f"{o.expectation} ({o.columns}): {o.unexpected_count} of {o.element_count} rows"
            for o in failed_expectations
        )
    else:
        rows = max((o.element_count for o in run.data_quality), default=0)
        quality = f"{len(run.data_quality)} expectations met on {rows} plans"
    return [
        RunSummary("reconciliation", run.finished_at, run.reconciled, reconciliation),
        RunSummary("data quality", run.finished_at, run.quality_passed, quality),
    ]


def latest_run(conn: psycopg.Connection, flow: str = RECONCILE_FLOW) -> PipelineRun | None:
    """The last finished run of `flow` with its results, or None if it never ran."""
    try:
        head = conn.execute(
            """
            SELECT run_id, flow, started_at, finished_at, orchestrator_run_id
            FROM pipeline_runs WHERE flow = %s ORDER BY finished_at DESC LIMIT 1
            """,
            (flow,),
        ).fetchone()
    except psycopg.errors.UndefinedTable:
        conn.rollback()
        return None
    if head is None:
        return None
    run_id = head[0]
    checks = conn.execute(
        """
        SELECT check_name, subject, expected, actual, detail FROM reconciliation_results
        WHERE run_id = %s ORDER BY check_name, subject
        """,
        (run_id,),
    ).fetchall()
    outcomes = conn.execute(
        """
        SELECT expectation, column_names, element_count, unexpected_count, passed
        FROM data_quality_results WHERE run_id = %s ORDER BY expectation
        """,
        (run_id,),
    ).fetchall()
    return PipelineRun(
        run_id=run_id,
        flow=head[1],
        started_at=head[2],
        finished_at=head[3],
        orchestrator_run_id=head[4],
        reconciliation=[CheckResult(r[0], r[1], int(r[2]), int(r[3]), r[4]) for r in checks],
        data_quality=[
            ExpectationOutcome(o[0], o[1], int(o[2]), int(o[3]), bool(o[4])) for o in outcomes
        ],
    )


def latest_run_summaries(conn: psycopg.Connection) -> list[RunSummary]:
    run = latest_run(conn)
    return summarise(run) if run is not None else []
