"""`hub up`, `hub status` and `hub down`: the embedded stack's life cycle."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hub.settings import HubSettings
from hub.stack.health import Health, stack_health
from hub.stack.state import log_dir, running_state
from hub.stack.supervisor import (
    READY_TIMEOUT_S,
    StackError,
    Supervisor,
    busy_port_message,
    busy_ports,
    stop_running_stack,
)

console = Console()
errors = Console(stderr=True)

EXIT_UNHEALTHY = 1
EXIT_CANNOT_START = 2


def up(
    detach: Annotated[
        bool, typer.Option("--detach", "-d", help="Return once every component is healthy.")
    ] = False,
) -> None:
    """Start the embedded stack (PostgreSQL, broker, stream worker, API) and supervise it."""
    settings = HubSettings()
    if detach:
        _up_detached(settings)
        return
    supervisor = Supervisor(settings, say=console.print)
    try:
        code = supervisor.run()
    except StackError as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(error.exit_code) from None
    raise typer.Exit(code)


def _up_detached(settings: HubSettings) -> None:
    running = running_state(settings.state_dir)
    if running is not None and running.ready:
        console.print(f"the hub is already running (supervisor pid {running.supervisor_pid})")
        _print_health(stack_health(settings))
        return
    busy = busy_ports(settings)
    if running is None and busy:
        errors.print(f"[red]{busy_port_message(busy)}[/red]")
        raise typer.Exit(EXIT_CANNOT_START)
    log_file = log_dir(settings.state_dir) / "supervisor.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        supervisor = subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "up"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **settings.as_env(), "COLUMNS": "120"},
            start_new_session=True,
        )
    console.print(f"starting the hub (supervisor pid {supervisor.pid}, log {log_file})")
    deadline = time.monotonic() + READY_TIMEOUT_S * 2
    while time.monotonic() < deadline:
        code = supervisor.poll()
        if code is not None:
            errors.print(f"[red]the hub did not start (exit {code}):[/red]")
            errors.print(_tail(log_file))
            raise typer.Exit(code or EXIT_UNHEALTHY)
        state = running_state(settings.state_dir)
        if state is not None and state.ready:
            _print_health(stack_health(settings))
            console.print("the hub is up: `hub status` to check it, `hub down` to stop it")
            return
        time.sleep(0.3)
    errors.print(f"[red]the hub was not ready within {READY_TIMEOUT_S * 2:.0f}s[/red]")
    errors.print(_tail(log_file))
    raise typer.Exit(EXIT_UNHEALTHY)


def _tail(path: os.PathLike[str], lines: int = 20) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return "".join(handle.readlines()[-lines:])
    except OSError:
        return ""


def status(
    output_format: Annotated[
        str, typer.Option("--format", help="table or json.", case_sensitive=False)
    ] = "table",
) -> None:
    """Report each component's health and the last pipeline results; exit 1 if unhealthy."""
    settings = HubSettings()
    health = stack_health(settings)
    state = running_state(settings.state_dir)
    pipelines = _last_pipeline_runs(settings)
    if output_format.lower() == "json":
        document = {
            "healthy": all(h.healthy for h in health),
            "supervisor_pid": state.supervisor_pid if state else None,
            "components": [h.as_dict() for h in health],
            "pipelines": pipelines,
        }
        typer.echo(json.dumps(document, indent=2, default=str))
    else:
        if state is None:
            console.print("no supervisor is running here (`hub up` starts one)")
        else:
            console.print(f"supervisor pid {state.supervisor_pid}")
        _print_health(health)
        _print_pipelines(pipelines)
    if not all(h.healthy for h in health):
        raise typer.Exit(EXIT_UNHEALTHY)


def _last_pipeline_runs(settings: HubSettings) -> list[dict[str, object]]:
    from pipelines.results import latest_run_summaries
    from warehouse.connection import WarehouseUnavailable, connect

    try:
        with connect(settings.warehouse_dsn()) as conn:
            return [summary.as_dict() for summary in latest_run_summaries(conn)]
    except WarehouseUnavailable:
        return []


def _print_health(health: list[Health]) -> None:
    table = Table(title="Components")
    for column in ("component", "address", "health", "detail"):
        table.add_column(column)
    for item in health:
        mark = "[green]healthy[/green]" if item.healthy else "[red]unhealthy[/red]"
        table.add_row(item.component, item.address, mark, item.detail)
    console.print(table)


def _print_pipelines(runs: list[dict[str, object]]) -> None:
    if not runs:
        console.print("no pipeline has run yet (`hub pipelines run reconcile`)")
        return
    table = Table(title="Last pipeline results")
    for column in ("check", "ran at", "result", "summary"):
        table.add_column(column)
    for run in runs:
        passed = bool(run["passed"])
        mark = "[green]passed[/green]" if passed else "[red]failed[/red]"
        table.add_row(str(run["check"]), str(run["ran_at"]), mark, str(run["summary"]))
    console.print(table)


def down() -> None:
    """Stop every component of the embedded stack, in reverse order of starting."""
    settings = HubSettings()
    try:
        message = stop_running_stack(settings)
    except StackError as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(EXIT_UNHEALTHY) from None
    console.print(message)


def register(app: typer.Typer) -> None:
    app.command()(up)
    app.command()(status)
    app.command()(down)
