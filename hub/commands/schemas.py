"""`hub schemas check` and `hub schemas docs`: the schema evolution guard and the event catalogue.

CI runs both: `check` refuses a schema version that cannot read its earlier ones, and
`docs --check` refuses a `docs/events.md` that no longer matches the schemas.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from schemas.catalogue import SCHEMA_DIR, default_catalogue
from schemas.catalogue_doc import render_catalogue
from schemas.compatibility import check_directory, is_control_message, load_versions

console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)

EXIT_FINDINGS = 1
EVENTS_DOC = SCHEMA_DIR.parents[1] / "docs" / "events.md"

schemas = typer.Typer(
    help="Event schemas: compatibility check and catalogue.", no_args_is_help=True
)


@schemas.command("check")
def check(
    schema_dir: Annotated[
        Path, typer.Option(help="Directory of .avsc files.", file_okay=False, exists=True)
    ] = SCHEMA_DIR,
) -> None:
    """Each version of each event type must read all its earlier versions (backward transitive)."""
    findings = check_directory(schema_dir)
    if findings:
        errors.print(f"[red]{len(findings)} schema problem(s) in {schema_dir}:[/red]")
        for finding in findings:
            errors.print(f"  {finding}", markup=False, highlight=False)
        raise typer.Exit(EXIT_FINDINGS)
    console.print(f"[green]{summary(schema_dir)}: all backward-transitively compatible[/green]")


def summary(schema_dir: Path) -> str:
    """`30 event types and 1 control message, 31 versions`, for a directory without findings."""
    by_name, _ = load_versions(schema_dir)
    control = sum(1 for versions in by_name.values() if is_control_message(versions[0]))
    versions = sum(len(versions) for versions in by_name.values())
    counted = f"{len(by_name) - control} event types"
    if control:
        counted += f" and {control} control message{'' if control == 1 else 's'}"
    return f"{counted}, {versions} versions"


@schemas.command("docs")
def docs(
    check_only: Annotated[
        bool, typer.Option("--check", help="Exit 1 if the file is out of date; write nothing.")
    ] = False,
    output: Annotated[Path, typer.Option(help="Where the catalogue goes.", dir_okay=False)] = (
        EVENTS_DOC
    ),
) -> None:
    """Write the event catalogue (docs/events.md) from the shipped schemas."""
    text = render_catalogue(default_catalogue())
    current = output.read_text(encoding="utf-8") if output.exists() else None
    if check_only:
        if current != text:
            errors.print(f"[red]{output} is out of date:[/red] run `hub schemas docs`")
            raise typer.Exit(EXIT_FINDINGS)
        console.print(f"{output} is up to date")
        return
    if current == text:
        console.print(f"{output} is already up to date")
        return
    output.write_text(text, encoding="utf-8", newline="\n")
    console.print(f"wrote {output} ({len(text.splitlines())} lines)")


def register(app: typer.Typer) -> None:
    app.add_typer(schemas, name="schemas")
