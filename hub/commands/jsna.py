"""`hub jsna`: the JSNA aggregates as at a date, for public health analysts.

The documents are the published ones (`warehouse/jsna.py`, and `warehouse/crosstab.py`
for `--by DIM,DIM`): protected counts, and the GSS symbols where a figure cannot be
shown, which the table prints as they are.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from hub.settings import HubSettings
from streams.crosstab import BREAKDOWNS, UnknownBreakdown, check_breakdowns
from streams.crosstab_publication import OutOfStep
from streams.disclosure import figure_text
from warehouse.connection import WarehouseUnavailable, connect
from warehouse.crosstab import crosstab_document
from warehouse.jsna import jsna_document

console = Console()
errors = Console(stderr=True)

EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3
SYMBOLS_CAPTION = (
    "Counts 1 to 7 suppressed, the rest rounded to the nearest 5. "
    "c suppressed · low rounds to zero · x not available · z not applicable"
)


def pair(by: str) -> tuple[str, str]:
    """`DIM,DIM` as two breakdowns; UnknownBreakdown (naming the choices) otherwise."""
    names = [name.strip() for name in by.split(",")]
    if len(names) != 2:
        raise UnknownBreakdown(f"--by takes two breakdowns, DIM,DIM: from {', '.join(BREAKDOWNS)}")
    check_breakdowns(names[0], names[1])
    return names[0], names[1]


def jsna(
    as_at: Annotated[
        str | None, typer.Option("--as-at", help="Date, YYYY-MM-DD (default: today).")
    ] = None,
    dimension: Annotated[
        str | None, typer.Option(help="Only this breakdown, e.g. primary_need or age_band.")
    ] = None,
    by: Annotated[
        str | None,
        typer.Option(
            "--by", help="Two breakdowns together, e.g. primary_need,locality (a cross-tab)."
        ),
    ] = None,
    output_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Counts, rates per 1,000 and change on a year, by SEND status and each breakdown."""
    if output_format not in ("table", "json"):
        errors.print("[red]--format must be table or json[/red]")
        raise typer.Exit(EXIT_USAGE)
    try:
        day = dt.date.fromisoformat(as_at) if as_at else dt.date.today()
    except ValueError:
        errors.print("[red]--as-at must be a date, YYYY-MM-DD[/red]")
        raise typer.Exit(EXIT_USAGE) from None
    try:
        rows_columns = pair(by) if by else None
    except UnknownBreakdown as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(EXIT_USAGE) from None
    settings = HubSettings()
    try:
        with connect(settings.warehouse_dsn()) as conn:
            if rows_columns:
                document = crosstab_document(conn, day, *rows_columns)
            else:
                document = jsna_document(conn, day)
    except (WarehouseUnavailable, OutOfStep) as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(EXIT_UNAVAILABLE) from None
    if output_format == "json":
        if dimension and not rows_columns:
            cells = [c for c in document["cells"] if c["dimension"] == dimension]
            document = {**document, "cells": cells}  # the published one is shared: never changed
        typer.echo(json.dumps(document, indent=2))
    elif rows_columns:
        _print_crosstab(document)
    else:
        _print_cells(document, dimension)


def _print_cells(document: dict[str, Any], dimension: str | None) -> None:
    table = Table(
        title=f"JSNA as at {document['as_at']} (change since {document['compared_with']})"
    )
    for column in ("breakdown", "value", "SEND status", "people", "per 1,000", "change on year"):
        table.add_column(column, justify="right" if column in ("people", "per 1,000") else "left")
    for cell in document["cells"]:
        if dimension and cell["dimension"] != dimension:
            continue
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


def _print_crosstab(document: dict[str, Any]) -> None:
    columns = [entry["column"] for entry in document["column_totals"]]
    table = Table(
        title=f"People by {document['rows']} and {document['columns']}, as at {document['as_at']}"
    )
    table.add_column(document["rows"])
    for column in columns:
        table.add_column(column, justify="right")
    table.add_column("total", justify="right")
    people = {(c["row"], c["column"]): c["people"] for c in document["cells"]}
    for entry in document["row_totals"]:
        row = entry["row"]
        table.add_row(
            row, *(figure_text(people[(row, c)]) for c in columns), figure_text(entry["people"])
        )
    table.add_row("total", *(figure_text(e["people"]) for e in document["column_totals"]), "")
    table.caption = f"{SYMBOLS_CAPTION}. {document['note']}"
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command()(jsna)
