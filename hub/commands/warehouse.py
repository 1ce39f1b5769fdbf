"""`hub warehouse migrate`: bring any PostgreSQL named by the settings to the newest schema."""

from __future__ import annotations

import typer
from rich.console import Console

from hub.settings import HubSettings
from hub.stack.supervisor import ensure_api_login_role
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
    role = ensure_api_login_role(settings, create_password=False)
    if role is None and settings.api_warehouse_user == settings.warehouse_user:
        console.print("the API connects as the owner (HUB_API_WAREHOUSE_USER): not recommended")
    elif role is None:
        console.print(
            f"the API's login role was not made: no password file at"
            f" {settings.api_warehouse_password_path} (HUB_API_WAREHOUSE_PASSWORD_FILE)"
        )
    else:
        console.print(f"the API logs in as {role} (member of hub_api)")


def register(app: typer.Typer) -> None:
    app.add_typer(warehouse, name="warehouse")
