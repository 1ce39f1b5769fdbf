"""The JSNA as published: protected counts, rates per 1,000, change on a year; CLI and API agree."""

from __future__ import annotations

import datetime as dt
import json

import psycopg
import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.settings import HubSettings
from streams.worker.unit_of_work import apply_batch
from tests.support.api import signed_in
from tests.unit.test_cohort_projection import SETTINGS, event
from warehouse.jsna import month_end_on_or_before

D = dt.date


def _plan(pseudonym: str, issued: dt.date, sex: str = "MALE", need: str = "ASD") -> list:
    details = event(
        "PersonDetailsRecorded",
        issued - dt.timedelta(days=30),
        {
            "month_of_birth": "2015-05",
            "sex": sex,
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
            "primary_need": need,
        },
        nhs=pseudonym,
    )
    return [details, plan]


def test_counts_rates_and_change_on_a_year_as_published(
    warehouse_dsn: str, api_dsn: str, hub_settings: HubSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nine boys with autism have plans from March 2024; three more boys and one girl,
    # whose need is social, emotional and mental health, have theirs from February 2025.
    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        early = [e for n in range(9) for e in _plan(f"early-{n}", D(2024, 3, 4))]
        apply_batch(conn, early, projection=SETTINGS)
        later = [e for n in range(3) for e in _plan(f"later-{n}", D(2025, 2, 3))]
        later += _plan("girl", D(2025, 2, 3), sex="FEMALE", need="SEMH")
        apply_batch(conn, later, projection=SETTINGS)
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

    def shown(status: str, dimension: str, value: str, figure: str = "people") -> object:
        published = cells[(status, dimension, value)][figure]
        return published["value"] if published["value"] is not None else published["symbol"]

    # 13 children with a plan are published as 15; the rate per 1,000 is worked out from
    # the 15 (7.5), not from the true 13 (6.5); nobody had a plan a year before: +15.
    assert shown("EHC_PLAN", "all", "all") == 15
    assert shown("EHC_PLAN", "all", "all", "rate_per_1000") == 7.5
    assert shown("EHC_PLAN", "all", "all", "people_a_year_before") == 0
    assert shown("EHC_PLAN", "all", "all", "change_on_year") == 15
    assert shown("EHC_PLAN", "locality", "Charnwood", "rate_per_1000") == 30.0  # 15 of 500
    assert shown("EHC_PLAN", "age_band", "5-10") == 15
    assert shown("EHC_PLAN", "primary_need", "ASD", "rate_per_1000") == "x"  # no population
    # One girl is suppressed, and so are the boys: otherwise 15 children minus 10 boys
    # would give her away. Her need is suppressed, and autism with it, the same way.
    assert shown("EHC_PLAN", "sex", "FEMALE") == shown("EHC_PLAN", "sex", "MALE") == "c"
    assert shown("EHC_PLAN", "primary_need", "SEMH") == shown("EHC_PLAN", "primary_need", "ASD")
    assert shown("EHC_PLAN", "primary_need", "SEMH") == "c"
    assert shown("EHC_PLAN", "sex", "FEMALE", "rate_per_1000") == "x"  # no population by sex
    assert shown("EHC_PLAN", "sex", "FEMALE", "change_on_year") == "c"
    assert cells[("EHC_PLAN", "sex", "FEMALE")]["people"]["status"] == "suppressed"
    assert document["disclosure"]["suppressed_cells"] == 4

    table = CliRunner().invoke(app, ["jsna", "--as-at", "2025-03-20"], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    rows = [[part.strip() for part in line.split("│")[1:-1]] for line in table.output.splitlines()]
    assert ["sex", "FEMALE", "EHC_PLAN", "c", "x", "c"] in rows
    assert ["all", "all", "EHC_PLAN", "15", "7.5", "+15"] in rows

    api = signed_in(warehouse_dsn, api_dsn, "public_health")
    assert api.get("/jsna", params={"as_at": "2025-03-20"}).json() == document
    assert CliRunner().invoke(app, ["jsna", "--as-at", "20/03/2025"]).exit_code == 2


def test_as_at_reads_the_month_end_on_or_before() -> None:
    assert month_end_on_or_before(D(2025, 7, 31)) == D(2025, 7, 31)
    assert month_end_on_or_before(D(2025, 7, 30)) == D(2025, 6, 30)
    assert month_end_on_or_before(D(2024, 3, 1)) == D(2024, 2, 29)
