"""`hub quarantine list` and `release`: refused messages by reason, and their re-check.

Only where each message came from and why it was refused is shown; the message
bytes stay in the warehouse for the re-check, never on a terminal.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hub.settings import HubSettings
from warehouse.connection import WarehouseUnavailable, connect
from warehouse.quarantine import count_by_reason, recent

console = Console()
errors = Console(stderr=True)

EXIT_STILL_REFUSED = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3

quarantine = typer.Typer(help="Messages the hub refused, with their reasons.", no_args_is_help=True)


@quarantine.command("list")
def list_quarantined(
    limit: Annotated[int, typer.Option(min=1, help="How many recent messages to show.")] = 50,
    output_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Counts by reason, then the most recent refused messages (where from, why; no content)."""
    settings = HubSettings()
    try:
        with connect(settings.warehouse_dsn()) as conn:
            counts = count_by_reason(conn)
            rows = recent(conn, limit)
    except WarehouseUnavailable as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(EXIT_UNAVAILABLE) from None
    if output_format == "json":
        typer.echo(
            json.dumps({"by_reason": counts, "messages": [r.as_dict() for r in rows]}, indent=2)
        )
        return
    if not counts:
        console.print("nothing is in quarantine")
        return
    summary = Table(title=f"Quarantined messages: {sum(counts.values())}")
    summary.add_column("reason")
    summary.add_column("messages", justify="right")
    for reason, count in counts.items():
        summary.add_row(reason, str(count))
    console.print(summary)
    table = Table(title=f"Most recent {len(rows)}")
    for column in ("id", "received at", "topic", "partition", "offset", "reason", "detail"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row.id),
            row.received_at.isoformat(timespec="seconds"),
            row.topic,
            str(row.partition),
            str(row.offset),
            row.reason,
            row.detail,
        )
    console.print(table)


@quarantine.command("release")
def release_quarantined(
    message_id: Annotated[int, typer.Argument(metavar="ID", help="Id from `hub quarantine list`.")],
) -> None:
    """Re-check one quarantined message (after a schema, contract or reference-data fix)."""
    from contracts.decisions import Area
    from contracts.loading import shipped_contracts
    from schemas.catalogue import default_catalogue
    from streams.gatekeeper import Gate
    from streams.worker.release import NoBytesKept, NotQuarantined, release
    from warehouse.cohort_store import projection_settings
    from warehouse.opt_out import opted_out

    settings = HubSettings()
    try:
        with connect(settings.warehouse_dsn()) as conn:
            projection = projection_settings(conn)
            area = Area(settings.contract_id, settings.area_code)
            gate = Gate(shipped_contracts(), opted_out(conn), area=area)
            outcome = release(conn, message_id, default_catalogue(), projection, gate)
    except WarehouseUnavailable as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(EXIT_UNAVAILABLE) from None
    except (NotQuarantined, NoBytesKept) as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(EXIT_USAGE) from None
    if outcome.released:
        console.print(f"message {message_id}: {outcome.reason} ({outcome.detail})")
        return
    errors.print(
        f"[yellow]message {message_id} is still refused: {outcome.reason}[/yellow]"
        f" ({outcome.detail})"
    )
    raise typer.Exit(EXIT_STILL_REFUSED)


def register(app: typer.Typer) -> None:
    app.add_typer(quarantine, name="quarantine")
