"""`hub retention run [--dry-run]`: erase events past their contract's retention, keep the proof.

Erased events stay in the store as tombstones (id, type, content digest), so the hash
chain still verifies; a deletion record per contract says how many of which type, under
which rule, when. Every projection is then rebuilt without them. It prints counts only.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from contracts.loading import CONTRACT_DIR, ContractInvalid, load_contracts
from hub.settings import HubSettings
from pipelines.retention import RetentionRun, run_retention
from warehouse.connection import WarehouseUnavailable, connect

console = Console()
errors = Console(stderr=True)

EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3

retention = typer.Typer(
    help="Information governance: erase what is past retention.", no_args_is_help=True
)


@retention.command("run")
def run(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would be erased; change nothing.")
    ] = False,
    contracts_dir: Annotated[
        Path, typer.Option("--contracts", help="Directory of the contracts in force.")
    ] = CONTRACT_DIR,
    today: Annotated[
        str | None, typer.Option("--today", hidden=True, help="The day to judge on (tests).")
    ] = None,
) -> None:
    """Erase the events past their contract's retention and rebuild every projection."""
    try:
        day = dt.date.fromisoformat(today) if today else dt.datetime.now(dt.UTC).date()
        contracts = load_contracts(contracts_dir)
    except (ValueError, ContractInvalid) as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(EXIT_USAGE) from None
    settings = HubSettings()
    try:
        with connect(settings.warehouse_dsn()) as conn:
            outcome = run_retention(
                conn, contracts, day, dry_run=dry_run, dsn=settings.warehouse_dsn()
            )
    except WarehouseUnavailable as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(EXIT_UNAVAILABLE) from None
    console.print(render(outcome))


def render(outcome: RetentionRun) -> Table:
    verb = "would be erased" if outcome.dry_run else "erased"
    table = Table(title=f"Retention on {outcome.today}: {outcome.events} events {verb}")
    for column in ("contract", "event type", "events"):
        table.add_column(column)
    for contract_id, by_type in sorted(outcome.by_contract.items()):
        for event_type, count in sorted(by_type.items()):
            table.add_row(contract_id, event_type, str(count))
    quarantined = sum(record.quarantined_erased for record in outcome.records)
    notes = [
        f"{outcome.kept_birth_month_unknown} people kept: month of birth unknown",
        f"{outcome.kept_contract_unknown} events kept: contract not loaded",
    ]
    if not outcome.dry_run:
        notes.append(f"{quarantined} quarantined messages erased")
        if outcome.replay is not None:
            notes.append(f"projections rebuilt from {outcome.replay.events} events")
    table.caption = " · ".join(notes)
    return table


def register(app: typer.Typer) -> None:
    app.add_typer(retention, name="retention")
