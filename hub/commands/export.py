"""`hub export scorecard|jsna`: the published scorecard or JSNA as a CSV, XLSX or Parquet file.

A thin shell over `warehouse.exports.export_bytes` with the published documents
(`warehouse/scorecard.py`, `warehouse/jsna.py`, `warehouse/crosstab.py`): the same
disclosure control as the API and `hub jsna`/`hub scorecard`, in DfE's tidy layout, with
its metadata inside (XLSX, Parquet) or beside it (`<file>.json` for a CSV).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from hub.commands.jsna import pair
from hub.settings import HubSettings
from streams.crosstab import BREAKDOWNS, UnknownBreakdown
from streams.crosstab_publication import OutOfStep
from warehouse.connection import WarehouseUnavailable, connect
from warehouse.crosstab import crosstab_document
from warehouse.exports import FORMATS, export_bytes, metadata_json, tidy_for
from warehouse.jsna import jsna_document
from warehouse.scorecard import scorecard_document

console = Console()
errors = Console(stderr=True)

EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3


exports = typer.Typer(
    help="Write the published scorecard or JSNA as CSV, XLSX or Parquet (DfE's tidy layout).",
    no_args_is_help=True,
)

Out = Annotated[Path, typer.Option("--out", help="The file to write.")]
Format = Annotated[
    str, typer.Option("--format", help="csv (with <out>.json beside it), xlsx or parquet.")
]


@exports.command("scorecard")
def scorecard(
    out: Out,
    export_format: Format = "csv",
    as_at: Annotated[
        str | None,
        typer.Option("--as-at", help="Date, YYYY-MM-DD: the scorecard up to that month."),
    ] = None,
    by: Annotated[str | None, typer.Option("--by", hidden=True)] = None,
) -> None:
    """The balanced scorecard: one row per KPI per period, with its metadata."""
    if by is not None:
        _usage("--by is for the JSNA; the scorecard has no breakdowns")
    export("scorecard", out, export_format, as_at, None)


@exports.command("jsna")
def jsna(
    out: Out,
    export_format: Format = "csv",
    as_at: Annotated[
        str | None, typer.Option("--as-at", help="Date, YYYY-MM-DD (default: today).")
    ] = None,
    by: Annotated[
        str | None,
        typer.Option("--by", help="One breakdown, or two (DIM,DIM) for a cross-tab."),
    ] = None,
) -> None:
    """The JSNA (every breakdown, one, or a cross-tab of two), with its metadata."""
    export("jsna", out, export_format, as_at, by)


def export(kind: str, out: Path, export_format: str, as_at: str | None, by: str | None) -> None:
    """Write the published scorecard or JSNA in DfE's tidy layout, with its metadata."""
    if export_format not in FORMATS:
        _usage(f"--format must be one of {', '.join(FORMATS)}")
    try:
        day = dt.date.fromisoformat(as_at) if as_at else None
    except ValueError:
        _usage("--as-at must be a date, YYYY-MM-DD")
    breakdowns: tuple[str, ...] = ()
    if by is not None:
        try:
            breakdowns = pair(by) if "," in by else (_one(by),)
        except UnknownBreakdown as error:
            _usage(str(error))
    try:
        with connect(HubSettings().warehouse_dsn()) as conn:
            document = _document(conn, kind, day, breakdowns)
    except (WarehouseUnavailable, OutOfStep) as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(EXIT_UNAVAILABLE) from None
    tidy = tidy_for(kind, document, breakdowns)
    content, _, _ = export_bytes(tidy, export_format)
    out.write_bytes(content)
    written = [out]
    if export_format == "csv":
        sidecar = out.with_name(out.name + ".json")
        sidecar.write_bytes(metadata_json(tidy))
        written.append(sidecar)
    suppressed = document["disclosure"]["suppressed_cells"]
    console.print(
        f"{len(tidy.rows):,} rows ({suppressed:,} suppressed) written to "
        + " and ".join(str(path) for path in written)
    )


def _one(name: str) -> str:
    if name not in BREAKDOWNS or name == "send_status":
        choices = ", ".join(b for b in BREAKDOWNS if b != "send_status")
        raise UnknownBreakdown(f"no breakdown {name!r}: choose from {choices}")
    return name


def _document(
    conn: Any, kind: str, day: dt.date | None, breakdowns: tuple[str, ...]
) -> dict[str, Any]:
    if kind == "scorecard":
        return scorecard_document(conn, None, day.replace(day=1) if day else None)
    if len(breakdowns) == 2:
        return crosstab_document(conn, day or dt.date.today(), *breakdowns)
    return jsna_document(conn, day or dt.date.today())


def _usage(message: str) -> Any:
    errors.print(f"[red]{message}[/red]")
    raise typer.Exit(EXIT_USAGE)


def register(app: typer.Typer) -> None:
    app.add_typer(exports, name="export")
