"""Retention run: erase what is past its contract's retention, then rebuild every projection.

The one function `hub retention run` (and later a scheduled flow) calls. It plans with
the pure rule (`streams.retention`) over the people the warehouse holds, erases one
contract at a time (`warehouse.erasure`), then replays the event store into the live
projections, so no figure still counts an erased event. A dry run plans and counts only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import psycopg

from contracts.models import Contract
from pipelines.replay import ReplayReport, replay
from streams.retention import RetentionPlan, plan_retention
from warehouse.cohort_store import projection_settings
from warehouse.erasure import DeletionRecord
from warehouse.retention import apply_plan, preview, stored_people


@dataclass(frozen=True)
class RetentionRun:
    """What a run found and did, in counts; no id, pseudonym or payload."""

    today: dt.date
    dry_run: bool
    by_contract: Mapping[str, Mapping[str, int]]  # contract id -> event type -> events
    kept_birth_month_unknown: int
    kept_contract_unknown: int
    records: tuple[DeletionRecord, ...] = ()
    replay: ReplayReport | None = None

    @property
    def events(self) -> int:
        return sum(sum(types.values()) for types in self.by_contract.values())


def run_retention(
    conn: psycopg.Connection,
    contracts: Mapping[str, Contract],
    today: dt.date,
    *,
    dry_run: bool = False,
    dsn: str | None = None,
) -> RetentionRun:
    """Plan retention on `today`; unless a dry run, erase and rebuild the projections."""
    plan = plan_retention(stored_people(conn), contracts, today)
    if dry_run:
        return _run(plan, today, True, preview(conn, plan))
    records = tuple(apply_plan(conn, plan, dt.datetime.now(dt.UTC)))
    report = None
    if records:
        report = replay(conn, projection_settings(conn), apply=True, dsn=dsn)
    by_contract = {record.contract_id: record.by_event_type for record in records}
    return _run(plan, today, False, by_contract, records, report)


def _run(
    plan: RetentionPlan,
    today: dt.date,
    dry_run: bool,
    by_contract: Mapping[str, Mapping[str, int]],
    records: tuple[DeletionRecord, ...] = (),
    report: ReplayReport | None = None,
) -> RetentionRun:
    return RetentionRun(
        today,
        dry_run,
        by_contract,
        plan.kept_birth_month_unknown,
        plan.kept_contract_unknown,
        records,
        report,
    )
