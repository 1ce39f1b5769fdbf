"""The Prefect flows of the hub: orchestration only, the logic lives in plain functions.

`reconcile` counts what each extract sent against the event store and the KPI
denominators, runs the Great Expectations suite on the event store, and stores
both results with the run time. `check_event_store` does the same without
Prefect, so tests and the flow share one code path.

The flow reads its settings itself and takes no parameters: Prefect records
parameters in its own database, and a connection string may carry a password.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid

from prefect import flow, get_run_logger, task
from prefect.runtime import flow_run

from hub.settings import HubSettings
from pipelines.data_quality import ExpectationOutcome, load_plans, validate_plans
from pipelines.reconciliation import CheckResult, gather_counts, reconcile
from pipelines.results import RECONCILE_FLOW, PipelineRun, store_run
from warehouse.connection import connect

os.environ["GX_ANALYTICS_ENABLED"] = "False"


def reconciliation_checks(dsn: str) -> list[CheckResult]:
    with connect(dsn) as conn:
        return reconcile(gather_counts(conn))


def data_quality_outcomes(dsn: str) -> list[ExpectationOutcome]:
    with connect(dsn) as conn:
        plans = load_plans(conn)
    return validate_plans(plans)


def record_run(dsn: str, run: PipelineRun) -> None:
    with connect(dsn) as conn:
        store_run(conn, run)


def finished_run(
    started: dt.datetime,
    checks: list[CheckResult],
    outcomes: list[ExpectationOutcome],
    orchestrator_run_id: str | None,
) -> PipelineRun:
    return PipelineRun(
        run_id=uuid.uuid4(),
        flow=RECONCILE_FLOW,
        started_at=started,
        finished_at=dt.datetime.now(dt.UTC),
        reconciliation=checks,
        data_quality=outcomes,
        orchestrator_run_id=orchestrator_run_id,
    )


def check_event_store(dsn: str, orchestrator_run_id: str | None = None) -> PipelineRun:
    """Reconcile and check data quality, store the run, and return it."""
    started = dt.datetime.now(dt.UTC)
    run = finished_run(
        started, reconciliation_checks(dsn), data_quality_outcomes(dsn), orchestrator_run_id
    )
    record_run(dsn, run)
    return run


reconcile_task = task(name="reconcile extracts with the event store", retries=2)(
    reconciliation_checks
)
quality_task = task(name="data-quality suite on the event store", retries=2)(data_quality_outcomes)
record_task = task(name="store pipeline results")(record_run)


@flow(name=RECONCILE_FLOW, validate_parameters=False)
def reconcile_flow() -> dict[str, object]:
    """Prefect flow: reconciliation and data quality, results stored in the warehouse."""
    logger = get_run_logger()
    dsn = HubSettings().warehouse_dsn()
    started = dt.datetime.now(dt.UTC)
    checks = reconcile_task(dsn)
    outcomes = quality_task(dsn)
    run = finished_run(started, checks, outcomes, str(flow_run.id) if flow_run.id else None)
    record_task(dsn, run)
    failed = sum(not c.passed for c in checks) + sum(not o.passed for o in outcomes)
    logger.info(
        "reconciliation: %d checks, data quality: %d expectations, %d failed",
        len(checks),
        len(outcomes),
        failed,
    )
    return {"run_id": str(run.run_id), "passed": run.passed, "failed_checks": failed}
