"""`hub warehouse migrate`: bring any PostgreSQL named by the settings to the newest schema."""

from __future__ import annotations

import typer
from rich.console import Console

from hub.settings import HubSettings
from warehouse.connection import WarehouseUnavailable, connect
from warehouse.migrate import upgrade

warehouse = typer.Typer(help="The PostgreSQL warehouse.", no_args_is_help=True)
console = Console(stderr=True)


@warehouse.command("migrate")
def migrate() -> None:
    """Apply every Alembic migration not yet applied (safe to run again)."""
    settings = HubSettings()
    dsn = settings.warehouse_dsn()
    try:
        connect(dsn).close()
    except WarehouseUnavailable as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(3) from None
    upgrade(dsn)
    console.print("warehouse schema is up to date")


def register(app: typer.Typer) -> None:
    app.add_typer(warehouse, name="warehouse")
