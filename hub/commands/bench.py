"""`hub bench produce`, `stream` and `api`: measurements on the embedded stack, to JSON files."""

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
    """Bare kafka-python loop vs the hub's full producer path, on a fresh embedded broker.

    The hub's path publishes a synthetic extract of EVENTS rows in a process of its own and
    reports its peak memory, which should not grow with EVENTS (try 1,000,000).
    """
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
        f"ratio {result.ratio:.2f} (aim >= 0.5); hub: {result.hub_s:,.1f} s for a "
        f"{result.extract_mib:,.1f} MiB extract, peak memory {result.hub_peak_rss_mib:,.0f} MiB "
        f"-> {output}"
    )


@bench.command("stream")
def stream(
    events: Annotated[int, typer.Option(help="Events in the bulk measurements.")] = 1_000_000,
    latency_seconds: Annotated[
        int, typer.Option(help="Seconds of steady publishing for the latency measurement.")
    ] = 20,
    rate: Annotated[int, typer.Option(help="Events per second while measuring latency.")] = 1000,
    output: Annotated[Path, typer.Option(help="Where to write the results.")] = Path(
        "bench/results/stream.json"
    ),
) -> None:
    """Bare loop vs faust ceiling vs the hub's worker, latency, memory and replay."""
    import uuid

    from hub.bench.stream import run_stream_benchmark
    from hub.settings import HubSettings
    from hub.stack.postgres import EmbeddedPostgres
    from warehouse.migrate import upgrade

    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        broker = EmbeddedBroker(_free_port(), log_file=scratch / "broker.log")
        postgres = EmbeddedPostgres(scratch / "postgres", port=_free_port())
        broker.start()
        postgres.start()
        try:
            broker.wait_ready()
            postgres.wait_ready()
            postgres.ensure_database("bench")
            upgrade(postgres.dsn("bench"))
            settings = HubSettings(
                state_dir=scratch / "hub",
                broker_port=broker.port,
                warehouse_port=postgres.port,
                warehouse_database="bench",
                topic_prefix=f"bench{uuid.uuid4().hex[:6]}.",
                streams_app_id=f"bench-{uuid.uuid4().hex[:6]}",
            )
            result = run_stream_benchmark(
                settings,
                events,
                scratch,
                latency_seconds=latency_seconds,
                rate=rate,
                say=console.print,
            )
        finally:
            broker.stop()
            postgres.stop()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result.as_json(), indent=2) + "\n")
    console.print_json(json.dumps(result.as_json()))
    console.print(f"-> {output}")


@bench.command("api")
def api(
    scale: Annotated[
        float, typer.Option(min=0.001, max=10.0, help="Synthetic area scale (1.0 = the real area).")
    ] = 1.0,
    clients: Annotated[int, typer.Option(min=1, help="Concurrent clients.")] = 20,
    seconds: Annotated[float, typer.Option(min=0.5, help="How long the clients run.")] = 30.0,
    settle_seconds: Annotated[
        float,
        typer.Option(min=0.0, help="After an event batch, how long until a page is asked for."),
    ] = 2.0,
    page_calls: Annotated[
        int, typer.Option(min=1, help="Calls of each dashboard page timed (after a cold one).")
    ] = 20,
    output: Annotated[Path, typer.Option(help="Where to write the results.")] = Path(
        "bench/results/api.json"
    ),
) -> None:
    """Concurrent readers of the scorecard and a JSNA cross-tab, through sign-in, disclosure
    control and the access log, on a fresh warehouse holding the synthetic area at SCALE.

    Aim: p95 under 100 ms and no errors at scale 1.0 with 20 clients for 30 s. Then each
    dashboard page, signed in: under 300 ms at the server and 300 KB with its files.
    """
    from hub.bench.api import run_api_benchmark
    from hub.settings import HubSettings
    from hub.stack.postgres import EmbeddedPostgres
    from warehouse.migrate import upgrade

    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        postgres = EmbeddedPostgres(scratch / "postgres", port=_free_port())
        postgres.start()
        try:
            postgres.wait_ready()
            postgres.ensure_database("bench")
            upgrade(postgres.dsn("bench"))
            settings = HubSettings(
                state_dir=scratch / "hub",
                warehouse_port=postgres.port,
                warehouse_database="bench",
                api_port=_free_port(),
                api_base_url=None,
            )
            result = run_api_benchmark(
                settings,
                scratch,
                scale=scale,
                clients=clients,
                seconds=seconds,
                page_calls=page_calls,
                settle_s=settle_seconds,
                say=console.print,
            )
        finally:
            postgres.stop()
    figures = result.as_json()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(figures, indent=2) + "\n")
    console.print_json(json.dumps(figures))
    complete = "every call" if figures["access_log_complete"] else "NOT every call"
    console.print(
        f"p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms (aim < 100), "
        f"{figures['requests']:,} requests, {figures['errors']} errors (aim 0); "
        f"{complete} in the access log ({figures['access_log_rows']:,} rows) -> {output}"
    )
    for name, page in figures["pages"].items():
        kb = (page["weight_bytes"] or 0) / 1024
        console.print(
            f"page {name}: p50 {page['p50_ms']} ms, p95 {page['p95_ms']} ms at the server "
            f"(aim < 300), cold {page['cold_ms']} ms, after an event batch "
            f"{page.get('changed_now_ms')} ms at once and {page.get('changed_ms')} ms "
            f"{settle_seconds:g} s later, "
            f"{kb:,.0f} KB with its files (aim < 300)"
        )


def register(app: typer.Typer) -> None:
    app.add_typer(bench, name="bench")
