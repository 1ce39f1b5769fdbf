"""`hub tokens create`, `list` and `revoke`: who may call the API, in which role.

A token's secret is printed once, at creation; the warehouse keeps only its SHA-256
(decision 0017). A partner token is bound to one party of the data-sharing contract.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hub.settings import HubSettings
from warehouse.connection import WarehouseUnavailable, connect
from warehouse.tokens import Role, TokenError, issue_token, list_tokens, revoke_token

console = Console()
errors = Console(stderr=True)

EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3

tokens = typer.Typer(help="API tokens: create, list, revoke.", no_args_is_help=True)


def publishing_parties(contract_id: str) -> list[str]:
    """The parties of the contract that publish: those a partner token may be bound to."""
    from contracts.loading import shipped_contracts

    contract = shipped_contracts().get(contract_id)
    if contract is None:
        return []
    return [p.party_id for p in contract.parties if "publisher" in {str(r) for r in p.roles}]


@tokens.command("create")
def create(
    role: Annotated[Role, typer.Option(help="What the token may call.", case_sensitive=False)],
    name: Annotated[str, typer.Option(help="A unique name: who or what holds it.")],
    party: Annotated[
        str | None, typer.Option(help="For a partner token: the contract party it acts for.")
    ] = None,
    expires_in: Annotated[
        int | None, typer.Option(min=1, max=3650, help="Days until it expires (default never).")
    ] = None,
) -> None:
    """Create a token and print its secret, once."""
    settings = HubSettings()
    if party is not None:
        parties = publishing_parties(settings.contract_id)
        if party not in parties:
            errors.print(
                f"[red]{party!r} is not a publishing party of contract {settings.contract_id}"
                f"[/red] (parties: {', '.join(parties) or 'none'})"
            )
            raise typer.Exit(EXIT_USAGE)
    expires_at = dt.datetime.now(dt.UTC) + dt.timedelta(days=expires_in) if expires_in else None
    try:
        with connect(settings.warehouse_dsn()) as conn:
            secret, token = issue_token(conn, name, role, party, expires_at)
    except TokenError as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(EXIT_USAGE) from None
    except WarehouseUnavailable as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(EXIT_UNAVAILABLE) from None
    bound = f" for {token.party}" if token.party else ""
    until = f", expires {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at else ""
    errors.print(f"created {token.role.value} token {token.name!r}{bound}{until}")
    errors.print(
        "[yellow]This is the only time the token is shown: store it now"
        " (the hub keeps only its hash).[/yellow]"
    )
    typer.echo(secret)


@tokens.command("list")
def list_all(
    output_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Every token: name, role, party, created, expires, revoked (never a secret)."""
    settings = HubSettings()
    try:
        with connect(settings.warehouse_dsn()) as conn:
            listed = list_tokens(conn)
    except WarehouseUnavailable as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(EXIT_UNAVAILABLE) from None
    now = dt.datetime.now(dt.UTC)
    if output_format == "json":
        typer.echo(json.dumps([token.as_dict(now) for token in listed], indent=2))
        return
    table = Table(title=f"API tokens: {len(listed)}")
    for column in ("name", "role", "party", "created", "expires", "revoked", "state"):
        table.add_column(column)
    for token in listed:
        row = token.as_dict(now)
        table.add_row(*(str(row[key] or "-") for key in row))
    console.print(table)


@tokens.command("revoke")
def revoke(name: Annotated[str, typer.Argument(help="The token's name.")]) -> None:
    """Revoke a token: from now on it signs nobody in."""
    settings = HubSettings()
    try:
        with connect(settings.warehouse_dsn()) as conn:
            token = revoke_token(conn, name)
    except TokenError as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(EXIT_USAGE) from None
    except WarehouseUnavailable as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(EXIT_UNAVAILABLE) from None
    assert token.revoked_at is not None
    console.print(f"revoked {token.name!r} at {token.revoked_at:%Y-%m-%d %H:%M:%S} UTC")


def register(app: typer.Typer) -> None:
    app.add_typer(tokens, name="tokens")
