"""`hub scorecard`: the balanced scorecard for commissioners, on a terminal or as JSON.

The figures come whole and protected from the warehouse's read model (the same document as
GET /scorecard); this module only chooses the months and lays the document out as a table,
with the GSS symbols (`c`, `low`, `x`, `z`) where a figure cannot be shown.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from hub.settings import HubSettings
from streams.disclosure import figure_text
from warehouse.connection import WarehouseUnavailable, connect
from warehouse.scorecard import scorecard_document

console = Console()
errors = Console(stderr=True)

EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3
UNIT_SUFFIX = {"percent": " %", "per_1000": " /1,000", "count": ""}


def _month(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(f"{value}-01")
    except ValueError:
        errors.print(f"[red]{value!r} is not a month; use YYYY-MM[/red]")
        raise typer.Exit(EXIT_USAGE) from None


def _target(kpi: dict[str, Any]) -> str:
    better = ">=" if kpi["polarity"] == "higher_is_better" else "<="
    if kpi["unit"] == "count":
        return f"{better} {kpi['target_percent']:+g} %/yr"
    return f"{better} {kpi['target_percent']:g}{UNIT_SUFFIX[kpi['unit']]}"


def render_scorecard(document: dict[str, object]) -> Table:
    """The scorecard as a table, one row per KPI, grouped by perspective."""
    kpis = document["kpis"]
    assert isinstance(kpis, list)
    spans = sorted({(k["period_from"], k["period_to"]) for k in kpis if k["period_from"]})
    months = f"months {spans[0][0]} to {spans[-1][1]}" if spans else "no months measured"
    table = Table(
        title=f"Balanced scorecard (as at {document['as_at'] or 'no data yet'})",
        caption=f"{months}; yearly rates over the last 12; 12 mo: the last 12 months "
        "against the 12 before. Counts 1 to 7 suppressed, the rest rounded to the nearest 5: "
        "c suppressed, low rounds to zero, x not available, z not applicable",
    )
    # 80 columns: values, six-figure session counts and yearly targets wrap rather than push
    # the KPI names down to a word a line or the last column off the screen
    table.add_column("KPI", ratio=1, overflow="fold", min_width=16)
    table.add_column("Value", justify="right", max_width=8)
    table.add_column("n / d", justify="right", max_width=11)
    table.add_column("Target", justify="right", max_width=9)
    for column in ("RAG", "12 mo"):
        table.add_column(column, justify="right", no_wrap=True)
    rag_style = {
        "green": "green",
        "amber": "yellow",
        "red": "red",
        "no_data": "dim",
        "suppressed": "dim",
    }
    perspective = None
    for kpi in kpis:
        if kpi["perspective"] != perspective:
            perspective = kpi["perspective"]
            table.add_row(f"[bold]{str(perspective).capitalize()}[/bold]")
        digits = 0 if kpi["unit"] == "count" else 1
        shown = figure_text(kpi["value"], digits)
        if kpi["value"]["value"] is not None and kpi["unit"] != "count":
            shown += UNIT_SUFFIX[kpi["unit"]]
        figures = (
            figure_text(kpi["numerator"])
            if kpi["unit"] == "count"
            else f"{figure_text(kpi['numerator'])} / {figure_text(kpi['denominator'])}"
        )
        change = figure_text(kpi["change_percent"], 1, signed=True)
        if kpi["change_percent"]["value"] is not None:
            change += " %"
        style = rag_style[kpi["rag"]]
        rag = "c" if kpi["rag"] == "suppressed" else kpi["rag"].upper()
        name = kpi["name"]
        if kpi.get("waiting_for"):
            name = f"{name}\n[dim]waiting for: {kpi['waiting_for']}[/dim]"
        table.add_row(
            name,
            shown,
            figures,
            _target(kpi),
            f"[{style}]{rag}[/{style}]",
            change,
        )
    return table


def scorecard(
    output_format: Annotated[str, typer.Option("--format", help="table or json")] = "table",
    period_from: Annotated[str | None, typer.Option("--from", help="First month, YYYY-MM")] = None,
    period_to: Annotated[str | None, typer.Option("--to", help="Last month, YYYY-MM")] = None,
) -> None:
    """Print the balanced scorecard (the same JSON as GET /scorecard with --format json)."""
    if output_format not in ("table", "json"):
        errors.print("[red]--format must be table or json[/red]")
        raise typer.Exit(EXIT_USAGE)
    settings = HubSettings()
    try:
        with connect(settings.warehouse_dsn()) as conn:
            document = scorecard_document(conn, _month(period_from), _month(period_to))
    except WarehouseUnavailable as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(EXIT_UNAVAILABLE) from None
    if output_format == "json":
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    else:
        console.print(render_scorecard(document))


def register(app: typer.Typer) -> None:
    app.command()(scorecard)
