"""`hub audit access|report|verify`: information governance's view of the hub.

`access` reads the append-only access log the API writes for every signed-in call, as
the `ig_auditor` route `GET /audit/access` does; `report` gives one contract's month
(`warehouse/ig_report.py`, as `GET /audit/report`); `verify` recomputes the event
store's hash chain and records the outcome, which `GET /audit/chain` reports.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hub.settings import HubSettings
from warehouse.access_log import read_access
from warehouse.chain_audit import verify_and_record
from warehouse.connection import WarehouseUnavailable, connect
from warehouse.event_store import BREAK_KINDS
from warehouse.ig_report import UnknownContract, ig_report_document
from warehouse.ig_workbook import report_workbook

console = Console()
errors = Console(stderr=True)

EXIT_BROKEN = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

audit = typer.Typer(
    help="Information governance: the access log, the monthly IG report, the hash chain.",
    no_args_is_help=True,
)


@audit.command("access")
def access(
    since: Annotated[
        str | None, typer.Option(help="Calls on or after this day (YYYY-MM-DD).")
    ] = None,
    token: Annotated[str | None, typer.Option(help="Calls made with this token only.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 1000,
    output_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """The access log, newest first."""
    if output_format not in ("table", "json"):
        errors.print(f"[red]--format must be table or json, not {output_format!r}[/red]")
        raise typer.Exit(EXIT_USAGE)
    try:
        day = dt.date.fromisoformat(since) if since else None
    except ValueError:
        errors.print(f"[red]--since must be a date (YYYY-MM-DD), not {since!r}[/red]")
        raise typer.Exit(EXIT_USAGE) from None
    start = dt.datetime.combine(day, dt.time(), dt.UTC) if day else None
    settings = HubSettings()
    try:
        with connect(settings.warehouse_dsn()) as conn:
            entries = read_access(conn, start, token, limit)
    except WarehouseUnavailable as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(EXIT_UNAVAILABLE) from None
    if output_format == "json":
        typer.echo(json.dumps([entry.as_dict() for entry in entries], indent=2))
        return
    table = Table(title=f"API calls: {len(entries)}")
    for column in ("at", "token", "role", "party", "call", "parameters", "status", "rows"):
        table.add_column(column)
    table.add_column("cells", justify="right")
    table.add_column("suppressed", justify="right")
    table.add_column("ms", justify="right")
    for entry in entries:
        table.add_row(
            entry.at.isoformat(timespec="seconds") if entry.at else "-",
            entry.token_name,
            entry.role,
            entry.party or "-",
            f"{entry.method} {entry.route}",
            json.dumps(dict(entry.parameters)) if entry.parameters else "-",
            str(entry.status),
            _count(entry.rows_returned),
            _count(entry.cells_returned),
            _count(entry.cells_suppressed),
            f"{entry.duration_ms:.0f}",
        )
    console.print(table)


@audit.command("report")
def report(
    contract: Annotated[str, typer.Option(help="The contract id.")],
    month: Annotated[str, typer.Option(help="The month, YYYY-MM (of arrival, in UTC).")],
    output_format: Annotated[str, typer.Option("--format", help="json or xlsx.")] = "json",
    output: Annotated[
        Path | None,
        typer.Option("--output", "--out", help="The file to write (xlsx needs one)."),
    ] = None,
) -> None:
    """One contract's month: received, accepted and refused, erasures, lineage, reads."""
    if output_format not in ("json", "xlsx"):
        _usage(f"--format must be json or xlsx, not {output_format!r}")
    if not MONTH.match(month):
        _usage(f"--month must be a month, YYYY-MM, not {month!r}")
    if output_format == "xlsx" and output is None:
        _usage("--format xlsx needs --output FILE")
    settings = HubSettings()
    try:
        with connect(settings.warehouse_dsn()) as conn:
            document = ig_report_document(conn, contract, dt.date.fromisoformat(f"{month}-01"))
    except UnknownContract:
        _usage(f"no contract {contract!r}: not shipped, and no event or erasure names it")
    except WarehouseUnavailable as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(EXIT_UNAVAILABLE) from None
    if output_format == "xlsx":
        assert output is not None
        output.write_bytes(report_workbook(document))
        errors.print(f"wrote {output}")
        return
    text = json.dumps(document, indent=2)
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        errors.print(f"wrote {output}")


@audit.command("verify")
def verify() -> None:
    """Recompute the event store's hash chain; name the first broken row and how it broke.

    Exit 0 when the chain holds, 1 when it does not; the outcome is recorded for
    `GET /audit/chain`.
    """
    settings = HubSettings()
    try:
        with connect(settings.warehouse_dsn()) as conn:
            outcome = verify_and_record(conn)
    except WarehouseUnavailable as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(EXIT_UNAVAILABLE) from None
    if outcome.broken is None:
        typer.echo(f"chain verified: {outcome.rows} rows, {outcome.tombstones} tombstones")
        return
    broken = outcome.broken
    where = f"row {broken.sequence}" if broken.sequence else "a deletion record"
    typer.echo(f"chain broken at {where} ({broken.kind}): {BREAK_KINDS[broken.kind]}")
    raise typer.Exit(EXIT_BROKEN)


def _usage(message: str) -> None:
    errors.print(f"[red]{message}[/red]")
    raise typer.Exit(EXIT_USAGE)


def _count(value: int | None) -> str:
    return "-" if value is None else str(value)


def register(app: typer.Typer) -> None:
    app.add_typer(audit, name="audit")
