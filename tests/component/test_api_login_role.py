"""The API's least-privilege role: made by `hub warehouse migrate`, and enough for every route.

`hub warehouse migrate` makes the login role from the mounted password file; the role
(`hub_api`) reads exactly what the routes need, written out below, so a new grant is a
decision; and the cross-tab and the downloads answer through it with no person's id,
pseudonym or event payload within its reach.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.settings import HubSettings
from streams.worker.unit_of_work import CurrentProjection, apply_batch
from tests.support.api import signed_in
from tests.support.events import plan_event
from warehouse.connection import connect


def test_migrate_makes_a_login_role_in_hub_api_and_nothing_more(
    hub_settings: HubSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = f"hub_api_{uuid.uuid4().hex[:8]}"
    password = tmp_path / "api_warehouse_password"
    password.write_text("s3cret\n")
    for key, value in hub_settings.as_env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HUB_API_WAREHOUSE_USER", user)
    monkeypatch.setenv("HUB_API_WAREHOUSE_PASSWORD_FILE", str(password))

    result = CliRunner().invoke(app, ["warehouse", "migrate"])
    assert result.exit_code == 0, result.output
    assert f"the API logs in as {user}" in result.output
    with connect(hub_settings.warehouse_dsn()) as conn:
        row = conn.execute(
            "SELECT rolcanlogin, rolsuper, pg_has_role(rolname, 'hub_api', 'MEMBER')"
            " FROM pg_roles WHERE rolname = %s",
            (user,),
        ).fetchone()
    assert row == (True, False, True)
    dsn = HubSettings().api_warehouse_dsn()
    assert f"user={user}" in dsn and "password=s3cret" in dsn
    with connect(dsn) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT payload FROM events")


# What `hub_api` may read, table by table: every column ("*"), or only these.
REACH = {
    "access_log": "*",
    "api_tokens": "*",
    "chain_verifications": "*",  # 0013: `hub audit verify`'s outcomes
    "cohort_history": {"valid_from", "valid_to", "state"},  # 0011: not whose, nor why
    "events": {
        *("event_id", "event_type", "source_system", "extract_id", "occurred_at"),
        *("received_at", "sequence"),  # 0011: the sequence, the publication cache's version
        *("contract_id", "erased_at"),  # 0013: the IG report's counts by contract, erasure
    },
    "event_supersessions": {"event_id", "sequence"},  # 0013: what was in effect, for lineage
    "deletion_records": "*",  # 0013: counts of what was erased, never which events
    "extract_manifests": "*",
    "jsna_cells": "*",
    "jsna_cells_by_month": "*",  # 0017: the same cells, quicker for many month ends
    "kpi_measures": "*",
    "quarantined_messages": {
        *("id", "topic", "partition", "offset", "reason", "detail", "received_at"),
        "released_at",
    },
    "projection_rebuilds": {"rebuild_id"},  # 0014: the publication cache's version
    "reference_comparators": "*",  # 0016: published comparators, for the scorecard
    "reference_loads": {"load_id"},  # 0011: the publication cache's version
    "reference_localities": "*",  # 0011: LSOA to locality, for the cross-tabs
    "reference_population": "*",
    "web_sessions": "*",  # 0015: the dashboard's sessions (their ids hashed)
    "pipeline_runs": "*",  # 0015: the reconcile runs, for the data-quality page
    "reconciliation_results": "*",
    "data_quality_results": "*",
}


def test_the_api_role_reads_what_its_routes_need_and_nothing_more(warehouse_dsn: str) -> None:
    with connect(warehouse_dsn) as conn:
        granted = conn.execute(
            "SELECT table_name, column_name FROM information_schema.column_privileges"
            " WHERE grantee = 'hub_api' AND privilege_type = 'SELECT'"
        ).fetchall()
        columns = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = 'public'"
        ).fetchall()
    reach: dict[str, set[str]] = {}
    for table, column in granted:
        reach.setdefault(table, set()).add(column)
    every: dict[str, set[str]] = {}
    for table, column in columns:
        every.setdefault(table, set()).add(column)
    assert {t: "*" if cols == every[t] else cols for t, cols in reach.items()} == REACH


def test_the_cross_tab_and_the_downloads_work_as_the_api_role_with_no_person_in_reach(
    warehouse_dsn: str, api_dsn: str
) -> None:
    with connect(warehouse_dsn) as conn:  # two children with a plan: a register to read
        apply_batch(
            conn,
            [
                plan_event(dt.date(2025, 1, 6), dt.date(2025, 5, 1), pseudonym="a" * 64),
                plan_event(dt.date(2025, 2, 3), dt.date(2025, 6, 2), pseudonym="b" * 64),
            ],
            projection=CurrentProjection(),
        )
    public_health = signed_in(warehouse_dsn, api_dsn, "public_health")
    pair = {"by": "send_status,primary_need", "as_at": "2025-07-15"}
    crosstab = public_health.get("/jsna/crosstab", params=pair)
    assert crosstab.status_code == 200, crosstab.text
    assert crosstab.json()["as_at"] == "2025-06-30"
    for path, params in (
        ("/exports/jsna", pair | {"format": "parquet"}),
        ("/exports/jsna", {"by": "primary_need", "format": "xlsx"}),
        ("/exports/jsna/metadata", pair),
    ):
        assert public_health.get(path, params=params).status_code == 200, (path, params)
    commissioner = signed_in(warehouse_dsn, api_dsn, "commissioner")
    for path in ("/exports/scorecard", "/exports/scorecard/metadata"):
        assert commissioner.get(path).status_code == 200, path

    with connect(api_dsn) as conn:
        assert conn.execute("SELECT count(state) FROM cohort_history").fetchone() == (2,)
    for query in (
        "SELECT person_id FROM cohort_history",
        "SELECT caused_by FROM cohort_history",
        "SELECT * FROM cohort_register",
        "SELECT payload FROM events",
        "SELECT nhs_pseudonym FROM events",
    ):
        with connect(api_dsn) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(query)
