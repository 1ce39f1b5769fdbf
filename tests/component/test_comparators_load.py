"""Published comparators are reference data (issue 13, point 4): `hub reference load` loads
the figures the hub ships with, records them with the load, and the scorecard shows them."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.settings import HubSettings
from warehouse.connection import connect
from warehouse.reference import reference_loads
from warehouse.scorecard import scorecard_document

runner = CliRunner()


@pytest.fixture
def reference(hub_settings: HubSettings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A `reference/` directory with localities and population but no comparators.csv."""
    for name, value in hub_settings.as_env().items():
        monkeypatch.setenv(name, value)
    (tmp_path / "localities.csv").write_text("lsoa_code,locality\nE01000001,Charnwood\n")
    (tmp_path / "population.csv").write_text("year,dimension,value,people\n2024,all,all,150000\n")
    return tmp_path


def test_reference_load_ships_the_published_comparators_into_the_scorecard(
    reference: Path, hub_settings: HubSettings
) -> None:
    loaded = runner.invoke(app, ["reference", "load", str(reference), "--by", "analyst"])
    assert loaded.exit_code == 0, loaded.output
    assert "15 published comparators" in loaded.output
    with connect(hub_settings.warehouse_dsn()) as conn:
        [load] = reference_loads(conn)
        assert load.comparators == 15
        held = conn.execute("SELECT DISTINCT load_id FROM reference_comparators").fetchall()
        assert held == [(load.load_id,)]
        document = scorecard_document(conn)
    kpis = {kpi["id"]: kpi for kpi in document["kpis"]}
    england = {
        entry["year"]: entry
        for entry in kpis["ehcp_20_weeks_excl_exceptions"]["comparators"]
        if entry["geography_code"] == "E92000001"
    }
    assert england[2024]["value"] == 46.4
    assert england[2024]["comparison"] == "no_area_figure"  # no plans issued here yet
    assert kpis["tribunal_appeals"]["comparators_note"] == "no comparator published"


def test_a_comparators_file_with_a_plain_http_source_is_refused(reference: Path) -> None:
    bad = reference / "mine.csv"
    bad.write_text(
        "geography_code,geography_name,geography_kind,kpi_id,year,period,value,numerator,"
        "denominator,source,url,note\n"
        "E92000001,England,england,ehcp_growth,2025,as_at_january,638700,,,DfE,"
        "http://example.org,\n"
    )
    loaded = runner.invoke(app, ["reference", "load", str(reference), "--comparators", str(bad)])
    assert loaded.exit_code == 2
    assert "https" in loaded.output
