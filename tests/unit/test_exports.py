"""Exports (`warehouse/exports.py`): each format read back with its own reader.

The documents are the published ones, built by `streams/publication.py`,
`streams/scorecard_publication.py` and `streams/crosstab_publication.py` from hand-made
counts; each export is read back with the csv module, openpyxl or pyarrow and checked
against the document it came from:
the tidy layout, the GSS symbols (a suppressed count is never 0 or blank), the values
and the metadata.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import Counter
from importlib.metadata import version
from typing import Any

import openpyxl
import pyarrow.parquet as pq
import pytest

from contracts.loading import shipped_contracts
from streams.crosstab import DEFINITIONS, CrossTab
from streams.crosstab_publication import publish_crosstab
from streams.disclosure import Rule
from streams.publication import month_table, publish_jsna
from streams.scorecard import CATALOGUE
from streams.scorecard_engine import ScorecardInputs, evaluate
from streams.scorecard_publication import needed_months, publish_scorecard
from warehouse.exports import (
    FORMATS,
    Tidy,
    export_bytes,
    metadata_json,
    tidy_crosstab,
    tidy_jsna,
    tidy_scorecard,
)

RULE = Rule()
NOW, BEFORE = dt.date(2025, 3, 31), dt.date(2024, 3, 31)
GENERATED = dt.datetime(2025, 4, 2, 9, 30, tzinfo=dt.UTC)
CELLS = {
    ("EHC_PLAN", "all", "all"): 60,
    ("EHC_PLAN", "sex", "MALE"): 57,
    ("EHC_PLAN", "sex", "FEMALE"): 3,
    ("EHC_PLAN", "locality", "Blaby"): 40,
    ("EHC_PLAN", "locality", "Melton"): 20,
    ("EHC_PLAN", "flag", "looked_after"): 4,
}


def jsna_document() -> dict[str, Any]:
    before = {key: n - 1 for key, n in CELLS.items()}
    published = publish_jsna(
        month_table(NOW, CELLS, RULE),
        month_table(BEFORE, before, RULE),
        CELLS,
        {("all", "all"): 150_000, ("sex", "MALE"): 76_000},
        RULE,
    )
    return published.document


def crosstab_document() -> dict[str, Any]:
    counts = Counter({("MALE", "Blaby"): 38, ("FEMALE", "Blaby"): 2})
    counts |= {("MALE", "Melton"): 19, ("FEMALE", "Melton"): 1}
    table = month_table(NOW, CELLS, RULE)
    return publish_crosstab(CrossTab(NOW, "sex", "locality", counts), table, RULE).document


def scorecard_document() -> dict[str, Any]:
    months = [dt.date(2024, m, 1) for m in range(1, 13)]
    measures = {("ehcp_20_weeks_excl_exceptions", m): (3 + i, 40) for i, m in enumerate(months)}
    measures |= {("supported_internships", m): (2, 0) for m in months}
    inputs = ScorecardInputs(measures, {}, {2024: 150_000})
    results = evaluate(inputs, months[0], months[-1], dt.date(2024, 12, 31))
    tables = {day: month_table(day, {}, RULE) for day in needed_months(results)}
    return publish_scorecard(inputs, results, tables, dt.date(2024, 12, 31), RULE).document


def read(tidy: Tidy, export_format: str) -> tuple[list[str], list[list[Any]], dict[str, Any]]:
    """The export read back by its own reader: header, rows and metadata."""
    content, media_type, filename = export_bytes(tidy, export_format)
    assert filename == f"{tidy.name}.{export_format}" and media_type
    if export_format == "csv":
        header, *rows = list(csv.reader(io.StringIO(content.decode())))
        return header, rows, json.loads(metadata_json(tidy))
    if export_format == "xlsx":
        book = openpyxl.load_workbook(io.BytesIO(content))
        assert book.sheetnames == ["data", "metadata"]
        header, *data = [list(row) for row in book["data"].iter_rows(values_only=True)]
        meta = {row[0]: row[1] for row in book["metadata"].iter_rows(min_row=2, values_only=True)}
        return [str(h) for h in header], data, meta
    table = pq.read_table(io.BytesIO(content))
    schema = {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
    columns = table.column_names
    rows = [[row[c] for c in columns] for row in table.to_pylist()]
    return columns, rows, schema


def figures(tidy: Tidy) -> list[tuple[tuple[str, ...], str, dict[str, Any]]]:
    """(dimension values, measure, published figure) for every figure in the tidy table."""
    return [
        (tuple(str(row[d]) for d in tidy.dimensions), m, row[m])
        for row in tidy.rows
        for m in tidy.measures
    ]


def check_values(tidy: Tidy, export_format: str) -> None:
    header, rows, _ = read(tidy, export_format)
    assert header == tidy.columns
    assert len(rows) == len(tidy.rows)
    exported = {}
    for row in rows:
        named = dict(zip(header, row, strict=True))
        for m in tidy.measures:
            key = (tuple(str(named[d]) for d in tidy.dimensions), m)
            exported[key] = (named[m], named[f"{m}_symbol"], named[f"{m}_status"])
    symbols = 0
    for key, m, figure in figures(tidy):
        value, symbol, status = exported[(key, m)]
        assert status == figure["status"]
        if figure["value"] is None:
            symbols += 1
            assert symbol == figure["symbol"] and symbol in ("c", "x", "z", "low")
            if export_format == "parquet":
                assert value is None  # typed column: null, with the symbol saying why
            else:
                assert value == figure["symbol"]  # DfE style: the symbol in place of a number
        else:
            assert symbol in ("", None)
            assert float(value) == figure["value"]
    assert symbols > 0


@pytest.mark.parametrize("export_format", FORMATS)
def test_the_jsna_exports_one_row_per_cell_with_a_column_per_breakdown(export_format: str) -> None:
    document = jsna_document()
    tidy = tidy_jsna(document, generated_at=GENERATED)
    check_values(tidy, export_format)
    header, rows, _ = read(tidy, export_format)
    assert header[:3] == ["time_period", "send_status", "primary_need"]
    named = [dict(zip(header, row, strict=True)) for row in rows]
    girls = next(r for r in named if r["sex"] == "FEMALE")
    assert girls["people"] in ("c", None) and girls["people_symbol"] == "c"
    assert girls["people_status"] == "suppressed"
    assert {girls[b] for b in ("primary_need", "locality", "flag", "age_band")} == {"Total"}
    everyone = next(
        r for r in named if r["sex"] == r["locality"] == "Total" and r["flag"] == "Total"
    )
    assert float(everyone["people"]) == 60


def test_one_breakdown_of_the_jsna_keeps_only_its_column_and_the_totals() -> None:
    tidy = tidy_jsna(jsna_document(), "sex", generated_at=GENERATED)
    assert tidy.dimensions == ("time_period", "send_status", "sex")
    assert sorted(str(row["sex"]) for row in tidy.rows) == ["FEMALE", "MALE", "Total"]
    assert set(tidy.metadata["dimensions"]) == {"send_status", "sex"}


@pytest.mark.parametrize("export_format", FORMATS)
def test_a_cross_tab_exports_its_cells_and_each_total_with_total_in_the_other_column(
    export_format: str,
) -> None:
    document = crosstab_document()
    tidy = tidy_crosstab(document, generated_at=GENERATED)
    check_values(tidy, export_format)
    header, rows, _ = read(tidy, export_format)
    assert header[:3] == ["time_period", "sex", "locality"]
    keys = [(str(row[1]), str(row[2])) for row in rows]
    assert ("FEMALE", "Blaby") in keys and ("FEMALE", "Total") in keys
    assert ("Total", "Melton") in keys
    assert len(keys) == len(document["cells"]) + 2 + 2


@pytest.mark.parametrize("export_format", FORMATS)
def test_the_scorecard_exports_one_row_per_kpi_per_period(export_format: str) -> None:
    document = scorecard_document()
    tidy = tidy_scorecard(document, generated_at=GENERATED)
    check_values(tidy, export_format)
    header, rows, _ = read(tidy, export_format)
    named = [dict(zip(header, row, strict=True)) for row in rows]
    on_time = [r for r in named if r["kpi_id"] == "ehcp_20_weeks_excl_exceptions"]
    assert [r["time_identifier"] for r in on_time] == ["headline"] + ["month"] * 12
    assert on_time[1]["time_period"] == "2024-01"
    assert on_time[1]["numerator_symbol"] == "c" and on_time[1]["value_symbol"] == "c"
    assert float(on_time[1]["denominator"]) == 40
    assert len(named) == sum(1 + len(kpi["trend"]) for kpi in document["kpis"])


def test_every_export_carries_its_metadata() -> None:
    contracts = [
        {"contract_id": c.contract_id, "version": c.version, "purposes": list(c.purposes)}
        for c in shipped_contracts().values()
    ]
    scorecard = tidy_scorecard(scorecard_document(), generated_at=GENERATED)
    jsna = tidy_jsna(jsna_document(), generated_at=GENERATED)
    for tidy in (scorecard, jsna):
        meta = json.loads(metadata_json(tidy))
        assert meta["generated_at"] == "2025-04-02T09:30:00+00:00"
        assert meta["hub_version"] == version("joint-commissioning-hub")
        assert meta["contracts"] == contracts and contracts
        assert "counts from 1 to 7 suppressed" in meta["disclosure"]["rule"]
        assert meta["disclosure"]["symbols"]["c"] == "suppressed"
    assert json.loads(metadata_json(scorecard))["as_at"] == "2024-12-31"
    kpis = json.loads(metadata_json(scorecard))["measures"]
    assert {kpi.id: kpi.definition for kpi in CATALOGUE} == {
        kpi_id: found["definition"] for kpi_id, found in kpis.items()
    }
    meta = json.loads(metadata_json(jsna))
    assert meta["as_at"] == "2025-03-31" and meta["compared_with"] == "2024-03-31"
    assert meta["dimensions"]["sex"] == DEFINITIONS["sex"]
    assert set(meta["measures"]) == {
        "people",
        "rate_per_1000",
        "people_a_year_before",
        "change_on_year",
    }

    _, _, sheet = read(jsna, "xlsx")
    assert sheet["as_at"] == "2025-03-31" and sheet["hub_version"] == meta["hub_version"]
    assert sheet["disclosure rule"] == meta["disclosure"]["rule"]
    assert sheet["dimension locality"] == DEFINITIONS["locality"]
    contract = contracts[0]
    assert sheet[f"contract {contract['contract_id']}"].startswith(f"version {contract['version']}")
    assert sheet["measure people"] == meta["measures"]["people"]

    _, _, schema = read(jsna, "parquet")
    assert json.loads(schema["hub.metadata"]) == meta
    assert (
        schema["as_at"] == "2025-03-31" and schema["disclosure_rule"] == meta["disclosure"]["rule"]
    )


def test_an_unknown_format_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="csv, xlsx, parquet"):
        export_bytes(tidy_jsna(jsna_document()), "ods")
