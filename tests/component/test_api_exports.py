"""The API's downloads on the smoke synthetic area: the files `hub export` writes, byte for byte.

A commissioner downloads the scorecard and a public health analyst the JSNA (every
breakdown, one, or a cross-tab) as CSV, XLSX or Parquet. Each file is the CLI's for the
same arguments but for the moment it was made; it opens in openpyxl and pyarrow,
carries its metadata, and shows a suppressed count as `c`, never as 0. A CSV's metadata
is its own download, the `<file>.json` the CLI writes beside it.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import psycopg
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from contracts.loading import shipped_contracts
from hub.cli import app
from streams.crosstab import DEFINITIONS
from streams.scorecard import CATALOGUE
from tests.component.test_disclosure_audit import AS_AT, area  # noqa: F401 (the fixture)
from tests.support.api import signed_in
from warehouse.access_log import read_access
from warehouse.connection import connect
from warehouse.crosstab import crosstab_document
from warehouse.exports import JSNA_MEASURES, MEDIA_TYPES, hub_version

FORMATS = ("csv", "xlsx", "parquet")
DAY = "2026-09-05"  # the smoke area's last month end is the one on or before it
PAIR = "primary_need,locality"
PROBLEM = "application/problem+json"
# (route, its parameters, `hub export` arguments): the same export asked both ways
ASKED = [
    ("scorecard", {"to": "2026-08"}, ["--as-at", "2026-08-31"]),
    ("jsna", {"as_at": DAY}, ["--as-at", DAY]),
    ("jsna", {"as_at": DAY, "by": "age_band"}, ["--as-at", DAY, "--by", "age_band"]),
    ("jsna", {"as_at": DAY, "by": PAIR}, ["--as-at", DAY, "--by", PAIR]),
]


def written_by_the_cli(tmp_path: Path, kind: str, export_format: str, arguments: list[str]) -> Path:
    out = tmp_path / f"{kind}-{len(list(tmp_path.iterdir()))}.{export_format}"
    result = CliRunner().invoke(
        app, ["export", kind, "--format", export_format, "--out", str(out), *arguments]
    )
    assert result.exit_code == 0, result.output
    return out


def generated_at(content: bytes, export_format: str) -> str:
    """The time an export was made, as its metadata states it."""
    if export_format == "parquet":
        return str(pq.read_schema(io.BytesIO(content)).metadata[b"generated_at"].decode())
    sheet = openpyxl.load_workbook(io.BytesIO(content))["metadata"]
    return str(dict(sheet.iter_rows(min_row=2, values_only=True))["generated_at"])


XLSX_CREATED = re.compile(rb"<dcterms:(created|modified) ([^>]*)>[^<]*<")


def but_for_the_time(content: bytes, export_format: str, at: str, instead: str) -> Any:
    """The file with the time it was made (`at`) put as `instead`: bytes, or an XLSX's parts."""
    if export_format == "csv":
        return content  # a CSV states no time: its metadata is the sidecar
    if export_format == "parquet":  # the time, as text and in the base64 Arrow schema
        schema = pq.ParquetFile(io.BytesIO(content)).metadata.metadata[b"ARROW:schema"]
        again = base64.b64encode(base64.b64decode(schema).replace(at.encode(), instead.encode()))
        return content.replace(schema, again).replace(at.encode(), instead.encode())
    with zipfile.ZipFile(io.BytesIO(content)) as book:  # and the workbook's created stamp
        return [
            (
                name,
                XLSX_CREATED.sub(rb"<dcterms:\1 \2>then<", book.read(name)).replace(
                    at.encode(), instead.encode()
                ),
            )
            for name in book.namelist()
        ]


def metadata_without_the_time(content: bytes) -> dict[str, Any]:
    metadata: dict[str, Any] = json.loads(content)
    dt.datetime.fromisoformat(metadata.pop("generated_at"))
    return metadata


