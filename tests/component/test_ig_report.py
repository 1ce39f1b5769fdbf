"""The monthly IG report and the chain's verification, over a small area counted by hand.

This month: education sends three plans (one extract) and health two therapy
appointments under the contract, education one plan under another contract; four
messages are refused (two for one reason from education, one from health, one on a
topic nobody owns); one plan is erased under the opt-out; a commissioner reads the
scorecard twice and is refused the JSNA once. The report must say exactly that, the
same in JSON, in the workbook and over the API; `hub audit verify` must hold until a
row is edited, then name that row and the kind of break.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import uuid
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.settings import HubSettings
from hub.stack.postgres import EmbeddedPostgres
from schemas.manifest import ExtractManifest
from schemas.topics import SOURCE_BY_SYSTEM
from streams.worker.unit_of_work import apply_batch
from tests.support.api import signed_in
from tests.support.events import event, plan_event
from warehouse.connection import connect
from warehouse.erasure import erase
from warehouse.quarantine import quarantine

CONTRACT = "leics-send-sharing-2026"
OTHER = "other-contract-2026"
REQUEST = dt.date(2025, 1, 6)
PREFIX = "t0."


def therapy(day: int) -> Any:
    seen = dt.date(2025, 3, day)
    payload = {"appointment_date": seen.isoformat(), "referral_date": "2025-02-10"}
    return dataclasses.replace(
        event("TherapyFirstAppointmentHeld", seen, payload | {"therapy_type": "SALT"}),
        source_system="health",
        contract_id=CONTRACT,
    )


@pytest.fixture
def area(warehouse_dsn: str) -> dict[str, Any]:
    """The month's arrivals, refusals and erasure (all received now: this month, in UTC)."""
    extract = uuid.uuid4()
    plans = [plan_event(REQUEST, dt.date(2025, 5, d), extract_id=extract) for d in (1, 2, 3)]
    other = dataclasses.replace(plan_event(REQUEST, dt.date(2025, 6, 2)), contract_id=OTHER)
    manifest = ExtractManifest(
        *(extract, "EhcPlanIssued", "education", CONTRACT, "E10000018"),
        *(dt.datetime(2025, 6, 1, 8, tzinfo=dt.UTC), 3, 3, 0),
        tuple(p.event_id for p in plans),
    )
    topic = {party: PREFIX + name for party, name in SOURCE_BY_SYSTEM.items()}
    with connect(warehouse_dsn) as conn:
        apply_batch(conn, plans, [manifest])
        apply_batch(conn, [therapy(3), therapy(4), other])
        quarantine(
            conn,
            [
                (topic["education"], 0, 1, "schema_unknown", "-", b"x"),
                (topic["education"], 0, 2, "schema_unknown", "-", b"x"),
                (topic["health"], 0, 1, "not_in_contract", "-", b"x"),
                (PREFIX + "stray.events", 0, 1, "undecodable", "-", b"x"),
            ],
        )
        erase(
            conn,
            [plans[0].event_id],
            kind="opt_out",
            contract_id=CONTRACT,
            rule="national data opt-out",
            at=dt.datetime.now(dt.UTC),
        )
    return {"extract": str(extract)}


