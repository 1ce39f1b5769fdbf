"""`hub audit access`: who called the API, when, for what, and what came back.

It reads the append-only access log the API writes for every signed-in call, as the
`ig_auditor` route `GET /audit/access` does.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hub.settings import HubSettings
from warehouse.access_log import read_access
from warehouse.connection import WarehouseUnavailable, connect

console = Console()
errors = Console(stderr=True)

EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3

audit = typer.Typer(help="Information governance: the API's access log.", no_args_is_help=True)


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


def _count(value: int | None) -> str:
    return "-" if value is None else str(value)


def register(app: typer.Typer) -> None:
    app.add_typer(audit, name="audit")