def test_every_download_is_the_file_hub_export_writes_for_the_same_arguments(
    area: str,  # noqa: F811
    api_dsn: str,
    tmp_path: Path,
) -> None:
    roles = {"scorecard": "commissioner", "jsna": "public_health"}
    clients = {kind: signed_in(area, api_dsn, role) for kind, role in roles.items()}
    for kind, parameters, arguments in ASKED:
        for export_format in FORMATS:
            asked = parameters | {"format": export_format}
            response = clients[kind].get(f"/exports/{kind}", params=asked)
            assert response.status_code == 200, (asked, response.text)
            assert response.headers["content-type"].startswith(MEDIA_TYPES[export_format])
            by = parameters.get("by", "").replace(",", "-by-")
            named = re.fullmatch(
                rf'attachment; filename="({kind}-(?:{by}-)?[0-9-]+\.{export_format})"',
                response.headers["content-disposition"],
            )
            assert named, (asked, response.headers["content-disposition"])

            written = written_by_the_cli(tmp_path, kind, export_format, arguments)
            ours, theirs = response.content, written.read_bytes()
            if export_format != "csv":
                at, then = generated_at(ours, export_format), generated_at(theirs, export_format)
                ours = but_for_the_time(ours, export_format, at, then)
                theirs = but_for_the_time(theirs, export_format, then, then)
            assert ours == theirs, asked

            if export_format == "csv":  # the sidecar, as its own download
                sidecar = clients[kind].get(f"/exports/{kind}/metadata", params=parameters)
                assert sidecar.status_code == 200, sidecar.text
                assert sidecar.headers["content-disposition"] == (
                    f'attachment; filename="{named.group(1)}.json"'
                )
                beside = written.with_name(written.name + ".json").read_bytes()
                assert metadata_without_the_time(sidecar.content) == metadata_without_the_time(
                    beside
                )


def test_each_file_opens_carries_its_metadata_and_shows_a_suppressed_count_as_c(
    area: str,  # noqa: F811
    api_dsn: str,
) -> None:
    with psycopg.connect(area) as conn:
        published = crosstab_document(conn, AS_AT, "primary_need", "locality")
    shown = {(c["row"], c["column"]): c["people"] for c in published["cells"]}
    shown |= {(t["row"], "Total"): t["people"] for t in published["row_totals"]}
    shown |= {("Total", t["column"]): t["people"] for t in published["column_totals"]}
    suppressed = {key for key, figure in shown.items() if figure["status"] == "suppressed"}
    assert suppressed, "the smoke area's cross-tab has suppressed cells"
    client = signed_in(area, api_dsn, "public_health")

    def download(export_format: str) -> bytes:
        response = client.get(
            "/exports/jsna", params={"as_at": DAY, "by": PAIR, "format": export_format}
        )
        assert response.status_code == 200, response.text
        return bytes(response.content)

    text = list(csv.DictReader(io.StringIO(download("csv").decode())))
    book = openpyxl.load_workbook(io.BytesIO(download("xlsx")))
    header, *lines = book["data"].iter_rows(values_only=True)
    sheet = [dict(zip(header, line, strict=True)) for line in lines]
    parquet = pq.read_table(io.BytesIO(download("parquet")))
    typed = parquet.to_pylist()
    assert len(text) == len(sheet) == len(typed) == len(shown)
    for row, cell, value in zip(text, sheet, typed, strict=True):
        key = (row["primary_need"], row["locality"])
        figure = shown[key]
        assert cell["primary_need"] == value["primary_need"] == key[0]
        assert cell["locality"] == value["locality"] == key[1]
        assert row["people_status"] == cell["people_status"] == value["people_status"]
        assert row["people_status"] == figure["status"]
        if key in suppressed:
            assert row["people"] == cell["people"] == row["people_symbol"] == "c"
            assert (value["people"], value["people_symbol"]) == (None, "c")
        else:
            assert row["people"] != "c" and value["people"] == figure["value"]
        if figure["value"] is None:  # a figure withheld is never a 0 or a blank
            assert row["people"] not in ("", "0") and cell["people"] not in (0, "", None)

    sidecar = client.get("/exports/jsna/metadata", params={"as_at": DAY, "by": PAIR}).json()
    stated = {
        "csv": sidecar,
        "parquet": json.loads(parquet.schema.metadata[b"hub.metadata"]),
    }
    fields = dict(book["metadata"].iter_rows(min_row=2, values_only=True))
    for metadata in stated.values():
        assert metadata["as_at"] == fields["as_at"] == AS_AT.isoformat()
        assert dt.datetime.fromisoformat(metadata["generated_at"]).utcoffset() == dt.timedelta(0)
        assert metadata["hub_version"] == fields["hub_version"] == hub_version()
        assert metadata["disclosure"] == published["disclosure"]
        assert fields["disclosure rule"] == published["disclosure"]["rule"]
        assert metadata["dimensions"] == {
            name: DEFINITIONS[name] for name in ("primary_need", "locality")
        }
        assert metadata["measures"] == {"people": JSNA_MEASURES["people"]}
        assert fields["measure people"] == JSNA_MEASURES["people"]
        assert metadata["note"] == published["note"]
        for contract in shipped_contracts().values():
            used = {c["contract_id"]: c for c in metadata["contracts"]}[contract.contract_id]
            assert (used["version"], used["purposes"]) == (
                contract.version,
                list(contract.purposes),
            )
            assert all(p in fields[f"contract {contract.contract_id}"] for p in contract.purposes)

    scorecard = signed_in(area, api_dsn, "commissioner").get("/exports/scorecard/metadata")
    definitions = scorecard.json()["measures"]
    assert {kpi.id: kpi.definition for kpi in CATALOGUE} == {
        kpi: stated["definition"] for kpi, stated in definitions.items()
    }


