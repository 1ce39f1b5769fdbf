"""`hub produce`: a partner publishes one CSV extract to the hub.

Each row is checked against the contract, pseudonymised and sent as an Avro event through
the durable outbox; refused rows are reported by line, and the exit code says what happened.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress

from hub.commands.keys import pseudonymiser_from
from hub.settings import HubSettings
from producers.ehc_plans import EHC_PLANS
from producers.extract_reader import ExtractUnreadable
from producers.mapped_extract import mapped_extract
from producers.outbox import Outbox
from producers.publisher import PublishSummary, PublishTarget, publish_extract
from producers.source_mapping import MappingInvalid, find_extract
from producers.staging import RowConverter
from schemas.catalogue import default_catalogue
from schemas.topics import SOURCE_BY_SYSTEM

console = Console()
errors = Console(stderr=True)

EXIT_REFUSED_ROWS = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3
LARGE_EXTRACT_BYTES = 1_000_000
EHC_PLANS_EXTRACT = "ehc_plans_issued"


def report_publish(summary: PublishSummary, file_name: str) -> None:
    for refusal in summary.refusals:
        errors.print(f"{file_name}: line {refusal.line}: {refusal.reason}: {refusal.message}")
    if summary.unknown_columns:
        errors.print(f"ignored unknown columns: {', '.join(summary.unknown_columns)}")
    if summary.send_failures:
        errors.print(
            f"[red]{summary.send_failures} events were not acknowledged by the broker[/red]"
        )
    colour = "green" if summary.clean else "yellow"
    console.print(
        f"[{colour}]{file_name}: read {summary.rows_read} rows: {summary.rows_sent} sent, "
        f"{summary.rows_refused} refused[/{colour}] (extract {summary.extract_id})"
    )


def converter_for(source: str, extract: str) -> RowConverter:
    """The row converter of a source system's extract, or a usage error naming what exists."""
    if source not in SOURCE_BY_SYSTEM:
        errors.print(
            f"[red]unknown source {source!r}[/red]: choose one of {', '.join(SOURCE_BY_SYSTEM)}"
        )
        raise typer.Exit(EXIT_USAGE)
    if source == "education" and extract == EHC_PLANS_EXTRACT:
        return EHC_PLANS
    try:
        return mapped_extract(find_extract(source, extract), default_catalogue())
    except MappingInvalid as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(EXIT_USAGE) from None


def produce(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV extract from a partner system.", exists=True, dir_okay=False, readable=True
        ),
    ],
    source: Annotated[str, typer.Option(help="Partner source system publishing the extract.")],
    extract: Annotated[
        str,
        typer.Option(
            help="Which extract of the source system (see producers/mappings/<source>.yaml)."
        ),
    ] = EHC_PLANS_EXTRACT,
) -> None:
    """Publish a partner extract: check, pseudonymise and send each row as an Avro event."""
    settings = HubSettings()
    converter = converter_for(source, extract)
    try:
        summary = publish_file(settings, source, converter, file)
    except ExtractUnreadable as error:
        errors.print(f"[red]{file.name}: cannot be used: {error}[/red]")
        raise typer.Exit(EXIT_USAGE) from None
    report_publish(summary, file.name)
    if summary.broker_unavailable:
        raise typer.Exit(EXIT_UNAVAILABLE)
    if not summary.clean:
        raise typer.Exit(EXIT_REFUSED_ROWS)


def publish_file(
    settings: HubSettings, source: str, converter: RowConverter, file: Path
) -> PublishSummary:
    """Publish one extract through the source's outbox: the path `produce` and `backfill` share.

    Raises ExtractUnreadable; when no broker answers it says so and what the outbox keeps.
    """
    target = PublishTarget(
        bootstrap=settings.broker_bootstrap,
        topic=settings.topic(SOURCE_BY_SYSTEM[source]),
        source_system=source,
        contract_id=settings.contract_id,
        area_code=settings.area_code,
    )
    pseudonymiser = pseudonymiser_from(settings)
    outbox_path = settings.outbox_path(source)
    with Outbox(outbox_path) as outbox:
        with progress_bar(file) as advance:
            summary = publish_extract(
                file,
                target,
                pseudonymiser,
                outbox,
                now=dt.datetime.now(dt.UTC),
                on_row=advance,
                converter=converter,
            )
        waiting = outbox.status()
    if summary.broker_unavailable:
        errors.print(
            f"[red]no broker answered at {settings.broker_bootstrap}[/red]: "
            f"{waiting.pending} events are kept in the outbox ({outbox_path}); "
            "run `hub outbox flush` once the broker is back."
        )
    return summary


@contextmanager
def progress_bar(file: Path) -> Iterator[Callable[[], None]]:
    """A progress bar for large extracts on a terminal; silent otherwise."""
    size = file.stat().st_size
    if not console.is_terminal or size < LARGE_EXTRACT_BYTES:
        yield lambda: None
        return
    lines = sum(1 for _ in file.open("rb")) - 1
    with Progress(transient=True, console=console) as progress:
        task = progress.add_task(f"publishing {file.name}", total=lines)
        yield lambda: progress.advance(task)


def register(app: typer.Typer) -> None:
    app.command()(produce)
