"""The access log: what each signed-in call took, kept where nobody can change it.

The API's own database role may add to the log and read it, and nothing more: not
change it, not read an event's payload or pseudonyms, not touch the tokens.
"""

from __future__ import annotations

import json

import psycopg
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from hub.cli import app
from hub.settings import HubSettings
from tests.support.api import bearer, signed_in
from warehouse.access_log import suppressed_in
from warehouse.api import create_app
from warehouse.connection import connect
from warehouse.tokens import Role, issue_token


def test_a_call_is_logged_with_its_route_parameters_and_what_it_returned(
    warehouse_dsn: str, api_dsn: str
) -> None:
    client = signed_in(warehouse_dsn, api_dsn, "public_health")
    assert client.get("/jsna", params={"as_at": "2025-03-31"}).status_code == 200
    auditor = signed_in(warehouse_dsn, api_dsn, "ig_auditor")
    [entry] = auditor.get("/audit/access").json()["entries"]
    assert entry["role"] == "public_health" and entry["token_name"].startswith("public_health-")
    assert (entry["method"], entry["route"], entry["status"]) == ("GET", "/jsna", 200)
    assert entry["parameters"] == {"as_at": "2025-03-31"}
    assert (entry["rows_returned"], entry["cells_returned"]) == (0, 0)
    assert entry["cells_suppressed"] == 0  # as the published document says
    assert entry["duration_ms"] >= 0
    # the auditor's own reading is logged too, and is the newest entry
    newest = auditor.get("/audit/access", params={"limit": 1}).json()["entries"]
    assert [(e["route"], e["rows_returned"]) for e in newest] == [("/audit/access", 1)]


def test_the_number_suppressed_is_taken_from_what_the_document_says() -> None:
    assert suppressed_in({"cells": [], "disclosure": {"suppressed_cells": 4}}) == 4
    assert suppressed_in({"suppressed_cells": 2}) == 2
    assert suppressed_in({"cells": []}) is None
    assert suppressed_in({"disclosure": {"suppressed_cells": True}}) is None


@pytest.mark.parametrize(
    "change",
    ["UPDATE access_log SET status = 200", "DELETE FROM access_log", "TRUNCATE access_log"],
)
def test_not_even_the_owner_can_change_the_log(
    warehouse_dsn: str, api_dsn: str, change: str
) -> None:
    signed_in(warehouse_dsn, api_dsn, "commissioner").get("/scorecard")
    with connect(warehouse_dsn) as conn, pytest.raises(psycopg.errors.RaiseException):
        conn.execute(change)
    with connect(warehouse_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM access_log").fetchone() == (1,)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE access_log SET status = 200",
        "DELETE FROM access_log",
        "SELECT payload FROM events",
        "SELECT nhs_pseudonym FROM events",
        "SELECT upn_pseudonym FROM events",
        "SELECT message FROM quarantined_messages",
        "SELECT * FROM cohort_history",
        "SELECT * FROM person_links",
        "SELECT * FROM opted_out_subjects",
        "INSERT INTO api_tokens (name, role, token_hash) VALUES ('me', 'admin', 'x')",
        "UPDATE api_tokens SET revoked_at = NULL",
        "INSERT INTO events (event_id) VALUES (gen_random_uuid())",
    ],
)
def test_the_apis_role_may_not(api_dsn: str, statement: str) -> None:
    with connect(api_dsn) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(statement)


def test_the_apis_role_may_read_what_the_routes_need(api_dsn: str) -> None:
    with connect(api_dsn) as conn:
        for statement in (
            "SELECT event_id, event_type, source_system, extract_id, occurred_at FROM events",
            "SELECT * FROM kpi_measures",
            "SELECT * FROM jsna_cells",
            "SELECT * FROM extract_manifests",
            "SELECT name, role, party, token_hash FROM api_tokens",
            "SELECT * FROM access_log",
        ):
            conn.execute(statement)


def test_hub_audit_access_reads_the_log_by_token_and_day(
    hub_settings: HubSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with connect(hub_settings.warehouse_dsn()) as conn:
        first, _ = issue_token(conn, "first", Role.COMMISSIONER)
        second, _ = issue_token(conn, "second", Role.COMMISSIONER)
    client = TestClient(create_app(hub_settings.api_warehouse_dsn()))
    for secret in (first, second, second):
        assert client.get("/scorecard", headers=bearer(secret)).status_code == 200
    for key, value in hub_settings.as_env().items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()

    def entries(*options: str) -> list[dict[str, object]]:
        result = runner.invoke(app, ["audit", "access", "--format", "json", *options])
        assert result.exit_code == 0, result.output
        listed: list[dict[str, object]] = json.loads(result.stdout)
        return listed

    assert len(entries()) == 3
    assert [e["token_name"] for e in entries("--token", "first")] == ["first"]
    assert len(entries("--token", "second")) == 2
    assert entries("--since", "2999-01-01") == []
    assert len(entries("--since", "2000-01-01")) == 3
    table = runner.invoke(app, ["audit", "access"], env={"COLUMNS": "200"})
    assert "GET /scorecard" in " ".join(table.stdout.split())
    assert runner.invoke(app, ["audit", "access", "--since", "yesterday"]).exit_code == 2


def test_no_row_in_the_log_means_no_answer(warehouse_dsn: str, api_dsn: str) -> None:
    client = signed_in(warehouse_dsn, api_dsn, "commissioner")
    with connect(warehouse_dsn) as conn:
        conn.execute("REVOKE INSERT ON access_log FROM hub_api")
    response = client.get("/scorecard")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "kpis" not in response.text and "access log" in response.json()["detail"]
