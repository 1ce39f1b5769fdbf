"""`hub outbox status` and `flush`: the producer's durable outbox and the hub's receipts.

What `hub produce` could not send waits here; an event leaves only once the hub confirms
it has recorded it, so a partner can see and finish what a lost broker left undone.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from hub.settings import HubSettings
from producers.outbox import Outbox
from producers.publisher import send_pending
from producers.receipts import HubUnreachable, recorded_event_ids

console = Console()
errors = Console(stderr=True)

EXIT_UNAVAILABLE = 3

outbox_commands = typer.Typer(help="The producer's durable outbox.", no_args_is_help=True)


@outbox_commands.command("status")
def outbox_status(
    source: Annotated[str, typer.Option(help="Partner source system.")] = "education",
) -> None:
    """How many events wait to be sent, or to be confirmed as recorded by the hub."""
    settings = HubSettings()
    with Outbox(settings.outbox_path(source)) as outbox:
        status = outbox.status()
    oldest = status.oldest_pending.isoformat(timespec="seconds") if status.oldest_pending else "-"
    console.print(
        f"outbox {settings.outbox_path(source)}: {status.pending} waiting to be sent "
        f"(oldest {oldest}), {status.acknowledged} sent and awaiting the hub's receipt"
    )


@outbox_commands.command("flush")
def outbox_flush(
    source: Annotated[str, typer.Option(help="Partner source system.")] = "education",
) -> None:
    """Send what is waiting, then forget the events the hub confirms it has recorded."""
    settings = HubSettings()
    with Outbox(settings.outbox_path(source)) as outbox:
        outcome = send_pending(outbox, settings.broker_bootstrap, access=settings.broker_access())
        if outcome.broker_unavailable:
            errors.print(f"[red]no broker answered at {settings.broker_bootstrap}[/red]")
            raise typer.Exit(EXIT_UNAVAILABLE)
        console.print(f"sent {len(outcome.acknowledged)} events ({outcome.failed} failed)")
        awaiting = outbox.acknowledged_ids(limit=1_000_000)
        try:
            recorded = recorded_event_ids(settings.api_url, awaiting, api_token(settings))
        except HubUnreachable as error:
            errors.print(f"[yellow]{error}[/yellow]; sent events stay in the outbox")
            raise typer.Exit(EXIT_UNAVAILABLE) from None
        removed = outbox.remove_recorded(sorted(recorded))
        status = outbox.status()
    console.print(
        f"{removed} events confirmed recorded by the hub and removed; "
        f"{status.pending} waiting, {status.acknowledged} awaiting receipt"
    )
    if outcome.failed or status.pending:
        raise typer.Exit(EXIT_UNAVAILABLE)


def api_token(settings: HubSettings) -> str | None:
    try:
        return settings.resolved_api_token()
    except OSError as error:
        errors.print(
            f"[red]HUB_API_TOKEN_FILE names {settings.api_token_file}, which cannot be read"
            f" ({error.strerror}).[/red]"
        )
        raise typer.Exit(2) from None


def register(app: typer.Typer) -> None:
    app.add_typer(outbox_commands, name="outbox")
