"""Commands that move data: `hub produce`, `hub scorecard`, `hub keys init` and `hub demo`."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from hub.settings import HubSettings
from producers.ehc_plans import EHC_PLANS
from producers.extract_reader import ExtractUnreadable
from producers.identity import Pseudonymiser
from producers.mapped_extract import mapped_extract
from producers.outbox import Outbox
from producers.publisher import PublishSummary, PublishTarget, publish_extract, send_pending
from producers.receipts import HubUnreachable, recorded_event_ids
from producers.source_mapping import MappingInvalid, find_extract
from producers.staging import RowConverter
from schemas.catalogue import default_catalogue
from schemas.topics import SOURCE_BY_SYSTEM
from warehouse.connection import WarehouseUnavailable, connect
from warehouse.scorecard import scorecard_document

console = Console()
errors = Console(stderr=True)

EXIT_REFUSED_ROWS = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3
LARGE_EXTRACT_BYTES = 1_000_000
EHC_PLANS_EXTRACT = "ehc_plans_issued"


def pseudonymiser_from(settings: HubSettings) -> Pseudonymiser:
    try:
        key = settings.pseudonym_key_bytes()
    except OSError as error:
        errors.print(
            f"[red]HUB_PSEUDONYM_KEY_FILE names {settings.pseudonym_key_file}, which cannot be"
            f" read ({error.strerror}).[/red] Point it at the key file the contract names."
        )
        raise typer.Exit(EXIT_USAGE) from None
    if key is None:
        errors.print(
            "[red]No pseudonymisation key.[/red] Set HUB_PSEUDONYM_KEY_FILE (or HUB_PSEUDONYM_KEY),"
            f" or run `hub keys init` to create one at {settings.default_key_file}."
        )
        raise typer.Exit(EXIT_USAGE)
    try:
        return Pseudonymiser(key, settings.pseudonym_key_id)
    except ValueError as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(EXIT_USAGE) from None


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
    target = PublishTarget(
        bootstrap=settings.broker_bootstrap,
        topic=settings.topic(SOURCE_BY_SYSTEM[source]),
        source_system=source,
        contract_id=settings.contract_id,
        area_code=settings.area_code,
    )
    pseudonymiser = pseudonymiser_from(settings)
    outbox_path = settings.outbox_path(source)
    try:
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
    except ExtractUnreadable as error:
        errors.print(f"[red]{file.name}: cannot be used: {error}[/red]")
        raise typer.Exit(EXIT_USAGE) from None
    report_publish(summary, file.name)
    if summary.broker_unavailable:
        errors.print(
            f"[red]no broker answered at {settings.broker_bootstrap}[/red]: "
            f"{waiting.pending} events are kept in the outbox ({outbox_path}); "
            "run `hub outbox flush` once the broker is back."
        )
        raise typer.Exit(EXIT_UNAVAILABLE)
    if not summary.clean:
        raise typer.Exit(EXIT_REFUSED_ROWS)


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


def _month(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(f"{value}-01")
    except ValueError:
        errors.print(f"[red]{value!r} is not a month; use YYYY-MM[/red]")
        raise typer.Exit(EXIT_USAGE) from None


UNIT_SUFFIX = {"percent": " %", "per_1000": " /1,000", "count": ""}


def _target(kpi: dict[str, Any]) -> str:
    better = ">=" if kpi["polarity"] == "higher_is_better" else "<="
    if kpi["unit"] == "count":
        return f"{better} {kpi['target_percent']:+g} %/yr"
    return f"{better} {kpi['target_percent']:g}{UNIT_SUFFIX[kpi['unit']]}"


def render_scorecard(document: dict[str, object]) -> Table:
    """The scorecard as a table, one row per KPI, grouped by perspective."""
    kpis = document["kpis"]
    assert isinstance(kpis, list)
    spans = sorted({(k["period_from"], k["period_to"]) for k in kpis if k["period_from"]})
    months = f"months {spans[0][0]} to {spans[-1][1]}" if spans else "no months measured"
    table = Table(
        title=f"Balanced scorecard (as at {document['as_at'] or 'no data yet'})",
        caption=f"{months}; yearly rates over the last 12; 12 mo: the last 12 months "
        "against the 12 before",
    )
    table.add_column("KPI", ratio=1, overflow="fold")
    for column in ("Value", "n / d", "Target", "RAG", "12 mo"):
        table.add_column(column, justify="right", no_wrap=True)
    rag_style = {"green": "green", "amber": "yellow", "red": "red", "no_data": "dim"}
    perspective = None
    for kpi in kpis:
        if kpi["perspective"] != perspective:
            perspective = kpi["perspective"]
            table.add_row(f"[bold]{str(perspective).capitalize()}[/bold]")
        value = kpi["value"]
        if value is None:
            shown = "-"
        elif kpi["unit"] == "count":
            shown = f"{value:,.0f}"
        else:
            shown = f"{value:,.1f}{UNIT_SUFFIX[kpi['unit']]}"
        figures = (
            f"{kpi['numerator']:,}"
            if kpi["unit"] == "count"
            else f"{kpi['numerator']:,} / {kpi['denominator']:,}"
        )
        change = "-" if kpi["change_percent"] is None else f"{kpi['change_percent']:+.1f} %"
        style = rag_style[kpi["rag"]]
        table.add_row(
            kpi["name"],
            shown,
            figures,
            _target(kpi),
            f"[{style}]{kpi['rag'].upper()}[/{style}]",
            change,
        )
    return table


def scorecard(
    output_format: Annotated[str, typer.Option("--format", help="table or json")] = "table",
    period_from: Annotated[str | None, typer.Option("--from", help="First month, YYYY-MM")] = None,
    period_to: Annotated[str | None, typer.Option("--to", help="Last month, YYYY-MM")] = None,
) -> None:
    """Print the balanced scorecard (the same JSON as GET /scorecard with --format json)."""
    if output_format not in ("table", "json"):
        errors.print("[red]--format must be table or json[/red]")
        raise typer.Exit(EXIT_USAGE)
    settings = HubSettings()
    try:
        with connect(settings.warehouse_dsn()) as conn:
            document = scorecard_document(conn, _month(period_from), _month(period_to))
    except WarehouseUnavailable as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(EXIT_UNAVAILABLE) from None
    if output_format == "json":
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    else:
        console.print(render_scorecard(document))


keys = typer.Typer(help="Pseudonymisation keys.", no_args_is_help=True)


@keys.command("init")
def keys_init(
    force: Annotated[
        bool, typer.Option(help="Replace an existing key (old pseudonyms break).")
    ] = False,
) -> None:
    """Create a random HMAC key at the default key file (mode 0600), for the embedded stack."""
    settings = HubSettings()
    path = settings.pseudonym_key_file or settings.default_key_file
    if path.exists() and not force:
        console.print(f"a key already exists at {path}; keeping it")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_hex(32))
    console.print(f"created a new pseudonymisation key at {path} (keep it out of the repo)")


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
        outcome = send_pending(outbox, settings.broker_bootstrap)
        if outcome.broker_unavailable:
            errors.print(f"[red]no broker answered at {settings.broker_bootstrap}[/red]")
            raise typer.Exit(EXIT_UNAVAILABLE)
        console.print(f"sent {len(outcome.acknowledged)} events ({outcome.failed} failed)")
        awaiting = outbox.acknowledged_ids(limit=1_000_000)
        try:
            recorded = recorded_event_ids(settings.api_url, awaiting)
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


def _hub(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "hub.cli", *args], check=False)


def demo(
    seed: Annotated[int, typer.Option(help="Seed for the synthetic area.")] = 2026,
) -> None:
    """Start the embedded stack, publish a small synthetic area's extracts, show the results."""
    from producers.synthetic.area import SMOKE
    from producers.synthetic.area_files import generate_area, read_events
    from schemas.codec import decode

    settings = HubSettings()
    if settings.pseudonym_key_bytes() is None:
        keys_init(force=False)
    if _hub("up", "--detach").returncode != 0:
        raise typer.Exit(EXIT_UNAVAILABLE)
    area = settings.state_dir / "demo" / f"area-{seed}"
    console.rule("A small synthetic area: every partner's extracts, faults included")
    summary = generate_area(SMOKE, seed, 1.0, area)
    catalogue = default_catalogue()
    expected = len(
        {str(decode(catalogue, m).record["event_id"]) for m in read_events(area / "events.bin")}
    )
    console.print(
        f"{summary.people} children and young people, {summary.rows} rows in "
        f"{len(list((area / 'extracts').rglob('*.csv')))} extracts, in {area}"
    )
    _hub("reference", "load", str(area / "reference"))
    console.rule("Each partner publishes its extracts (refused rows are reported by line)")
    for path in sorted((area / "extracts").rglob("*.csv")):
        source, extract = path.parent.name, path.stem
        console.print(f"[bold]{source}/{extract}[/bold]")
        _hub("produce", "--source", source, "--extract", extract, str(path))
    console.rule("Waiting for the stream worker to apply them")
    _wait_for_events(settings, expected)
    console.rule("The scorecard")
    _hub("scorecard")
    console.rule("The JSNA: children and young people by primary need")
    _hub("jsna", "--dimension", "primary_need", "--as-at", SMOKE.end.isoformat())
    console.rule("Reconciliation and data quality")
    _hub("pipelines", "run", "reconcile")
    console.print(
        f"\nThe hub is running. API: {settings.api_url}/scorecard and /jsna  ·  `hub status`  ·  "
        "`hub quarantine list`  ·  `hub replay`  ·  stop it with `hub down`."
    )


def _wait_for_events(settings: HubSettings, expected: int, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    seen = 0
    while time.monotonic() < deadline:
        try:
            with connect(settings.warehouse_dsn()) as conn:
                row = conn.execute("SELECT count(*) FROM events").fetchone()
                seen = int(row[0]) if row else 0
        except WarehouseUnavailable:
            seen = 0
        if seen >= expected:
            console.print(f"{seen} events in the event store")
            return
        time.sleep(1.0)
    errors.print(f"[yellow]only {seen} of {expected} events arrived within {timeout:.0f}s[/yellow]")


def register(app: typer.Typer) -> None:
    app.command()(produce)
    app.command()(scorecard)
    app.command()(demo)
    app.add_typer(keys, name="keys")
    app.add_typer(outbox_commands, name="outbox")
