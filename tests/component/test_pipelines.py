"""Reconciliation and the data-quality suite on a real PostgreSQL event store (no Prefect)."""

from __future__ import annotations

import datetime as dt
import uuid

import psycopg

from pipelines.data_quality import plans_frame, validate_plans
from pipelines.flows import check_event_store
from pipelines.results import latest_run_summaries
from schemas.manifest import ExtractManifest
from streams.worker.unit_of_work import apply_batch
from tests.support.events import plan_event

REQUEST = dt.date(2026, 1, 5)


def _manifest(extract_id: uuid.UUID, event_ids: list[uuid.UUID], rows_sent: int) -> ExtractManifest:
    return ExtractManifest(
        extract_id=extract_id,
        event_type="EhcPlanIssued",
        source_system="education",
        contract_id="leics-send-sharing-2026",
        area_code="E10000018",
        published_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
        rows_read=rows_sent + 1,
        rows_sent=rows_sent,
        rows_refused=1,
        event_ids=tuple(event_ids),
    )


def test_a_complete_extract_reconciles_and_passes_the_suite(warehouse_dsn: str) -> None:
    extract_id = uuid.uuid4()
    events = [
        plan_event(REQUEST, REQUEST + dt.timedelta(days=100 + i), extract_id=extract_id)
        for i in range(30)
    ] + [plan_event(REQUEST, REQUEST + dt.timedelta(days=200), exception=True)]
    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        apply_batch(conn, events, [_manifest(extract_id, [e.event_id for e in events[:30]], 30)])

    run = check_event_store(warehouse_dsn)

    assert run.passed, [c for c in run.reconciliation if not c.passed]
    by_check = {(c.check, c.subject): c for c in run.reconciliation}
    assert by_check[("extract_events_stored", str(extract_id))].actual == 30
    assert by_check[("kpi_denominator_matches_store", "ehcp_20_weeks_incl_exceptions")].actual == 31
    assert by_check[("kpi_denominator_matches_store", "ehcp_20_weeks_excl_exceptions")].actual == 30
    assert {o.expectation for o in run.data_quality} == {
        "expect_column_values_to_not_be_null",
        "expect_column_pair_values_a_to_be_greater_than_b",
        "expect_column_values_to_be_unique",
    }
    with psycopg.connect(warehouse_dsn) as conn:
        summaries = latest_run_summaries(conn)
    assert [(s.check, s.passed) for s in summaries] == [
        ("reconciliation", True),
        ("data quality", True),
    ]
    assert "31 plans" in summaries[1].summary


def test_events_missing_from_the_store_fail_reconciliation_with_counts(warehouse_dsn: str) -> None:
    extract_id = uuid.uuid4()
    stored = [plan_event(REQUEST, REQUEST + dt.timedelta(days=90), extract_id=extract_id)]
    lost = [uuid.uuid4() for _ in range(4)]
    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        apply_batch(conn, stored, [_manifest(extract_id, [stored[0].event_id, *lost], 6)])

    run = check_event_store(warehouse_dsn)

    failed = {c.check: (c.expected, c.actual) for c in run.reconciliation if not c.passed}
    assert failed == {"extract_rows_listed": (6, 5), "extract_events_stored": (5, 1)}
    assert run.quality_passed and not run.passed
    with psycopg.connect(warehouse_dsn) as conn:
        reconciliation, _ = latest_run_summaries(conn)
    assert not reconciliation.passed
    assert "expected 5, found 1" in reconciliation.summary


def test_bad_plans_in_the_store_fail_the_suite_by_count_only(warehouse_dsn: str) -> None:
    backwards = plan_event(REQUEST, REQUEST - dt.timedelta(days=3))
    anonymous = plan_event(REQUEST, REQUEST + dt.timedelta(days=10), pseudonym=None)
    fine = plan_event(REQUEST, REQUEST + dt.timedelta(days=10))
    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        apply_batch(conn, [backwards, anonymous, fine])

    run = check_event_store(warehouse_dsn)

    unexpected = {o.expectation: o.unexpected_count for o in run.data_quality}
    assert unexpected == {
        "expect_column_values_to_not_be_null": 1,
        "expect_column_pair_values_a_to_be_greater_than_b": 1,
        "expect_column_values_to_be_unique": 0,
    }
    assert run.reconciled and not run.quality_passed
    with psycopg.connect(warehouse_dsn) as conn:
        stored = conn.execute("SELECT * FROM data_quality_results").fetchall()
    assert "p" * 64 not in repr(stored)  # counts only: no pseudonym leaves the suite


def test_the_suite_catches_duplicate_event_ids() -> None:
    rows = [("e-1", "a", REQUEST, REQUEST), ("e-1", "b", REQUEST, REQUEST)]
    outcomes = {o.expectation: o for o in validate_plans(plans_frame(rows))}
    assert not outcomes["expect_column_values_to_be_unique"].passed
    assert outcomes["expect_column_values_to_be_unique"].unexpected_count == 2


def test_an_empty_store_reconciles_trivially(warehouse_dsn: str) -> None:
    run = check_event_store(warehouse_dsn)
    assert run.passed
    assert all(c.expected == 0 for c in run.reconciliation)
