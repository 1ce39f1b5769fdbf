"""The disclosure audit on a whole synthetic area: everything published passes the attack.

The smoke area (about 400 children and young people with SEND over four years) is loaded
straight into PostgreSQL, as the worker would apply it; `hub disclosure audit` then
solves the attacker's linear programme for every suppressed count the JSNA and the
scorecard would publish as at the area's last month end and the one before, with every
cross-tabulation of two breakdowns at both.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.settings import HubSettings
from producers.synthetic.area import SMOKE, Faults
from producers.synthetic.area_files import generate_area, read_events
from schemas.catalogue import default_catalogue
from streams.disclosure import Rule
from streams.disclosure_audit import audit
from streams.ingest import RawMessage, sort_messages
from streams.worker.unit_of_work import CurrentProjection, apply_batch
from warehouse.disclosure import published_ledger

runner = CliRunner()
AS_AT = dt.date(2026, 8, 31)  # the smoke area's last day


@pytest.fixture
def area(hub_settings: HubSettings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """The smoke area in this test's warehouse, with its reference data; the DSN."""
    for name, value in hub_settings.as_env().items():
        monkeypatch.setenv(name, value)
    generate_area(SMOKE, 11, 1.0, tmp_path, faults=Faults.none())
    loaded = runner.invoke(app, ["reference", "load", str(tmp_path / "reference")])
    assert loaded.exit_code == 0, loaded.output
    messages = read_events(tmp_path / "events.bin")
    received = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
    raw = [RawMessage("events", 0, n, value, received) for n, value in enumerate(messages)]
    batch = sort_messages(default_catalogue(), raw)
    dsn = hub_settings.warehouse_dsn()
    with psycopg.connect(dsn, autocommit=True) as conn:
        apply_batch(conn, batch.events, batch.manifests, projection=CurrentProjection())
    return dsn


def figures(document: Any) -> list[dict[str, Any]]:
    """Every published figure in a document: the dicts carrying a status."""
    if isinstance(document, dict):
        if "status" in document and "symbol" in document:
            return [document]
        return [f for value in document.values() for f in figures(value)]
    if isinstance(document, list):
        return [f for value in document for f in figures(value)]
    return []


def test_everything_published_for_the_smoke_area_passes_the_audit(area: str) -> None:
    result = runner.invoke(
        app, ["disclosure", "audit", "--as-at", AS_AT.isoformat(), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert found["passed"] and found["failures"] == [] and found["inconsistent"] == []
    assert (found["as_at"], found["month_before"]) == ("2026-08-31", "2026-07-31")
    assert found["suppressed_primary"] > 0 and found["suppressed_secondary"] > 0
    assert found["suppressed"] == found["suppressed_primary"] + found["suppressed_secondary"]
    assert found["narrowest_values"] >= found["threshold"] == 8
    assert found["crosstabs"] == 36  # every pair of breakdowns, at both month ends


def test_without_secondary_suppression_the_smoke_area_leaks(area: str) -> None:
    off = Rule(secondary_suppression=False)
    with psycopg.connect(area) as conn:
        ledger = published_ledger(conn, AS_AT, off)
    report = audit(off, ledger.shown, sorted(ledger.sums, key=repr))
    assert not report.passed and len(report.failures) > 0


def test_every_figure_that_leaves_is_zero_rounded_derived_or_a_symbol(area: str) -> None:
    published = []
    for command in (
        ["jsna", "--as-at", AS_AT.isoformat(), "--format", "json"],
        ["scorecard", "--format", "json"],
    ):
        result = runner.invoke(app, command)
        assert result.exit_code == 0, result.output
        document = json.loads(result.output)
        assert document["disclosure"]["suppressed_cells"] > 0
        published += figures(document)
    statuses = {figure["status"] for figure in published}
    assert {"rounded", "suppressed", "derived", "exact", "not_applicable"} <= statuses
    for figure in published:
        value, symbol, status = figure["value"], figure["symbol"], figure["status"]
        if status == "rounded":
            assert value >= 10 and value % 5 == 0 and symbol is None
        elif status in ("suppressed", "low", "not_available", "not_applicable"):
            assert value is None and symbol in ("c", "low", "x", "z")
        else:
            assert status in ("exact", "derived") and symbol is None
    table = runner.invoke(app, ["jsna", "--as-at", AS_AT.isoformat()], env={"COLUMNS": "200"})
    assert " c " in table.output and "c suppressed" in table.output