@pytest.fixture
def cli(
    postgres_server: EmbeddedPostgres,
    warehouse_database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> CliRunner:
    settings = HubSettings(
        state_dir=tmp_path / "hub",
        warehouse_host=postgres_server.host,
        warehouse_port=postgres_server.port,
        warehouse_database=warehouse_database,
    )
    for key, value in settings.as_env().items():
        monkeypatch.setenv(key, value)
    return CliRunner()


def this_month() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m")


def figure(document: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(f for f in document["lineage"]["figures"] if f["figure"] == name)
    return found


def test_the_report_counts_the_month_the_same_in_json_xlsx_and_over_the_api(
    area: dict[str, Any], cli: CliRunner, warehouse_dsn: str, api_dsn: str, tmp_path: Path
) -> None:
    commissioner = signed_in(warehouse_dsn, api_dsn, "commissioner")
    assert commissioner.get("/scorecard").status_code == 200
    assert commissioner.get("/scorecard").status_code == 200
    assert commissioner.get("/jsna").status_code == 403

    month = this_month()
    result = cli.invoke(app, ["audit", "report", "--contract", CONTRACT, "--month", month])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)

    assert document["received"] == {
        "messages": 9,
        "by_party": {"education": 5, "health": 3, "unknown": 1},
    }
    assert document["accepted"] == {
        "events": 5,  # the erased plan was received, and accepted
        "by_party": {"education": 3, "health": 2},
        "by_event_type": {"EhcPlanIssued": 3, "TherapyFirstAppointmentHeld": 2},
    }
    refused = document["refused"]
    assert (refused["messages"], refused["by_reason"], refused["by_party_and_reason"]) == (
        4,
        {"not_in_contract": 1, "schema_unknown": 2, "undecodable": 1},
        {
            "education": {"schema_unknown": 2},
            "health": {"not_in_contract": 1},
            "unknown": {"undecodable": 1},
        },
    )
    assert document["erasures"] == {
        "retention": {
            "deletion_records": 0,
            "events_erased": 0,
            "by_event_type": {},
            "quarantined_erased": 0,
        },
        "opt_out": {
            "deletion_records": 1,
            "events_erased": 1,
            "by_event_type": {"EhcPlanIssued": 1},
            "quarantined_erased": 0,
        },
    }
    plans = figure(document, "ehcp_20_weeks_incl_exceptions")
    assert plans["event_types"] == ["EhcPlanIssued"]
    assert (plans["events"], plans["contracts"], plans["months"]) == (
        3,  # the two plans still in effect, and the other contract's
        {CONTRACT: 2, OTHER: 1},
        {"first": "2025-05", "last": "2025-06", "with_events": 2},
    )
    assert plans["extracts"] == [
        {
            "extract_id": area["extract"],
            "party": "education",
            "published_at": "2025-06-01T08:00:00+00:00",
            "events": 2,
        }
    ]
    assert plans["events_without_extract"] == 1
    assert figure(document, "therapy_salt_seen_within_6_weeks")["contracts"] == {CONTRACT: 2}
    assert figure(document, "jsna")["events"] == 5  # the register reads both types
    [reader] = [a for a in document["access"] if a["role"] == "commissioner"]
    with connect(warehouse_dsn) as conn:
        logged = conn.execute(
            "SELECT sum(rows_returned), sum(cells_returned) FROM access_log WHERE token_name = %s",
            (reader["token_name"],),
        ).fetchone()
    assert (reader["calls"], reader["refused_calls"], reader["by_route"]) == (
        3,
        1,
        {"GET /jsna": 1, "GET /scorecard": 2},
    )
    assert logged is not None
    assert (reader["rows_returned"], reader["cells_returned"]) == tuple(map(int, logged))

    # the workbook holds the same figures
    book_path = tmp_path / "ig.xlsx"
    options = ["--contract", CONTRACT, "--month", month, "--format", "xlsx", "--output"]
    written = cli.invoke(app, ["audit", "report", *options, str(book_path)])
    assert written.exit_code == 0, written.output
    book = openpyxl.load_workbook(io.BytesIO(book_path.read_bytes()), read_only=True)
    summary = dict(book["Summary"].iter_rows(min_row=2, values_only=True))
    assert (summary["received"], summary["accepted"], summary["refused"]) == (9, 5, 4)
    assert sorted(book["Refused"].iter_rows(min_row=2, values_only=True)) == [
        ("education", "schema_unknown", 2),
        ("health", "not_in_contract", 1),
        ("unknown", "undecodable", 1),
    ]
    assert list(book["Erasures"].iter_rows(min_row=2, values_only=True)) == [
        ("retention", 0, 0, 0),
        ("opt_out", 1, 1, 0),
    ]
    lineage = {row[0]: row for row in book["Lineage"].iter_rows(min_row=2, values_only=True)}
    assert lineage["ehcp_20_weeks_incl_exceptions"][4:9] == (
        *(3, f"{CONTRACT}: 2, {OTHER}: 1"),
        *("2025-05", "2025-06", 2),
    )

    # the API's document is the CLI's
    auditor = signed_in(warehouse_dsn, api_dsn, "ig_auditor")
    answer = auditor.get("/audit/report", params={"contract": CONTRACT, "month": month})
    assert answer.status_code == 200, answer.text
    assert answer.json() == document
    unknown = auditor.get("/audit/report", params={"contract": "no-such", "month": month})
    assert unknown.status_code == 422


def test_report_usage_errors_exit_2(cli: CliRunner, warehouse_dsn: str) -> None:
    month = ["--month", this_month()]
    for options in (
        ["--contract", "no-such-contract", *month],
        ["--contract", CONTRACT, "--month", "2026-13"],
        ["--contract", CONTRACT, *month, "--format", "csv"],
        ["--contract", CONTRACT, *month, "--format", "xlsx"],
    ):
        result = cli.invoke(app, ["audit", "report", *options])
        assert result.exit_code == 2, (options, result.output)


def test_verify_holds_then_names_the_edited_row_and_the_chain_route_reports_it(
    area: dict[str, Any], cli: CliRunner, warehouse_dsn: str, api_dsn: str
) -> None:
    auditor = signed_in(warehouse_dsn, api_dsn, "ig_auditor")
    assert auditor.get("/audit/chain").json() == {"latest": None, "rows_appended_since": None}

    verified = cli.invoke(app, ["audit", "verify"])
    assert (verified.exit_code, verified.stdout) == (0, "chain verified: 6 rows, 1 tombstones\n")
    latest = auditor.get("/audit/chain").json()["latest"]
    assert (latest["holds"], latest["rows"], latest["tombstones"]) == (True, 6, 1)

    with connect(warehouse_dsn) as conn, conn.transaction():
        conn.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
        (edited,) = conn.execute(
            'UPDATE events SET payload = payload || \'{"therapy_type": "OT"}\''
            " WHERE event_type = 'TherapyFirstAppointmentHeld'"
            " AND sequence = (SELECT min(sequence) FROM events"
            "   WHERE event_type = 'TherapyFirstAppointmentHeld') RETURNING sequence"
        ).fetchone() or (None,)
        conn.execute("ALTER TABLE events ENABLE TRIGGER events_append_only")
    broken = cli.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1
    assert broken.stdout.startswith(f"chain broken at row {edited} (content_changed): ")
    assert "OT" not in broken.stdout and "therapy" not in broken.stdout.lower()
    status = auditor.get("/audit/chain").json()
    assert status["latest"]["first_break"]["sequence"] == edited
    assert status["latest"]["first_break"]["kind"] == "content_changed"
    assert status["rows_appended_since"] == 0
