"""`hub jsna`: the JSNA aggregates as at a date, for public health analysts.

The document is the published one (`warehouse/jsna.py`): protected counts, and the GSS
symbols where a figure cannot be shown, which the table prints as they are.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hub.settings import HubSettings
from streams.disclosure import figure_text
from warehouse.connection import WarehouseUnavailable, connect
from warehouse.jsna import jsna_document

console = Console()
errors = Console(stderr=True)

EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3
SYMBOLS_CAPTION = (
    "Counts 1 to 7 suppressed, the rest rounded to the nearest 5. "
    "c suppressed · low rounds to zero · x not available · z not applicable"
)


def jsna(
    as_at: Annotated[
        str | None, typer.Option("--as-at", help="Date, YYYY-MM-DD (default: today).")
    ] = None,
    dimension: Annotated[
        str | None, typer.Option(help="Only this breakdown, e.g. primary_need or age_band.")
    ] = None,
    output_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Counts, rates per 1,000 and change on a year, by SEND status and each breakdown."""
    try:
        day = dt.date.fromisoformat(as_at) if as_at else dt.date.today()
    except ValueError:
        errors.print("[red]--as-at must be a date, YYYY-MM-DD[/red]")
        raise typer.Exit(EXIT_USAGE) from None
    settings = HubSettings()
    try:
        with connect(settings.warehouse_dsn()) as conn:
            document = jsna_document(conn, day)
    except WarehouseUnavailable as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(EXIT_UNAVAILABLE) from None
    if dimension:
        document["cells"] = [c for c in document["cells"] if c["dimension"] == dimension]
    if output_format == "json":
        typer.echo(json.dumps(document, indent=2))
        return
    table = Table(
        title=f"JSNA as at {document['as_at']} (change since {document['compared_with']})"
    )
    for column in ("breakdown", "value", "SEND status", "people", "per 1,000", "change on year"):
        table.add_column(column, justify="right" if column in ("people", "per 1,000") else "left")
    for cell in document["cells"]:
        table.add_row(
            cell["dimension"],
            cell["value"],
            cell["send_status"],
            figure_text(cell["people"]),
            figure_text(cell["rate_per_1000"], 1),
            figure_text(cell["change_on_year"], signed=True),
        )
    table.caption = SYMBOLS_CAPTION
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command()(jsna)
