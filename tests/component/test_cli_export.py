"""`hub jsna --by` and `hub export` on the smoke synthetic area: the published documents,
as a table, as JSON and as files, through the same disclosure control."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import openpyxl
import psycopg
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from hub.cli import app
from tests.component.test_disclosure_audit import AS_AT, area  # noqa: F401 (the fixture)
from warehouse.crosstab import crosstab_document
from warehouse.scorecard import scorecard_document

runner = CliRunner()


def test_jsna_by_two_breakdowns_prints_the_published_cross_tab(area: str) -> None:  # noqa: F811
    result = runner.invoke(
        app, ["jsna", "--by", "primary_need,locality", "--as-at", "2026-09-05", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    with psycopg.connect(area) as conn:
        expected = crosstab_document(conn, AS_AT, "primary_need", "locality")
    assert json.loads(result.output) == expected
    assert expected["as_at"] == AS_AT.isoformat()
    assert {c["people"]["status"] for c in expected["cells"]} >= {"suppressed"}
    table = runner.invoke(app, ["jsna", "--by", "sex,age_band"], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert "People by sex and age_band" in table.output and "total" in table.output


@pytest.mark.parametrize("by", ["sex", "sex,sex", "sex,shoe_size", "sex,age_band,locality"])
def test_jsna_by_anything_but_two_known_breakdowns_is_a_usage_error(
    area: str,  # noqa: F811
    by: str,
) -> None:
    result = runner.invoke(app, ["jsna", "--by", by])
    assert result.exit_code == 2
    assert "breakdown" in result.output


def test_export_jsna_by_two_breakdowns_writes_the_cross_tab_as_csv_with_its_sidecar(
    area: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    out = tmp_path / "need-by-locality.csv"
    result = runner.invoke(
        app,
        [
            *("export", "jsna", "--format", "csv", "--by", "primary_need,locality"),
            *("--out", str(out), "--as-at", AS_AT.isoformat()),
        ],
    )
    assert result.exit_code == 0, result.output
    with psycopg.connect(area) as conn:
        document = crosstab_document(conn, AS_AT, "primary_need", "locality")
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    cells = {(c["row"], c["column"]): c["people"] for c in document["cells"]}
    inner = [r for r in rows if "Total" not in (r["primary_need"], r["locality"])]
    assert len(inner) == len(cells)
    for row in inner:
        figure = cells[(row["primary_need"], row["locality"])]
        shown = figure["symbol"] if figure["value"] is None else str(figure["value"])
        assert (row["people"], row["people_status"]) == (shown, figure["status"])
        assert row["people"] not in ("", "0") or figure["status"] == "exact"
    sidecar = json.loads((tmp_path / "need-by-locality.csv.json").read_text())
    assert sidecar["as_at"] == document["as_at"]
    assert sidecar["disclosure"] == document["disclosure"]
    assert set(sidecar["dimensions"]) == {"primary_need", "locality"}


def test_export_scorecard_as_xlsx_and_parquet_holds_the_published_figures(
    area: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    with psycopg.connect(area) as conn:
        document = scorecard_document(conn)
    headline = {kpi["id"]: kpi for kpi in document["kpis"]}
    xlsx, parquet = tmp_path / "scorecard.xlsx", tmp_path / "scorecard.parquet"
    for path in (xlsx, parquet):
        result = runner.invoke(
            app, ["export", "scorecard", "--format", path.suffix[1:], "--out", str(path)]
        )
        assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(xlsx)["data"]
    header, *rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    table = pq.read_table(parquet).to_pylist()
    assert len(rows) == len(table) == sum(1 + len(k["trend"]) for k in document["kpis"])
    for row, typed in zip(rows, table, strict=True):
        named = dict(zip(header, row, strict=True))
        if named["time_identifier"] != "headline":
            continue
        kpi = headline[named["kpi_id"]]
        for measure in ("numerator", "denominator", "value"):
            figure = kpi[measure]
            assert named[f"{measure}_status"] == typed[f"{measure}_status"] == figure["status"]
            if figure["value"] is None:
                assert named[measure] == figure["symbol"] and typed[measure] is None
            else:
                assert named[measure] == typed[measure] == figure["value"]
    metadata = pq.read_schema(parquet).metadata
    assert json.loads(metadata[b"hub.metadata"])["disclosure"] == document["disclosure"]


@pytest.mark.parametrize(
    "arguments",
    [
        ["export", "scorecard", "--by", "sex"],
        ["export", "jsna", "--format", "ods"],
        ["export", "jsna", "--by", "send_status"],
        ["export", "minutes", "--format", "csv"],
    ],
)
def test_export_refuses_what_it_cannot_write(
    area: str,  # noqa: F811
    tmp_path: Path,
    arguments: list[str],
) -> None:
    result = runner.invoke(app, [*arguments, "--out", str(tmp_path / "out.csv")])
    assert result.exit_code == 2, result.output
    assert not (tmp_path / "out.csv").exists()
