"""Exports: the published documents in DfE's tidy layout, as CSV, XLSX or Parquet, with metadata.

Built only from what `streams/publication.py`, `streams/scorecard_publication.py` and
`streams/crosstab_publication.py` publish (the JSNA, the scorecard, a cross-tab), never
from raw counts, so an export is protected exactly as the API and the CLI are. One row
per cell, a column per dimension, and for each measure three columns: the figure as DfE
publishes it (the number, or the GSS symbol in its place, never 0 or blank for a
suppressed count), its symbol and its machine-readable status. Parquet keeps
the figure typed (a float, null only where the symbol column says why). The metadata
(as-at date, time generated, hub version, the contracts and purposes drawn on, the
disclosure rule, each measure's definition) goes in a sheet of the XLSX, the schema of
the Parquet file, or a sidecar `<file>.json` beside the CSV. `export_bytes` is what
`hub export` and the API's downloads call.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import xlsxwriter

from contracts.loading import shipped_contracts
from streams.crosstab import DEFINITIONS
from streams.scorecard import CATALOGUE

DISTRIBUTION = "joint-commissioning-hub"  # pyproject's project name
MEDIA_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "parquet": "application/vnd.apache.parquet",
}
FORMATS = tuple(MEDIA_TYPES)
TOTAL = "Total"  # DfE's value for a dimension a row is not broken down by
JSNA_MEASURES = {
    "people": "Children and young people aged 0-25 in the cell on the as-at date (a month end)",
    "rate_per_1000": "People per 1,000 of the same breakdown's resident population aged 0-25 "
    "(ONS mid-year estimate), from the protected count",
    "people_a_year_before": "People in the cell at the month end a year before",
    "change_on_year": "People now less people a year before, from the protected counts",
}
SCORECARD_MEASURES = ("numerator", "denominator", "value", "change_percent")


@dataclass(frozen=True)
class Tidy:
    """A published document as a tidy table: dimension columns, then each measure's three."""

    name: str  # names the file: scorecard-2026-08-31, jsna-..., jsna-sex-by-age_band-...
    dimensions: tuple[str, ...]
    measures: tuple[str, ...]
    rows: list[dict[str, Any]]  # dimensions as text, measures as published figures (JSON)
    metadata: dict[str, Any]

    @property
    def columns(self) -> list[str]:
        measured = [f"{m}{end}" for m in self.measures for end in ("", "_symbol", "_status")]
        return [*self.dimensions, *measured]


