"""The API's downloads: the published scorecard and JSNA as files, the bytes `hub export` writes.

Each route reads the published document as `hub export` does, turns it into DfE's tidy
table (`tidy_for`) and sends `export_bytes` as an attachment. A CSV cannot carry its
metadata, which the CLI writes beside it as `<file>.json`: here it is its own download
(`/exports/.../metadata`, the same arguments), and describes the XLSX and Parquet too.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import Query, Request
from fastapi.responses import Response
from psycopg import Connection

from streams.disclosure import Status
from warehouse.api.access import returned
from warehouse.api.policy import Warehouse
from warehouse.api.routes import NAMES, AsAt, From, To, breakdowns, months, within_dates
from warehouse.crosstab import crosstab_document
from warehouse.exports import Tidy, export_bytes, metadata_json, tidy_for
from warehouse.jsna import jsna_document
from warehouse.scorecard import scorecard_document

Format = Annotated[
    Literal["csv", "xlsx", "parquet"],
    Query(
        alias="format",
        description="csv (its metadata is the `/metadata` download), xlsx or parquet.",
    ),
]
By = Annotated[
    str | None,
    Query(
        max_length=200,
        description="One breakdown (DIM), or two (DIM,DIM) for a cross-tab; default every one. "
        "One is any but send_status, which every JSNA table has.",
        json_schema_extra={"pattern": f"^({NAMES})(,({NAMES}))?$"},
    ),
]


def scorecard_export(
    request: Request,
    conn: Warehouse,
    export_format: Format = "csv",
    period_from: From = None,
    period_to: To = None,
) -> Response:
    """The balanced scorecard as a file, as `hub export scorecard` writes it (`to` is its
    `--as-at` month)."""
    return _file(request, _scorecard(conn, period_from, period_to), export_format)


def scorecard_metadata(
    request: Request, conn: Warehouse, period_from: From = None, period_to: To = None
) -> Response:
    """What a scorecard export says about itself: the `<file>.json` beside the CLI's CSV."""
    return _metadata(request, _scorecard(conn, period_from, period_to))


def jsna_export(
    request: Request,
    conn: Warehouse,
    export_format: Format = "csv",
    as_at: AsAt = None,
    by: By = None,
) -> Response:
    """The JSNA as a file (every breakdown, one, or a cross-tab of two), as `hub export jsna`
    writes it."""
    return _file(request, _jsna(conn, as_at, by), export_format)


def jsna_metadata(request: Request, conn: Warehouse, as_at: AsAt = None, by: By = None) -> Response:
    """What a JSNA export says about itself: the `<file>.json` beside the CLI's CSV."""
    return _metadata(request, _jsna(conn, as_at, by))


def _scorecard(conn: Connection, period_from: str | None, period_to: str | None) -> Tidy:
    first, last = months(period_from, period_to)
    return tidy_for("scorecard", scorecard_document(conn, first, last))


def _jsna(conn: Connection, as_at: dt.date | None, by: str | None) -> Tidy:
    wanted = breakdowns(by, single=True) if by is not None else ()
    within_dates("as_at", as_at)
    day = as_at or dt.date.today()
    if len(wanted) == 2:
        document = crosstab_document(conn, day, *wanted)
    else:
        document = jsna_document(conn, day)
    return tidy_for("jsna", document, wanted)


def _file(request: Request, tidy: Tidy, export_format: str) -> Response:
    content, media_type, name = export_bytes(tidy, export_format)
    figures = [row[measure] for row in tidy.rows for measure in tidy.measures]
    suppressed = sum(1 for figure in figures if figure["status"] == Status.SUPPRESSED)
    returned(request, len(tidy.rows), len(figures), suppressed=suppressed)
    return _attachment(content, media_type, name)


def _metadata(request: Request, tidy: Tidy) -> Response:
    returned(request, 0, 0, suppressed=0)  # definitions and the rule, no figure
    return _attachment(metadata_json(tidy), "application/json", f"{tidy.name}.csv.json")


def _attachment(content: bytes, media_type: str, name: str) -> Response:
    disposition = f'attachment; filename="{name}"'
    return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})
