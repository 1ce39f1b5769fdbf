"""`hub keys init`, and the pseudonymiser every command that reads identifiers shares.

A partner pseudonymises with the key its contract names; this is where that key is
created for the embedded stack, and where a missing or unreadable key becomes a usage error.
"""

from __future__ import annotations

import os
import secrets
from typing import Annotated

import typer
from rich.console import Console

from hub.settings import HubSettings
from producers.identity import Pseudonymiser

console = Console()
errors = Console(stderr=True)

EXIT_USAGE = 2

keys = typer.Typer(help="Pseudonymisation keys.", no_args_is_help=True)


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


def register(app: typer.Typer) -> None:
    app.add_typer(keys, name="keys")
