"""`hub replay`: rebuild every projection from the event store, prove it equal to the live one."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from hub.settings import HubSettings
from pipelines.replay import ReplayReport, replay
from warehouse.cohort_store import projection_settings
from warehouse.connection import WarehouseUnavailable, connect

console = Console()
errors = Console(stderr=True)

EXIT_DIFFERENT = 1
EXIT_UNAVAILABLE = 3


def replay_command(
    apply: Annotated[
        bool,
        typer.Option(
            "--apply",
            help="Replace the live projections with the rebuilt ones (e.g. after a KPI change).",
        ),
    ] = False,
) -> None:
    """Rebuild KPI measures, cohort register and JSNA cells from the event store; compare."""
    settings = HubSettings()
    try:
        with connect(settings.warehouse_dsn()) as conn:
            projection = projection_settings(conn)
            with Progress(console=console, transient=True) as progress:
                task = progress.add_task("replaying the event store", total=None)

                def advance(done: int, total: int) -> None:
                    progress.update(task, completed=done, total=total)

                report = replay(
                    conn,
                    projection,
                    apply=apply,
                    progress=advance,
                    dsn=settings.warehouse_dsn(),
                )
    except WarehouseUnavailable as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(EXIT_UNAVAILABLE) from None
    console.print(render(report))
    if report.applied:
        console.print("the live projections were replaced by the rebuilt ones")
    elif not report.equal:
        errors.print(
            "[red]the rebuilt projections differ from the live ones[/red]: "
            "`hub replay --apply` replaces the live ones"
        )
        raise typer.Exit(EXIT_DIFFERENT)


def render(report: ReplayReport) -> Table:
    rate = report.events / report.seconds if report.seconds else 0.0
    table = Table(
        title=f"Replay of {report.events} events in {report.seconds:.1f}s ({rate:,.0f} events/s)",
        caption=" · ".join(f"{phase} {seconds:.1f}s" for phase, seconds in report.phases),
    )
    for column in ("projection", "live rows", "rebuilt rows", "only live", "only rebuilt", ""):
        table.add_column(column)
    for item in report.tables:
        verdict = "[green]equal[/green]" if item.equal else "[red]different[/red]"
        table.add_row(
            item.table,
            str(item.live_rows),
            str(item.replayed_rows),
            str(item.only_live),
            str(item.only_replayed),
            verdict,
        )
    return table


def register(app: typer.Typer) -> None:
    app.command("replay")(replay_command)
