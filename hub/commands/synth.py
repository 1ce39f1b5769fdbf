"""`hub synth` and `hub reference load`: a synthetic area, and the reference data it comes with."""

from __future__ import annotations

import csv
import getpass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hub.settings import HubSettings

console = Console()
errors = Console(stderr=True)

EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3


def synth(
    profile: Annotated[str, typer.Option(help="Area profile: leicestershire or smoke.")] = (
        "leicestershire"
    ),
    seed: Annotated[int, typer.Option(help="Same seed, same files.")] = 1,
    scale: Annotated[float, typer.Option(min=0.001, max=10.0, help="1.0 = the real area.")] = 1.0,
    out: Annotated[Path | None, typer.Option(help="Output directory.")] = None,
    faults: Annotated[str, typer.Option(help="default or none.")] = "default",
) -> None:
    """Generate a synthetic area: partner extracts, an event stream, reference data, truth."""
    from producers.synthetic.area import PROFILES, Faults
    from producers.synthetic.area_files import generate_area

    if profile not in PROFILES:
        errors.print(f"[red]unknown profile {profile!r}[/red] (known: {', '.join(PROFILES)})")
        raise typer.Exit(EXIT_USAGE)
    if faults not in ("default", "none"):
        errors.print("[red]--faults must be default or none[/red]")
        raise typer.Exit(EXIT_USAGE)
    settings = HubSettings()
    target = out or settings.state_dir / "synth" / f"{profile}-{seed}-{scale:g}"
    with console.status(f"generating {profile} at scale {scale:g} (seed {seed}) ..."):
        summary = generate_area(
            PROFILES[profile],
            seed,
            scale,
            target,
            faults=Faults() if faults == "default" else Faults.none(),
        )
    table = Table(title=f"{profile} x{scale:g}, seed {seed}: {summary.seconds:.1f}s -> {target}")
    table.add_column("file")
    table.add_column("bytes", justify="right")
    for name, size in sorted(summary.files.items()):
        table.add_row(name, f"{size:,}")
    console.print(table)
    console.print(
        f"{summary.people:,} children and young people in the SEND cohort, "
        f"{summary.rows:,} extract rows ({summary.refused_rows:,} faulty, refused at source), "
        f"{summary.events:,} messages in events.bin"
    )


reference = typer.Typer(
    help="Reference data: JSNA rates and localities, published comparators.", no_args_is_help=True
)


@reference.command("load")
def load(
    directory: Annotated[
        Path, typer.Argument(help="A `reference/` directory, e.g. from `hub synth`.")
    ],
    loaded_by: Annotated[
        str | None,
        typer.Option("--by", help="Who is loading it, for the record (default: your login)."),
    ] = None,
    comparators_file: Annotated[
        Path | None,
        typer.Option(
            "--comparators",
            help="Published comparators (default: the directory's comparators.csv, else the"
            " figures the hub ships with).",
        ),
    ] = None,
) -> None:
    """Load localities.csv (LSOA -> locality), population.csv (JSNA denominators) and
    comparators.csv (figures England, the region and neighbours published for the KPIs).

    The load is recorded (what, when, by whom) and every projection is rebuilt with it at
    once, so the JSNA is as if the figures had been there from the start; a running
    worker uses them from its next batch.
    """
    from pipelines.reference import apply_reference
    from streams.comparators import COLUMNS, SHIPPED, parse_comparators
    from streams.scorecard import CATALOGUE
    from warehouse.connection import WarehouseUnavailable, connect

    localities = _rows(directory / "localities.csv", ("lsoa_code", "locality"))
    population = _rows(directory / "population.csv", ("year", "dimension", "value", "people"))
    source = comparators_file or directory / "comparators.csv"
    if comparators_file is None and not source.exists():
        source = SHIPPED
    rows = _rows(source, COLUMNS)
    try:
        comparators = parse_comparators(
            [dict(zip(COLUMNS, row, strict=True)) for row in rows], {k.id for k in CATALOGUE}
        )
    except ValueError as error:
        errors.print(f"[red]{source.name}: {error}[/red]")
        raise typer.Exit(EXIT_USAGE) from None
    settings = HubSettings()
    try:
        with connect(settings.warehouse_dsn()) as conn:
            applied = apply_reference(
                conn,
                localities,
                population,
                loaded_by=loaded_by or _login(),
                dsn=settings.warehouse_dsn(),
                comparators=comparators,
            )
    except WarehouseUnavailable as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(EXIT_UNAVAILABLE) from None
    console.print(
        f"{len(localities)} LSOAs, {len(population)} population figures and"
        f" {len(comparators)} published comparators ({source}) loaded"
        f" (load {applied.load_id}); the JSNA was rebuilt with them from"
        f" {applied.rebuild.events:,} events in {applied.rebuild.seconds:.1f}s"
    )


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name where it runs (a container without one)
        return "unknown"


def _rows(path: Path, header: tuple[str, ...]) -> list[tuple[str, ...]]:
    if not path.exists():
        errors.print(f"[red]{path} is missing[/red]")
        raise typer.Exit(EXIT_USAGE)
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        if tuple(next(reader, ())) != header:
            errors.print(f"[red]{path.name}: expected columns {', '.join(header)}[/red]")
            raise typer.Exit(EXIT_USAGE)
        return [tuple(row) for row in reader if row]


def register(app: typer.Typer) -> None:
    app.command()(synth)
    app.add_typer(reference, name="reference")
