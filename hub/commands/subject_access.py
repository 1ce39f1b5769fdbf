"""`hub subject-access PSEUDONYM --requested-by NAME`: what the hub holds about one person.

For a subject access request: the partner computes the person's pseudonym with its key
(the hub never holds the key) and an administrator on the hub's machine lists, with the
warehouse owner's connection, the events linked to it (type, source and dates, never a
payload), the register's current state and history, whether it is on the opt-out list
and how many quarantined messages carry it. Every look-up, one that finds nothing
included, is written to the access log under the requester's name, without the pseudonym.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hub.settings import HubSettings
from warehouse.connection import WarehouseUnavailable, connect
from warehouse.subject_access import SubjectRecord, look_up

console = Console()
errors = Console(stderr=True)

EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3

NOTHING_HELD = "the hub holds nothing linked to this pseudonym"


def subject_access(
    pseudonym: Annotated[
        str, typer.Argument(help="The person's pseudonym, as the partner computed it.")
    ],
    requested_by: Annotated[
        str, typer.Option("--requested-by", help="Who asked: recorded in the access log.")
    ],
    output_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """List what the hub holds about one person, for a subject access request (logged)."""
    if output_format not in ("table", "json"):
        errors.print(f"[red]--format must be table or json, not {output_format!r}[/red]")
        raise typer.Exit(EXIT_USAGE)
    subject = pseudonym.strip()
    requester = requested_by.strip()
    if not subject:
        errors.print("[red]the pseudonym is empty[/red]")
        raise typer.Exit(EXIT_USAGE)
    if not requester or len(requester) > 200:
        errors.print("[red]--requested-by must name who asked (1 to 200 characters)[/red]")
        raise typer.Exit(EXIT_USAGE)
    settings = HubSettings()
    try:
        with connect(settings.warehouse_dsn()) as conn:
            record = look_up(conn, subject, requester, output_format).record
    except WarehouseUnavailable as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(EXIT_UNAVAILABLE) from None
    if output_format == "json":
        typer.echo(json.dumps(record.as_dict(), indent=2))
        return
    _print_tables(record)
    errors.print(f"this look-up is recorded in the access log under {requester!r}")


def _print_tables(record: SubjectRecord) -> None:
    if record.empty:
        console.print(NOTHING_HELD)
        return
    console.print(
        f"person id(s): {', '.join(record.person_ids) or '-'}; linked pseudonyms:"
        f" {record.linked_pseudonyms}; on the opt-out list: {'yes' if record.opted_out else 'no'};"
        f" quarantined messages carrying it: {record.quarantined_messages}"
    )
    events = Table(title=f"Events: {len(record.events)}")
    for column in ("occurred", "type", "source", "recorded", "received", "state", "event id"):
        events.add_column(column)
    for event in record.events:
        events.add_row(
            event.occurred_at.date().isoformat(),
            event.event_type,
            event.source_system,
            event.recorded_at.date().isoformat(),
            event.received_at.date().isoformat(),
            event.state,
            str(event.event_id),
        )
    console.print(events)
    history = Table(title=f"Register history: {len(record.history)} spans")
    for column in ("person", "from", "to", "send status", "state"):
        history.add_column(column)
    for span in record.history:
        fields = {k: v for k, v in span.state.items() if k != "send_status" and v not in (None, [])}
        history.add_row(
            span.person_id,
            span.valid_from.isoformat(),
            span.valid_to.isoformat() if span.valid_to else "now",
            span.send_status,
            json.dumps(fields, default=str),
        )
    console.print(history)


def register(app: typer.Typer) -> None:
    app.command("subject-access")(subject_access)
