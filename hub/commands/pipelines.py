"""`hub pipelines run reconcile`: run a Prefect flow of the hub and show what it found."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hub.settings import HubSettings

console = Console()
errors = Console(stderr=True)

EXIT_CHECKS_FAILED = 1
EXIT_UNAVAILABLE = 3
FLOWS = ("reconcile",)

pipelines = typer.Typer(
    help="Prefect flows: reconciliation and data quality.", no_args_is_help=True
)


@pipelines.command("run")
def run(
    flow_name: Annotated[str, typer.Argument(metavar="FLOW", help="Flow to run: reconcile.")],
) -> None:
    """Run a flow now, store its results in the warehouse and print them."""
    if flow_name not in FLOWS:
        errors.print(f"[red]unknown flow {flow_name!r}[/red]: choose one of {', '.join(FLOWS)}")
        raise typer.Exit(2)
    settings = HubSettings()
    # Prefect keeps its own state beside the hub's, not in the user's home directory.
    os.environ.setdefault("PREFECT_HOME", str((settings.state_dir / "prefect").resolve()))
    # Prefect's own 20 s is too short for a busy 2-core machine
    os.environ.setdefault(
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS",
        str(settings.pipelines_server_startup_timeout_s),
    )
    from pipelines.flows import reconcile_flow
    from pipelines.results import latest_run, summarise
    from warehouse.connection import WarehouseUnavailable, connect

    try:
        with connect(settings.warehouse_dsn()):
            pass
    except WarehouseUnavailable as error:
        errors.print(f"[red]{error}[/red] (is the hub up? `hub status`)")
        raise typer.Exit(EXIT_UNAVAILABLE) from None
    outcome = reconcile_flow()
    with connect(settings.warehouse_dsn()) as conn:
        stored = latest_run(conn)
    if stored is None:  # the flow stores its run before returning; absence is a bug
        errors.print("[red]the flow finished but stored no result[/red]")
        raise typer.Exit(EXIT_CHECKS_FAILED)
    table = Table(title=f"{flow_name} run {outcome['run_id']}")
    for column in ("check", "result", "summary"):
        table.add_column(column)
    for summary in summarise(stored):
        mark = "[green]passed[/green]" if summary.passed else "[red]failed[/red]"
        table.add_row(summary.check, mark, summary.summary)
    console.print(table)
    for check in stored.reconciliation:
        if not check.passed:
            console.print(
                f"  {check.check} {check.subject}: expected {check.expected}, "
                f"found {check.actual} ({check.detail})"
            )
    if not stored.passed:
        raise typer.Exit(EXIT_CHECKS_FAILED)


def register(app: typer.Typer) -> None:
    app.add_typer(pipelines, name="pipelines")
