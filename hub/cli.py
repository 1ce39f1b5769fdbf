"""The `hub` command line: the one entry point that reads settings from the environment.

Each command is a thin wrapper over a plain function in the domain packages.
"""

from __future__ import annotations

import os

import typer

# Great Expectations and Prefect phone home by default; information governance refuses that.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

app = typer.Typer(
    name="hub",
    help="Joint Commissioning Hub: SEND events in, cohort register, JSNA and scorecard out.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register_commands() -> None:
    from hub.commands import (
        audit,
        backfill,
        bench,
        contracts,
        demo,
        disclosure,
        export,
        jsna,
        keys,
        outbox,
        pipelines,
        produce,
        quarantine,
        replay,
        retention,
        schemas,
        scorecard,
        stack,
        subject_access,
        synth,
        tokens,
        warehouse,
    )

    for module in (
        stack,
        produce,
        scorecard,
        demo,
        keys,
        outbox,
        contracts,
        jsna,
        pipelines,
        quarantine,
        replay,
        backfill,
        synth,
        warehouse,
        schemas,
        bench,
        tokens,
        audit,
        disclosure,
        export,
        subject_access,
        retention,
    ):
        module.register(app)


_register_commands()


if __name__ == "__main__":
    app()
