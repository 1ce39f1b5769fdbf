"""`hub contracts check|show`: what information governance signs, checked and shown."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from contracts.loading import CONTRACT_DIR, ContractInvalid, load_checked, shipped_contracts
from contracts.models import Contract
from hub.commands.opt_out import opt_out_app

console = Console()
errors = Console(stderr=True)

EXIT_INVALID = 1
EXIT_USAGE = 2

contracts_app = typer.Typer(help="Data-sharing contracts.", no_args_is_help=True)


def _contract_files(paths: list[Path]) -> list[Path]:
    """Files as given; a directory stands for the `*.yaml` contracts in it."""
    files: list[Path] = []
    for path in paths:
        files += sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    return files


@contracts_app.command("check")
def check(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Contract files or directories (default: the shipped ones)."),
    ] = None,
) -> None:
    """Validate contracts and check every event type and field against the catalogue."""
    files = _contract_files(paths or [CONTRACT_DIR])
    if not files:
        errors.print("[red]no contract files found[/red]")
        raise typer.Exit(EXIT_USAGE)
    failed = 0
    seen: dict[str, str] = {}
    for path in files:
        try:
            contract = load_checked(path)
        except ContractInvalid as error:
            failed += 1
            errors.print(f"[red]{error.source}: {len(error.problems)} problem(s)[/red]")
            for problem in error.problems:
                errors.print(f"  - {problem}", markup=False, highlight=False, soft_wrap=True)
            continue
        if contract.contract_id in seen:
            failed += 1
            errors.print(
                f"[red]{path.name}: contract_id {contract.contract_id} is already used by "
                f"{seen[contract.contract_id]}[/red]",
                soft_wrap=True,
            )
            continue
        seen[contract.contract_id] = path.name
        console.print(
            f"{path.name}: {contract.contract_id} v{contract.version} is valid "
            f"({len(contract.parties)} parties, in force {contract.valid_from} to "
            f"{contract.valid_to})"
        )
    if failed:
        raise typer.Exit(EXIT_INVALID)


@contracts_app.command("show")
def show(
    contract_id: Annotated[str | None, typer.Argument(help="Contract id (default: all).")] = None,
) -> None:
    """Parties, lawful basis, permissions, dates, retention, opt-out and disclosure rules."""
    contracts = shipped_contracts()
    chosen = [contracts[contract_id]] if contract_id in contracts else list(contracts.values())
    if contract_id is not None and contract_id not in contracts:
        errors.print(f"[red]no contract {contract_id!r}[/red] (known: {', '.join(contracts)})")
        raise typer.Exit(EXIT_USAGE)
    for contract in chosen:
        _show(contract)


def _show(contract: Contract) -> None:
    console.rule(f"{contract.contract_id} v{contract.version}: {contract.title}")
    console.print(
        f"area {contract.area_code} · in force {contract.valid_from} to {contract.valid_to} · "
        f"key {contract.pseudonymisation_key_id} · kept {contract.retention.years} years"
    )
    console.print(
        f"lawful basis: {contract.lawful_basis.article_6.value}; "
        + ", ".join(c.value for c in contract.lawful_basis.article_9)
    )
    console.print("purposes: " + "; ".join(contract.purposes))
    table = Table(title="Who may publish what")
    for column in ("party", "organisation", "roles", "event types (fields)"):
        table.add_column(column)
    for party in contract.parties:
        permission = contract.permission_for(party.party_id)
        types = (
            ", ".join(
                name if fields == "*" else f"{name} ({', '.join(fields)})"
                for name, fields in permission.event_types.items()
            )
            if permission
            else "-"
        )
        table.add_row(party.party_id, party.organisation, ", ".join(party.roles), types)
    console.print(table)
    opt = contract.opt_out
    console.print(f"opt-out: {'applies to ' + ', '.join(opt.sources) if opt.applies else 'n/a'}")
    rule = contract.disclosure_control
    console.print(
        f"disclosure control: counts from 1 to {rule.suppress_below - 1} suppressed, the rest "
        f"rounded to the nearest {rule.round_to}, secondary suppression "
        f"{'on' if rule.secondary_suppression else 'off'}"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(contracts_app, name="contracts")
    app.add_typer(opt_out_app, name="opt-out")