def test_the_access_log_counts_a_downloads_rows_figures_and_suppressed_ones(
    area: str,  # noqa: F811
    api_dsn: str,
) -> None:
    client = signed_in(area, api_dsn, "public_health")
    asked = {"as_at": DAY, "by": "age_band", "format": "csv"}
    rows = list(csv.DictReader(io.StringIO(client.get("/exports/jsna", params=asked).text)))
    statuses = [row[f"{measure}_status"] for row in rows for measure in JSNA_MEASURES]
    assert client.get("/exports/jsna/metadata", params={"by": "age_band"}).status_code == 200
    with connect(area) as conn:
        metadata, data = read_access(conn)  # newest first
    assert (data.route, data.status, dict(data.parameters)) == ("/exports/jsna", 200, asked)
    assert data.rows_returned == len(rows)
    assert data.cells_returned == len(statuses) == len(rows) * len(JSNA_MEASURES)
    assert data.cells_suppressed == statuses.count("suppressed") > 0
    assert (metadata.route, metadata.rows_returned, metadata.cells_returned) == (
        "/exports/jsna/metadata",
        0,
        0,
    )


@pytest.mark.parametrize(
    ("path", "parameters", "reason"),
    [
        ("/exports/jsna", {"format": "ods"}, "format: Input should be 'csv', 'xlsx' or 'parquet'"),
        ("/exports/jsna", {"by": "send_status"}, "no breakdown 'send_status'"),
        ("/exports/jsna", {"by": "sex,sex"}, "two different breakdowns"),
        ("/exports/jsna", {"by": "sex,age_band,locality"}, "one breakdown or two"),
        ("/exports/jsna", {"as_at": "0001-01-01"}, "as_at"),
        ("/exports/jsna/metadata", {"format": "csv"}, "unknown query parameter 'format'"),
        ("/exports/scorecard", {"by": "sex"}, "unknown query parameter 'by'"),
        ("/exports/scorecard", {"from": "2025-09", "to": "2025-08"}, "is after"),
        ("/exports/scorecard/metadata", {"from": "2025-13"}, "from"),
    ],
)
def test_a_download_refuses_what_it_cannot_write_with_the_reason(
    warehouse_dsn: str, api_dsn: str, path: str, parameters: dict[str, str], reason: str
) -> None:
    role = "commissioner" if "scorecard" in path else "public_health"
    refused = signed_in(warehouse_dsn, api_dsn, role).get(path, params=parameters)
    assert refused.status_code == 422
    assert refused.headers["content-type"] == PROBLEM
    assert "content-disposition" not in refused.headers
    assert reason in refused.json()["detail"], refused.json()
