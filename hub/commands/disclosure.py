"""`hub disclosure audit`: prove no suppressed count can be worked out from what is published.

A thin shell over `warehouse.disclosure.audit_publication`: it audits the JSNA, its
cross-tabulations (every pair of breakdowns) and the scorecard as at a month end and the
one before, prints a summary and exits 1 when any suppressed or withheld count can be
narrowed to fewer values than the rule suppresses.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hub.settings import HubSettings
from streams.crosstab_publication import OutOfStep
from warehouse.connection import WarehouseUnavailable, connect
from warehouse.disclosure import PublicationAudit, audit_publication

console = Console()
errors = Console(stderr=True)

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3
SHOWN_FAILURES = 20

disclosure = typer.Typer(
    help="Disclosure control: audit what the hub publishes.", no_args_is_help=True
)


def summary(result: PublicationAudit) -> dict[str, object]:
    """The audit's findings as JSON-ready data (no true count, only intervals)."""
    report = result.report
    narrowest = report.narrowest
    return {
        "as_at": result.as_at.isoformat(),
        "month_before": result.month_before.isoformat(),
        "counts_published": report.published,
        "suppressed": report.suppressed,
        "suppressed_primary": result.primary,
        "suppressed_secondary": result.secondary,
        "withheld": report.withheld,
        "crosstabs": len(result.crosstabs),
        "threshold": report.threshold,
        "narrowest_values": (
            None if narrowest is None or narrowest.values == float("inf") else narrowest.values
        ),
        "inconsistent": [repr(key) for key in report.inconsistent],
        "failures": [{"count": repr(i.key), "low": i.low, "high": i.high} for i in report.failures],
        "passed": report.passed,
    }


@disclosure.command("audit")
def audit(
    as_at: Annotated[
        str | None,
        typer.Option("--as-at", help="Date, YYYY-MM-DD (default: the latest event's day)."),
    ] = None,
    output_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Attack everything published as at a month end and the one before; exit 1 on a leak."""
    if output_format not in ("table", "json"):
        errors.print("[red]--format must be table or json[/red]")
        raise typer.Exit(EXIT_USAGE)
    try:
        day = dt.date.fromisoformat(as_at) if as_at else None
    except ValueError:
        errors.print("[red]--as-at must be a date, YYYY-MM-DD[/red]")
        raise typer.Exit(EXIT_USAGE) from None
    try:
        with connect(HubSettings().warehouse_dsn()) as conn:
            result = audit_publication(conn, day)
    except (WarehouseUnavailable, OutOfStep) as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(EXIT_UNAVAILABLE) from None
    found = summary(result)
    if output_format == "json":
        typer.echo(json.dumps(found, indent=2))
    else:
        _print(found)
    if not result.report.passed:
        raise typer.Exit(EXIT_FAILED)


def _print(found: dict[str, object]) -> None:
    table = Table(
        title=f"Disclosure audit: as at {found['as_at']} and {found['month_before']}",
        show_header=False,
    )
    table.add_column("what")
    table.add_column("how many", justify="right")
    narrowest = found["narrowest_values"]
    for label, value in (
        (
            f"counts published (JSNA, {found['crosstabs']} cross-tabs, scorecard, both dates)",
            found["counts_published"],
        ),
        ("suppressed", found["suppressed"]),
        ("  primary (1 to 7)", found["suppressed_primary"]),
        ("  secondary (to protect another)", found["suppressed_secondary"]),
        ("withheld (x: cross-tab lines that could not be protected)", found["withheld"]),
        (
            "fewest values a suppressed count can be narrowed to",
            "unbounded" if narrowest is None else narrowest,
        ),
        ("needed", found["threshold"]),
    ):
        table.add_row(label, f"{value:,}" if isinstance(value, int) else str(value))
    console.print(table)
    failures = found["failures"]
    inconsistent = found["inconsistent"]
    assert isinstance(failures, list) and isinstance(inconsistent, list)
    for failure in failures[:SHOWN_FAILURES]:
        console.print(
            f"[red]narrowed to {failure['low']:g}..{failure['high']:g}: {failure['count']}[/red]"
        )
    for key in inconsistent[:SHOWN_FAILURES]:
        console.print(f"[red]shown two ways in two places: {key}[/red]")
    verdict = "[green]PASS[/green]" if found["passed"] else "[red]FAIL[/red]"
    console.print(
        f"{verdict}: no suppressed count can be narrowed to fewer than {found['threshold']} values"
        if found["passed"]
        else f"{verdict}: {len(failures)} suppressed counts can be narrowed too far"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(disclosure, name="disclosure")
