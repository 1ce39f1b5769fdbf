"""`hub backfill DIR`: a local area's first load, every partner extract of a directory at once.

Each file is recognised by its name, `<source>/<extract>.csv` as `hub synth` writes them, sent
through the same path as `hub produce`, in the order a council loads history; a table says what.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hub.commands.produce import (
    EHC_PLANS_EXTRACT,
    EXIT_REFUSED_ROWS,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
    converter_for,
    publish_file,
    report_publish,
)
from hub.settings import HubSettings
from producers.extract_reader import ExtractUnreadable
from producers.publisher import PublishSummary
from producers.source_mapping import shipped_mappings

console = Console()
errors = Console(stderr=True)

# The statutory EHC journey, request to tribunal, in the order it happens.
PLANS_AND_REQUESTS = (
    "assessment_requests",
    "assessment_decisions",
    "advice_requests",
    "advice_returns",
    EHC_PLANS_EXTRACT,
    "annual_reviews",
    "plans_ceased",
    "tribunal_appeals_registered",
    "tribunal_appeals_decided",
)
# After the plans, the rest of education (census, attendance, placements ...), then the partners.
SOURCES_AFTER_PLANS = ("education", "socialcare", "health", "voice")
LAST = "person_details"  # demographics, dated today, apply to the whole history sent before


@dataclass(frozen=True)
class ExtractFile:
    source: str
    extract: str
    path: Path

    @property
    def name(self) -> str:
        return f"{self.source}/{self.path.name}"


def load_order() -> list[tuple[str, str]]:
    """Every (source, extract) the hub knows, in the order a first load sends them.

    Plans and requests first, then census and school records, social care, health, the
    voice of children and families, and person details last; within a source, the order of
    its mapping. The hub's result does not depend on it: it makes the report read in order.
    """
    mapped = {source: list(m.extracts) for source, m in shipped_mappings().items()}
    order = [("education", extract) for extract in PLANS_AND_REQUESTS]
    for source in (*SOURCES_AFTER_PLANS, *sorted(set(mapped) - set(SOURCES_AFTER_PLANS))):
        order += [
            (source, extract)
            for extract in mapped.get(source, [])
            if extract != LAST and (source, extract) not in order
        ]
    order += [(source, LAST) for source in mapped if LAST in mapped[source]]
    return order


def recognise(directory: Path) -> tuple[list[ExtractFile], list[Path]]:
    """The directory's extract files in load order, and every file that is not one."""
    rank = {key: position for position, key in enumerate(load_order())}
    found: list[ExtractFile] = []
    unknown: list[Path] = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        relative = path.relative_to(directory)
        key = (relative.parts[0], relative.stem)
        if len(relative.parts) == 2 and relative.suffix == ".csv" and key in rank:
            found.append(ExtractFile(*key, path))
        else:
            unknown.append(relative)
    found.sort(key=lambda item: rank[(item.source, item.extract)])
    return found, unknown


def backfill(
    directory: Annotated[
        Path,
        typer.Argument(
            help="Directory of `<source>/<extract>.csv`, e.g. `extracts/` of `hub synth`."
        ),
    ],
) -> None:
    """Publish a directory of partner extracts in load order; report each one's rows."""
    if not directory.is_dir():
        errors.print(f"[red]{directory}: no such directory[/red]")
        raise typer.Exit(EXIT_USAGE)
    extracts, unknown = recognise(directory)
    for path in unknown:
        errors.print(f"[red]{path}: not a known extract[/red]")
    if unknown or not extracts:
        errors.print(
            f"{directory} must hold only `<source>/<extract>.csv` files "
            "(the extracts in docs/extracts/README.md); nothing was sent"
        )
        raise typer.Exit(EXIT_USAGE)
    settings = HubSettings()
    published: list[tuple[ExtractFile, PublishSummary | None]] = []
    for item in extracts:
        try:
            summary = publish_file(
                settings, item.source, converter_for(item.source, item.extract), item.path
            )
        except ExtractUnreadable as error:
            errors.print(f"[red]{item.name}: cannot be used: {error}[/red]")
            published.append((item, None))
            continue
        report_publish(summary, item.name)
        published.append((item, summary))
        if summary.broker_unavailable:
            console.print(report_table(published))
            raise typer.Exit(EXIT_UNAVAILABLE)
    console.print(report_table(published))
    if any(summary is None for _, summary in published):
        raise typer.Exit(EXIT_USAGE)
    if not all(summary and summary.clean for _, summary in published):
        raise typer.Exit(EXIT_REFUSED_ROWS)


def report_table(published: list[tuple[ExtractFile, PublishSummary | None]]) -> Table:
    table = Table(title="Backfill: what each extract sent and refused")
    for column in ("extract", "source"):
        table.add_column(column)
    for column in ("rows read", "sent", "refused"):
        table.add_column(column, justify="right")
    for item, summary in published:
        if summary is None:
            table.add_row(item.extract, item.source, "cannot be used", "", "")
        else:
            figures = (summary.rows_read, summary.rows_sent, summary.rows_refused)
            table.add_row(item.extract, item.source, *(f"{n:,}" for n in figures))
    return table


def register(app: typer.Typer) -> None:
    app.command()(backfill)
