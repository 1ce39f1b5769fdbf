"""`hub bench produce`: measure the producer on the embedded broker, results to a JSON file."""

from __future__ import annotations

import json
import socket
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from hub.stack.broker import EmbeddedBroker

bench = typer.Typer(
    help="Benchmarks; results are written under bench/results/.", no_args_is_help=True
)
console = Console()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@bench.command("produce")
def produce(
    events: Annotated[int, typer.Option(help="Events to publish in each measurement.")] = 100_000,
    output: Annotated[Path, typer.Option(help="Where to write the results.")] = Path(
        "bench/results/produce.json"
    ),
) -> None:
    """Bare kafka-python loop vs the hub's full producer path, on a fresh embedded broker."""
    from producers.benchmark import run_produce_benchmark

    with tempfile.TemporaryDirectory() as scratch:
        broker = EmbeddedBroker(_free_port(), log_file=Path(scratch) / "broker.log")
        broker.start()
        try:
            broker.wait_ready()
            console.print(f"publishing {events:,} events twice on {broker.bootstrap} ...")
            result = run_produce_benchmark(broker.bootstrap, events)
        finally:
            broker.stop()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result.as_json(), indent=2) + "\n")
    console.print(
        f"bare {result.bare_eps:,.0f} events/s, hub {result.hub_eps:,.0f} events/s, "
        f"ratio {result.ratio:.2f} (aim >= 0.5) -> {output}"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(bench, name="bench")
