"""`hub produce`: a partner publishes one CSV extract to the hub.

Each row is checked against the contract, pseudonymised and sent as an Avro event through
the durable outbox; refused rows are reported by line, and the exit code says what happened.
A large extract shows its progress on a terminal; one interrupted resumes when run again.
"""

from __future__ import annotations

import csv
import datetime as dt
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from hub.commands.keys import pseudonymiser_from
from hub.settings import HubSettings
from producers.ehc_plans import EHC_PLANS
from producers.extract_reader import ExtractUnreadable
from producers.identity import Pseudonymiser
from producers.mapped_extract import mapped_extract
from producers.outbox import Outbox
from producers.publisher import PublishSummary, PublishTarget, StagingStart, publish_extract
from producers.source_mapping import MappingInvalid, find_extract
from producers.staging import RowConverter
from producers.staging_ledger import refusals_of
from schemas.catalogue import default_catalogue
from schemas.topics import SOURCE_BY_SYSTEM

console = Console()
errors = Console(stderr=True)

EXIT_REFUSED_ROWS = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl-C
LARGE_EXTRACT_BYTES = 1_000_000
EHC_PLANS_EXTRACT = "ehc_plans_issued"


def report_publish(summary: PublishSummary, file_name: str) -> None:
    for refusal in summary.refusals:
        errors.print(f"{file_name}: line {refusal.line}: {refusal.reason}: {refusal.message}")
    if summary.rows_refused > len(summary.refusals):
        where = f": every one is listed in {summary.refusals_file}" if summary.refusals_file else ""
        errors.print(
            f"{file_name}: {summary.rows_refused - len(summary.refusals):,} more refused rows "
            f"not shown{where}"
        )
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
        access=settings.broker_access(),
    )
    pseudonymiser = pseudonymiser_from(settings)
    outbox_path = settings.outbox_path(source)
    with Outbox(outbox_path) as outbox:
        try:
            summary = publish_watched(file, target, pseudonymiser, outbox, converter)
        except StopRequested as stop:
            errors.print(
                f"{file.name}: stopped after line {stop.line:,}; what was staged is kept in "
                f"the outbox ({outbox_path}): run the same command again to resume"
            )
            raise typer.Exit(EXIT_INTERRUPTED) from None
        if summary.rows_refused > len(summary.refusals):
            summary.refusals_file = write_refusals(outbox, summary, outbox_path.parent, file)
        waiting = outbox.status()
    if summary.broker_unavailable:
        errors.print(
            f"[red]no broker answered at {settings.broker_bootstrap}[/red]: "
            f"{waiting.pending} events are kept in the outbox ({outbox_path}); "
            "run `hub outbox flush` once the broker is back."
        )
    return summary


def publish_watched(
    file: Path,
    target: PublishTarget,
    pseudonymiser: Pseudonymiser,
    outbox: Outbox,
    converter: RowConverter,
) -> PublishSummary:
    """`publish_extract` with its progress shown and Ctrl-C honoured between chunks."""
    with progress_display(file) as progress, stop_between_chunks() as stop_if_asked:

        def on_progress(line: int) -> None:
            progress.advance(line)
            stop_if_asked(line)

        return publish_extract(
            file,
            target,
            pseudonymiser,
            outbox,
            now=dt.datetime.now(dt.UTC),
            on_start=progress.start,
            on_progress=on_progress,
            converter=converter,
        )


class StopRequested(Exception):
    """Ctrl-C while publishing, acted on once the rows in hand are committed."""

    def __init__(self, line: int) -> None:
        super().__init__(f"stopped after line {line}")
        self.line = line


@contextmanager
def stop_between_chunks() -> Iterator[Callable[[int], None]]:
    """Ctrl-C asks publishing to stop where nothing is half-sent: after the chunk in hand is
    committed and what the broker confirmed is recorded, so a run again resumes exactly.
    The check it yields raises StopRequested there; a second Ctrl-C stops at once."""
    requested = False

    def on_ctrl_c(_signal: int, _frame: FrameType | None) -> None:
        nonlocal requested
        if requested:
            raise KeyboardInterrupt
        requested = True
        errors.print("stopping once the rows in hand are staged (Ctrl-C again to stop at once)")

    def stop_if_asked(line: int) -> None:
        if requested:
            raise StopRequested(line)

    if threading.current_thread() is not threading.main_thread():
        yield stop_if_asked  # only the main thread receives signals
        return
    previous = signal.signal(signal.SIGINT, on_ctrl_c)
    try:
        yield stop_if_asked
    finally:
        signal.signal(signal.SIGINT, previous)


def write_refusals(outbox: Outbox, summary: PublishSummary, directory: Path, file: Path) -> Path:
    """Every refused row of a large extract, as CSV (line, reason, message: never a value),
    beside the outbox: the console shows only the first REFUSALS_KEPT."""
    path = directory / "refusals" / f"{file.stem}.{summary.extract_id}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(("line", "reason", "message"))
        writer.writerows(
            (r.line, r.reason, r.message) for r in refusals_of(outbox, summary.extract_id)
        )
    return path


class ProgressDisplay:
    """What a person publishing sees while it runs: whether it resumes an earlier run and,
    for a large extract on a terminal, a bar with rows done of all, rows a second and the
    time left. Silent otherwise, so logs and pipes get only the summary."""

    def __init__(self, file: Path, stack: ExitStack) -> None:
        self.file = file
        self._stack = stack
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def start(self, start: StagingStart) -> None:
        """Called once the extract is identified, before any row is read."""
        if message := resume_message(self.file.name, start):
            console.print(message)
        large = self.file.stat().st_size >= LARGE_EXTRACT_BYTES
        if not console.is_terminal or not large or start.staged_in_full:
            return
        self._progress = self._stack.enter_context(
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("rows"),
                RowRateColumn(),
                TimeRemainingColumn(),
                transient=True,
                console=console,
            )
        )
        self._task = self._progress.add_task(
            f"publishing {self.file.name}",
            total=max(start.rows_estimate, 1),
            completed=max(start.resumed_after_line - 1, 0),
        )

    def advance(self, line: int) -> None:
        """Called with the file line reached each time a chunk is committed."""
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=line - 1)


class RowRateColumn(ProgressColumn):
    """Rows a second, from the progress bar's own estimate."""

    def render(self, task: Task) -> Text:
        speed = task.speed
        shown = f"{speed:,.0f}" if speed else "-"
        return Text(f"{shown} rows/s", style="progress.data.speed")


def resume_message(file_name: str, start: StagingStart) -> str | None:
    """What to say when this run is not simply the first of its extract."""
    if start.staged_in_full:
        return (
            f"{file_name}: resuming extract {start.extract_id}: an earlier run staged every "
            "row; sending what it left unsent"
        )
    if start.resuming:
        row, line = start.rows_read_before + 1, start.resumed_after_line + 1
        return (
            f"{file_name}: resuming extract {start.extract_id} from row {row:,} (line {line:,}): "
            f"the {start.rows_read_before:,} rows before it were staged by an interrupted run "
            "and are not staged or sent again"
        )
    if start.published_before:
        return (
            f"{file_name}: extract {start.extract_id} was published in full before; "
            "sending it again (the hub keeps each event once)"
        )
    return None


@contextmanager
def progress_display(file: Path) -> Iterator[ProgressDisplay]:
    with ExitStack() as stack:
        yield ProgressDisplay(file, stack)


def register(app: typer.Typer) -> None:
    app.command()(produce)
