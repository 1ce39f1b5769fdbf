"""`hub demo`: the hub end to end on one machine, for someone meeting it for the first time.

It only drives other `hub` commands in turn (up, reference load, backfill, scorecard, jsna,
pipelines run) over a small synthetic area, so the demo shows exactly what a user would type;
it ends with the dashboard's address and a sign-in token for each role.
"""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Annotated

import typer
from rich.console import Console

from hub.commands.keys import keys_init
from hub.settings import HubSettings
from warehouse.connection import WarehouseUnavailable, connect
from warehouse.tokens import Role, TokenError, issue_token

console = Console()
errors = Console(stderr=True)

EXIT_UNAVAILABLE = 3


def _hub(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "hub.cli", *args], check=False)


def demo(
    seed: Annotated[int, typer.Option(help="Seed for the synthetic area.")] = 2026,
) -> None:
    """Start the embedded stack, publish a small synthetic area's extracts, show the results."""
    from producers.synthetic.area import SMOKE
    from producers.synthetic.area_files import generate_area, read_events
    from schemas.catalogue import default_catalogue
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
    _hub("backfill", str(area / "extracts"))
    console.rule("Waiting for the stream worker to apply them")
    _wait_for_events(settings, expected)
    console.rule("The scorecard")
    _hub("scorecard")
    console.rule("The JSNA: children and young people by primary need")
    _hub("jsna", "--dimension", "primary_need", "--as-at", SMOKE.end.isoformat())
    console.rule("Reconciliation and data quality")
    _hub("pipelines", "run", "reconcile")
    console.print(
        f"\nThe hub is running. API: {settings.api_url} (only /health without a token)  ·  "
        "`hub status`  ·  `hub quarantine list`  ·  `hub replay`  ·  stop it with `hub down`."
    )
    console.print(
        "Each reader signs in with a token of their own, shown once when it is made:\n"
        "  hub tokens create --role commissioner --name YOUR-NAME        (the scorecard)\n"
        "  hub tokens create --role public_health --name YOUR-NAME       (the JSNA)\n"
        "  hub tokens create --role ig_auditor --name YOUR-NAME          (the access log)\n"
        "  hub tokens create --role partner --party education --name X   (a partner's own)\n"
        f"then: curl -H 'Authorization: Bearer TOKEN' {settings.api_url}/scorecard  ·  "
        "`hub tokens list`  ·  `hub audit access`"
    )
    _print_dashboard(settings)


# Who the demo's dashboard tokens are for: each role with pages, a partner as one party.
DEMO_READERS = (
    (Role.COMMISSIONER, None),
    (Role.PUBLIC_HEALTH, None),
    (Role.IG_AUDITOR, None),
    (Role.PARTNER, "education"),
)


def _print_dashboard(settings: HubSettings) -> None:
    """The dashboard's address and a fresh sign-in token for each role, printed here only:
    the hub keeps their hashes, nothing writes the secrets anywhere else."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    try:
        with connect(settings.warehouse_dsn()) as conn:
            issued = [
                (role, party, issue_token(conn, f"demo-{role.value}-{stamp}", role, party)[0])
                for role, party in DEMO_READERS
            ]
    except (WarehouseUnavailable, TokenError) as error:
        errors.print(f"[red]no dashboard tokens: {error}[/red]")
        return
    console.rule("The dashboard")
    console.print(f"Open {settings.api_url}/sign-in and sign in with one of these tokens:")
    for role, party, secret in issued:
        who = f"{role.value} ({party})" if party else role.value
        console.print(f"  {who:<24} {secret}", soft_wrap=True, highlight=False)
    console.print(
        "[yellow]Shown this once: the hub keeps only their hashes."
        " `hub tokens revoke NAME` ends one (`hub tokens list` names them).[/yellow]"
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
    app.command()(demo)