def hub_version() -> str:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def metadata(
    document: Mapping[str, Any],
    measures: Mapping[str, Any],
    dimensions: Mapping[str, str],
    generated_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """What an export says about itself (see the module's docstring)."""
    generated = generated_at or dt.datetime.now(dt.UTC)
    return {
        "as_at": document.get("as_at"),
        "generated_at": generated.isoformat(timespec="seconds"),
        "hub_version": hub_version(),
        "contracts": [
            {"contract_id": c.contract_id, "version": c.version, "purposes": list(c.purposes)}
            for c in shipped_contracts().values()
        ],
        "disclosure": document["disclosure"],
        "dimensions": dict(dimensions),
        "measures": dict(measures),
        "layout": "tidy: one row per cell, a column per dimension ('Total' where a row is not "
        "broken down by it); each measure as the figure (number or GSS symbol), "
        "<measure>_symbol and <measure>_status",
    }


def tidy_jsna(
    document: Mapping[str, Any],
    breakdown: str | None = None,
    generated_at: dt.datetime | None = None,
) -> Tidy:
    """The JSNA's one-way cells (every breakdown, or one): a column per breakdown."""
    breakdowns = [b for b in DEFINITIONS if b not in ("send_status",)]
    rows = []
    for cell in document["cells"]:
        if breakdown and cell["dimension"] not in (breakdown, "all"):
            continue
        row: dict[str, Any] = {"time_period": document["as_at"], "send_status": cell["send_status"]}
        row |= {b: cell["value"] if cell["dimension"] == b else TOTAL for b in breakdowns}
        row |= {measure: cell[measure] for measure in JSNA_MEASURES}
        rows.append(row)
    shown = [breakdown] if breakdown else breakdowns
    dimensions = {b: DEFINITIONS[b] for b in ("send_status", *shown)}
    return Tidy(
        name=f"jsna-{breakdown + '-' if breakdown else ''}{document['as_at']}",
        dimensions=("time_period", "send_status", *shown),
        measures=tuple(JSNA_MEASURES),
        rows=[{k: v for k, v in row.items() if k not in breakdowns or k in shown} for row in rows],
        metadata=metadata(document, JSNA_MEASURES, dimensions, generated_at)
        | {"compared_with": document["compared_with"]},
    )


def tidy_crosstab(document: Mapping[str, Any], generated_at: dt.datetime | None = None) -> Tidy:
    """A cross-tab: its cells, then each row's and column's total ('Total' in the other)."""
    rows_name, columns_name = document["rows"], document["columns"]
    rows = [
        {"time_period": document["as_at"], rows_name: c["row"], columns_name: c["column"]}
        | {"people": c["people"]}
        for c in document["cells"]
    ]
    rows += [
        {"time_period": document["as_at"], rows_name: t["row"], columns_name: TOTAL}
        | {"people": t["people"]}
        for t in document["row_totals"]
    ]
    rows += [
        {"time_period": document["as_at"], rows_name: TOTAL, columns_name: t["column"]}
        | {"people": t["people"]}
        for t in document["column_totals"]
    ]
    dimensions = {rows_name: DEFINITIONS[rows_name], columns_name: DEFINITIONS[columns_name]}
    return Tidy(
        name=f"jsna-{rows_name}-by-{columns_name}-{document['as_at']}",
        dimensions=("time_period", rows_name, columns_name),
        measures=("people",),
        rows=rows,
        metadata=metadata(document, {"people": JSNA_MEASURES["people"]}, dimensions, generated_at)
        | {"note": document["note"]},
    )


def tidy_scorecard(document: Mapping[str, Any], generated_at: dt.datetime | None = None) -> Tidy:
    """One row per KPI per period: the headline span, then each month of its trend."""
    not_applicable = {"value": None, "symbol": "z", "status": "not_applicable"}
    rows = []
    for kpi in document["kpis"]:
        span = f"{kpi['period_from']} to {kpi['period_to']}" if kpi["period_from"] else "z"
        base = {"kpi_id": kpi["id"], "kpi_name": kpi["name"], "unit": kpi["unit"]}
        rows.append(
            base
            | {"time_period": span, "time_identifier": "headline", "rag": kpi["rag"]}
            | {m: kpi[m] for m in SCORECARD_MEASURES}
        )
        for month in kpi["trend"]:
            rows.append(
                base
                | {"time_period": month["period"], "time_identifier": "month", "rag": "z"}
                | {m: month[m] for m in ("numerator", "denominator", "value")}
                | {"change_percent": not_applicable}
            )
    definitions = {
        kpi.id: {
            "name": kpi.name,
            "definition": kpi.definition,
            "unit": kpi.unit.value,
            "source": kpi.source,
            "owner": kpi.owner,
        }
        for kpi in CATALOGUE
    }
    dimensions = {
        "kpi_id": "The KPI's stable identifier (its definition is under measures)",
        "time_period": "A month (YYYY-MM), or the headline span 'YYYY-MM to YYYY-MM'",
        "time_identifier": "headline (the span) or month (one month of the trend)",
        "rag": "Red/amber/green against the target on the headline row; z on months",
    }
    return Tidy(
        name=f"scorecard-{document['as_at'] or 'empty'}",
        dimensions=("kpi_id", "kpi_name", "unit", "time_period", "time_identifier", "rag"),
        measures=SCORECARD_MEASURES,
        rows=rows,
        metadata=metadata(document, definitions, dimensions, generated_at),
    )


def _figure(figure: Mapping[str, Any]) -> Any:
    """As DfE's files show a figure: the number, or the GSS symbol standing in for it."""
    return figure["symbol"] if figure["value"] is None else figure["value"]


def _flat(tidy: Tidy) -> list[list[Any]]:
    table = []
    for row in tidy.rows:
        line = [row[d] for d in tidy.dimensions]
        for m in tidy.measures:
            line += [_figure(row[m]), row[m]["symbol"] or "", row[m]["status"]]
        table.append(line)
    return table


def metadata_json(tidy: Tidy) -> bytes:
    """The sidecar beside a CSV (and what the XLSX and Parquet files carry inside)."""
    return json.dumps(tidy.metadata, indent=2).encode()


def _csv(tidy: Tidy) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(tidy.columns)
    writer.writerows(_flat(tidy))
    return out.getvalue().encode()


def _metadata_lines(meta: Mapping[str, Any]) -> list[tuple[str, str]]:
    lines = [
        ("as_at", str(meta["as_at"])),
        ("generated_at", meta["generated_at"]),
        ("hub_version", meta["hub_version"]),
        ("disclosure rule", meta["disclosure"]["rule"]),
    ]
    lines += [(f"symbol {s}", text) for s, text in meta["disclosure"]["symbols"].items()]
    lines += [
        (
            f"contract {c['contract_id']}",
            f"version {c['version']}; purposes: " + "; ".join(c["purposes"]),
        )
        for c in meta["contracts"]
    ]
    lines += [(f"dimension {name}", text) for name, text in meta["dimensions"].items()]
    for name, definition in meta["measures"].items():
        text = definition if isinstance(definition, str) else json.dumps(definition)
        lines.append((f"measure {name}", text))
    lines.append(("layout", meta["layout"]))
    lines += [(key, str(meta[key])) for key in ("compared_with", "note") if key in meta]
    return lines


def _xlsx(tidy: Tidy) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    data = book.add_worksheet("data")
    bold = book.add_format({"bold": True})
    data.write_row(0, 0, tidy.columns, bold)
    for number, line in enumerate(_flat(tidy), start=1):
        for column, value in enumerate(line):
            if isinstance(value, int | float) and not isinstance(value, bool):
                data.write_number(number, column, value)
            else:
                data.write_string(number, column, str(value))
    data.freeze_panes(1, 0)
    sheet = book.add_worksheet("metadata")
    sheet.write_row(0, 0, ["field", "value"], bold)
    for number, (field, value) in enumerate(_metadata_lines(tidy.metadata), start=1):
        sheet.write_string(number, 0, field)
        sheet.write_string(number, 1, value)
    sheet.set_column(0, 0, 32)
    sheet.set_column(1, 1, 120)
    book.close()
    return out.getvalue()


def _parquet(tidy: Tidy) -> bytes:
    arrays: dict[str, pa.Array] = {
        d: pa.array([str(row[d]) for row in tidy.rows], pa.string()) for d in tidy.dimensions
    }
    for m in tidy.measures:
        arrays[m] = pa.array([row[m]["value"] for row in tidy.rows], pa.float64())
        arrays[f"{m}_symbol"] = pa.array([row[m]["symbol"] for row in tidy.rows], pa.string())
        arrays[f"{m}_status"] = pa.array([row[m]["status"] for row in tidy.rows], pa.string())
    meta = tidy.metadata
    schema_metadata = {
        "hub.metadata": json.dumps(meta),
        "as_at": str(meta["as_at"]),
        "generated_at": meta["generated_at"],
        "hub_version": meta["hub_version"],
        "disclosure_rule": meta["disclosure"]["rule"],
    }
    table = pa.table(arrays).replace_schema_metadata(schema_metadata)
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


WRITERS = {"csv": _csv, "xlsx": _xlsx, "parquet": _parquet}


def export_bytes(tidy: Tidy, export_format: str) -> tuple[bytes, str, str]:
    """The export as a file: its bytes, media type and file name (the CSV's metadata is
    `metadata_json`, written beside it as `<file>.json`)."""
    if export_format not in WRITERS:
        raise ValueError(f"no export format {export_format!r}: choose from {', '.join(FORMATS)}")
    content = WRITERS[export_format](tidy)
    return content, MEDIA_TYPES[export_format], f"{tidy.name}.{export_format}"


def tidy_for(kind: str, document: Mapping[str, Any], by: Sequence[str] = ()) -> Tidy:
    """The tidy table of a published document: `scorecard`, or `jsna` (by one breakdown,
    all of them, or, with two, the cross-tab document of that pair)."""
    if kind == "scorecard":
        return tidy_scorecard(document)
    if len(by) == 2:
        return tidy_crosstab(document)
    return tidy_jsna(document, by[0] if by else None)
