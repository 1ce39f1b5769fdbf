"""`hub opt-out prepare` (on the health partner's machine) and `hub opt-out load` (on the hub).

The national data opt-out list leaves the partner as pseudonyms only: `prepare` needs
the contract's key, `load` needs none. Loading records the list, erases the stored
events of those subjects from the contract's opt-out sources and rebuilds every
projection, so no figure counts them; from then on their events are refused keeping
only event id, reason and time. The list only grows: a subject missing from a later
file stays on it, and erased events are never restored.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from hub.settings import HubSettings

console = Console()
errors = Console(stderr=True)

EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3

opt_out_app = typer.Typer(help="The national data opt-out list.", no_args_is_help=True)


@opt_out_app.command("prepare")
def prepare(
    numbers: Annotated[
        Path,
        typer.Argument(
            help="The opt-out list: one NHS number per line.", exists=True, dir_okay=False
        ),
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The file to send to the hub (JSON).")
    ],
) -> None:
    """Pseudonymise the opt-out list with the contract's key (run by the health partner)."""
    from hub.commands.keys import pseudonymiser_from
    from producers.opt_out import prepare_opt_outs

    pseudonymiser = pseudonymiser_from(HubSettings())
    with numbers.open(encoding="utf-8") as lines:
        prepared = prepare_opt_outs(lines, pseudonymiser)
    for line, reason in prepared.refused:
        errors.print(f"{numbers.name}: line {line}: {reason}", markup=False, highlight=False)
    output.write_text(prepared.opt_outs.to_json(), encoding="utf-8")
    console.print(
        f"{prepared.lines_read} NHS numbers read, {len(prepared.refused)} refused: "
        f"{len(prepared.opt_outs.pseudonyms)} pseudonyms (key {pseudonymiser.key_id}) written "
        f"to {output}; send that file to the hub, never the numbers",
        soft_wrap=True,
    )
    if prepared.refused:
        raise typer.Exit(EXIT_INVALID)


@opt_out_app.command("load")
def load(
    file: Annotated[
        Path,
        typer.Argument(
            help="A file made by `hub opt-out prepare` (pseudonyms, no NHS numbers).",
            exists=True,
            dir_okay=False,
        ),
    ],
) -> None:
    """Record the opt-out list, erase those subjects' events from its sources, rebuild."""
    from contracts.loading import shipped_contracts
    from contracts.opt_out_list import OptOutListRefused, check_key, read_opt_out_list
    from pipelines.opt_out import load_opt_outs
    from warehouse.connection import WarehouseUnavailable, connect

    settings = HubSettings()
    contract = shipped_contracts().get(settings.contract_id)
    if contract is None:
        errors.print(f"[red]no contract {settings.contract_id!r}[/red]")
        raise typer.Exit(EXIT_USAGE)
    try:
        opt_outs = read_opt_out_list(file.read_text(encoding="utf-8"))
        check_key(opt_outs, contract)
    except (OptOutListRefused, UnicodeDecodeError) as error:
        problems = error.problems if isinstance(error, OptOutListRefused) else ["not UTF-8 text"]
        errors.print(f"[red]{file.name} is refused; nothing was loaded:[/red]")
        for problem in problems:
            errors.print(f"  - {problem}", markup=False, highlight=False)
        raise typer.Exit(EXIT_INVALID) from None
    try:
        with connect(settings.warehouse_dsn()) as conn:
            done = load_opt_outs(
                conn, opt_outs, contract, dt.datetime.now(dt.UTC), dsn=settings.warehouse_dsn()
            )
    except WarehouseUnavailable as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(EXIT_UNAVAILABLE) from None
    applied = done.applied
    rebuilt = (
        f"projections rebuilt from {done.rebuild.events} events"
        if done.rebuild
        else "no projection to rebuild"
    )
    console.print(
        f"{len(opt_outs.pseudonyms)} opt-outs read ({applied.added} new); "
        f"{applied.events_erased} events from {', '.join(contract.opt_out.sources) or 'no source'}"
        f" erased, {applied.quarantined_erased} quarantined messages erased; {rebuilt}. "
        "The worker refuses these subjects' next events.",
        soft_wrap=True,
    )
    if applied.not_in_file:
        console.print(
            f"{applied.not_in_file} subjects already on the hub's list are not in this file: "
            "they stay on it (the list only grows, and erased events are never restored).",
            soft_wrap=True,
        )
