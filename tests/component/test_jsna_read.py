"""The JSNA as analysts read it: counts, rates per 1,000, change on a year; CLI and API agree."""

from __future__ import annotations

import datetime as dt
import json

import psycopg
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from hub.cli import app
from hub.settings import HubSettings
from streams.worker.unit_of_work import apply_batch
from tests.unit.test_cohort_projection import SETTINGS, event
from warehouse.api import create_app
from warehouse.jsna import month_end_on_or_before

D = dt.date


def _plan(pseudonym: str, issued: dt.date) -> list:
    details = event(
        "PersonDetailsRecorded",
        issued - dt.timedelta(days=30),
        {
            "month_of_birth": "2015-05",
            "sex": "MALE",
            "ethnicity_group": "WHITE",
            "lsoa_code": "E01000001",
        },
        nhs=pseudonym,
    )
    plan = event(
        "EhcPlanIssued",
        issued,
        {
            "request_date": "2024-01-01",
            "issue_date": issued.isoformat(),
            "permitted_exception": False,
            "primary_need": "ASD",
        },
        nhs=pseudonym,
    )
    return [details, plan]


def test_counts_rates_and_change_on_a_year(
    warehouse_dsn: str, hub_settings: HubSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        apply_batch(conn, _plan("a", D(2024, 3, 4)), projection=SETTINGS)
        apply_batch(
            conn, _plan("b", D(2025, 2, 3)) + _plan("c", D(2025, 3, 3)), projection=SETTINGS
        )
        conn.execute(
            "INSERT INTO reference_population VALUES (2025, 'all', 'all', 2000),"
            " (2025, 'locality', 'Charnwood', 500)"
        )
    for name, value in hub_settings.as_env().items():
        monkeypatch.setenv(name, value)

    result = CliRunner().invoke(app, ["jsna", "--as-at", "2025-03-20", "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["as_at"] == "2025-02-28" and document["compared_with"] == "2024-02-29"
    cells = {(c["send_status"], c["dimension"], c["value"]): c for c in document["cells"]}
    everyone = cells[("EHC_PLAN", "all", "all")]
    assert (everyone["people"], everyone["rate_per_1000"]) == (2, 1.0)
    assert everyone["change_on_year"] == 2  # neither had a plan in February 2024
    assert cells[("EHC_PLAN", "locality", "Charnwood")]["rate_per_1000"] == 4.0
    assert cells[("EHC_PLAN", "age_band", "5-10")]["people"] == 2
    assert cells[("EHC_PLAN", "primary_need", "ASD")]["rate_per_1000"] is None  # no population

    api = TestClient(create_app(warehouse_dsn)).get("/jsna", params={"as_at": "2025-03-20"})
    assert api.json() == document
    assert CliRunner().invoke(app, ["jsna", "--as-at", "20/03/2025"]).exit_code == 2


def test_as_at_reads_the_month_end_on_or_before() -> None:
    assert month_end_on_or_before(D(2025, 7, 31)) == D(2025, 7, 31)
    assert month_end_on_or_before(D(2025, 7, 30)) == D(2025, 6, 30)
    assert month_end_on_or_before(D(2024, 3, 1)) == D(2024, 2, 29)
