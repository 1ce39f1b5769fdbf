"""`hub bench api`: concurrent readers of the published documents, through the whole API.

A synthetic area is generated at a scale and loaded straight into a fresh warehouse,
as the worker would apply it (reference data first, then the events in the worker's
batches); the API is started as `hub up` starts it, as its least-privilege login role;
a commissioner and a public-health token are issued. Then CLIENTS clients, each with a
connection of its own, ask in turn for the scorecard and a two-way JSNA cross-tab (or
the JSNA, where the API has no cross-tab route yet) for SECONDS seconds: each call signs
in, passes disclosure control and is written to the access log, which is counted before
and after to check that every call left its row.

The clients are a few lines of asyncio over httpx (already a dependency) rather than
locust: locust is not among the hub's dependencies, and it runs on gevent, which patches
the standard library of the process that imports it (here the CLI's, or the test
session's). The API warms up before it answers (`warehouse/api/warm_up.py`): first each
dashboard page is asked for once, one signed-in session per role (`pages.py`), then one
call of each route is timed before the clients start (`cold_ms`). After the clients the
pages are timed again: server time from the access log, p50 and p95, each page's weight,
and its first request after an event batch is stored (the area's last messages are
held back for these batches).
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from hub.bench.pages import ROUNDS, SETTLE_S, first_calls, signed_in, time_pages
from hub.bench.pages import targets as page_targets
from hub.processes import spawn, stop
from hub.settings import HubSettings
from hub.stack.supervisor import ensure_api_login_role
from pipelines.reference import apply_reference
from producers.synthetic.area import PROFILES
from producers.synthetic.area_files import generate_area, read_events
from schemas.catalogue import default_catalogue
from streams.ingest import RawMessage, sort_messages
from streams.worker.unit_of_work import CurrentProjection, apply_batch
from warehouse.connection import connect
from warehouse.privileges import API_GROUP
from warehouse.publication_cache import version_readable_by
from warehouse.tokens import Role, issue_token

Say = Callable[[str], None]
CROSSTAB = "/jsna/crosstab"
CROSSTAB_BY = "primary_need,locality"
CHANGE_BATCH = 20  # messages in each batch stored between page timings


@dataclass(frozen=True)
class Target:
    """One request the clients make, with the token of a role allowed to make it."""

    route: str
    path: str
    token: str


@dataclass(frozen=True)
class Call:
    route: str
    ms: float
    ok: bool


@dataclass
class ApiBenchmark:
    clients: int
    seconds: float
    scale: float
    cpu_count: int
    people: int
    events: int
    calls: list[Call]
    elapsed_s: float  # from the first call to the last answer
    cold_ms: dict[str, float]
    access_log_rows: int
    cached: bool  # whether the API's role may read the version the publication cache keys on
    routes: list[str] = field(default_factory=list)
    pages: dict[str, dict[str, Any]] = field(default_factory=dict)  # hub/bench/pages.py

    def as_json(self) -> dict[str, Any]:
        total = figures(self.calls)
        return {
            **total,
            "clients": self.clients,
            "seconds": self.seconds,
            "requests_per_s": round(total["requests"] / max(self.elapsed_s, 1e-6), 1),
            "scale": self.scale,
            "cpu_count": self.cpu_count,
            "people": self.people,
            "events": self.events,
            "access_log_rows": self.access_log_rows,
            "access_log_complete": self.access_log_rows == total["requests"],
            "publication_cache": self.cached,
            "routes": {
                route: {
                    **figures([c for c in self.calls if c.route == route]),
                    "cold_ms": self.cold_ms.get(route),
                }
                for route in self.routes
            },
            "pages": self.pages,
        }


def percentile(sorted_ms: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of values already sorted (0 for none)."""
    if not sorted_ms:
        return 0.0
    return sorted_ms[max(math.ceil(fraction * len(sorted_ms)) - 1, 0)]


def figures(calls: Sequence[Call]) -> dict[str, Any]:
    times = sorted(call.ms for call in calls)
    return {
        "p50_ms": round(percentile(times, 0.50), 1),
        "p95_ms": round(percentile(times, 0.95), 1),
        "requests": len(calls),
        "errors": sum(1 for call in calls if not call.ok),
    }


@dataclass(frozen=True)
class LoadedArea:
    people: int
    events: int
    held_back: list[bytes]  # the area's last messages, not stored: batches for later


def load_area(
    settings: HubSettings,
    scale: float,
    scratch: Path,
    say: Say,
    seed: int = 1,
    hold_back: int = 0,
) -> LoadedArea:
    """Generate the Leicestershire-like area at `scale` and load it, but for its last
    `hold_back` messages.

    The events are stored in the worker's batches first, then the reference data is
    loaded, which rebuilds every projection from the store in one pass per projection
    (`hub reference load`): the same figures as projecting batch by batch with the
    reference data loaded first (tests/component/test_reference_data.py), in a fraction
    of the time."""
    area = scratch / "area"
    say(f"generating the synthetic area at scale {scale:g} ...")
    summary = generate_area(PROFILES["leicestershire"], seed, scale, area)
    dsn = settings.warehouse_dsn()
    with connect(dsn) as conn:
        messages = read_events(area / "events.bin")
        cut = len(messages) - min(hold_back, len(messages) // 2)
        messages, held_back = messages[:cut], messages[cut:]
        say(f"storing {len(messages):,} messages for {summary.people:,} people ...")
        catalogue, size = default_catalogue(), settings.streams_batch_size
        received_at = dt.datetime.now(dt.UTC)
        for start in range(0, len(messages), size):
            raw = [
                RawMessage("events", 0, start + n, value, received_at)
                for n, value in enumerate(messages[start : start + size])
            ]
            batch = sort_messages(catalogue, raw)
            apply_batch(conn, batch.events, batch.manifests)
        say("loading the reference data, which rebuilds the projections ...")
        apply_reference(
            conn,
            _rows(area / "reference" / "localities.csv"),
            _rows(area / "reference" / "population.csv"),
            loaded_by="hub bench api",
            dsn=dsn,
        )
        row = conn.execute("SELECT count(*) FROM events").fetchone()
    return LoadedArea(summary.people, int(row[0]) if row else 0, held_back)


class Batches:
    """Stores the held-back messages a batch at a time, as the worker does (projected
    with the warehouse's settings): each call moves the warehouse's version."""

    def __init__(self, dsn: str, messages: Sequence[bytes], size: int = CHANGE_BATCH) -> None:
        self.dsn = dsn
        self.waiting = list(messages)
        self.size = size
        self.stored = 0
        self._projection = CurrentProjection()

    def __call__(self) -> None:
        taken, self.waiting = self.waiting[: self.size], self.waiting[self.size :]
        received_at = dt.datetime.now(dt.UTC)
        raw = [
            RawMessage("events", 1, self.stored + n, value, received_at)
            for n, value in enumerate(taken)
        ]
        batch = sort_messages(default_catalogue(), raw)
        with connect(self.dsn) as conn:
            outcome = apply_batch(conn, batch.events, batch.manifests, self._projection)
            if not outcome.appended:  # nothing new to store: a rebuild moves the version
                conn.execute("INSERT INTO projection_rebuilds DEFAULT VALUES")
        self.stored += len(taken)


def _rows(path: Path) -> list[tuple[str, ...]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [tuple(row) for row in list(csv.reader(handle))[1:] if row]


def start_api(settings: HubSettings, scratch: Path) -> subprocess.Popen[bytes]:
    """The API as `hub up` runs it, logged in as its own least-privilege role."""
    ensure_api_login_role(settings, create_password=True)
    env = {**os.environ, **settings.as_env()}
    process = spawn([sys.executable, "-m", "hub.api"], log_file=scratch / "api.log", env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the API exited; see {scratch / 'api.log'}")
        try:
            if httpx.get(f"{settings.api_url}/health", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    stop(process, timeout=10)
    raise RuntimeError("the API did not answer /health within 60s")


def targets(api_url: str, tokens: dict[Role, str]) -> list[Target]:
    """The scorecard, and the cross-tab where the API serves it (else the JSNA)."""
    commissioner, public_health = tokens[Role.COMMISSIONER], tokens[Role.PUBLIC_HEALTH]
    schema = httpx.get(
        f"{api_url}/openapi.json", headers={"Authorization": f"Bearer {commissioner}"}, timeout=10
    )
    schema.raise_for_status()
    chosen = [Target("/scorecard", "/scorecard", commissioner)]
    if CROSSTAB in schema.json().get("paths", {}):
        chosen.append(Target(CROSSTAB, f"{CROSSTAB}?by={CROSSTAB_BY}", public_health))
    else:
        chosen.append(Target("/jsna", "/jsna", public_health))
    return chosen


async def _client(
    api_url: str, chosen: Sequence[Target], first: int, until: float, calls: list[Call]
) -> None:
    limits = httpx.Limits(max_connections=1)
    async with httpx.AsyncClient(base_url=api_url, limits=limits, timeout=30) as client:
        turn = first
        while time.perf_counter() < until:
            target = chosen[turn % len(chosen)]
            turn += 1
            started = time.perf_counter()
            try:
                response = await client.get(
                    target.path, headers={"Authorization": f"Bearer {target.token}"}
                )
                await response.aread()
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            calls.append(Call(target.route, (time.perf_counter() - started) * 1000.0, ok))


async def _clients(
    api_url: str, chosen: Sequence[Target], clients: int, seconds: float
) -> tuple[list[Call], float]:
    """Every call the clients made, and the seconds until the last one was answered."""
    calls: list[Call] = []
    started = time.perf_counter()
    until = started + seconds
    await asyncio.gather(*(_client(api_url, chosen, n, until, calls) for n in range(clients)))
    return calls, time.perf_counter() - started


def _access_log_top(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT coalesce(max(id), 0) FROM access_log").fetchone()
    return int(row[0]) if row else 0


def run_api_benchmark(
    settings: HubSettings,
    scratch: Path,
    *,
    scale: float = 1.0,
    clients: int = 20,
    seconds: float = 30.0,
    page_calls: int = ROUNDS,
    settle_s: float = SETTLE_S,
    say: Say = print,
) -> ApiBenchmark:
    """Load the area into the (migrated, empty) warehouse of `settings`, start the API, and
    measure `clients` concurrent readers for `seconds`."""
    pages = page_targets(None)
    loaded = load_area(settings, scale, scratch, say, hold_back=CHANGE_BATCH * 2 * (len(pages) + 1))
    dsn = settings.warehouse_dsn()
    with connect(dsn) as conn:
        tokens = {
            role: issue_token(conn, f"bench-{role.value}", role)[0]
            for role in (Role.COMMISSIONER, Role.PUBLIC_HEALTH)
        }
        first_kpi = conn.execute("SELECT min(kpi_id) FROM kpi_measures").fetchone()
        cached = version_readable_by(conn, API_GROUP)
    if not cached:
        say(f"{API_GROUP} cannot read the publication cache's version: every call builds afresh")
    pages = page_targets(first_kpi[0] if first_kpi else None)
    api = start_api(settings, scratch)
    sessions = {role: signed_in(settings.api_url, token) for role, token in tokens.items()}
    try:
        say("timing each dashboard page's first request after start-up ...")
        cold_pages = first_calls(sessions, dsn, pages)
        chosen = targets(settings.api_url, tokens)
        cold_ms: dict[str, float] = {}
        for target in chosen:
            started = time.perf_counter()
            cold = httpx.get(
                f"{settings.api_url}{target.path}",
                headers={"Authorization": f"Bearer {target.token}"},
                timeout=120,
            )
            cold.raise_for_status()
            cold_ms[target.route] = round((time.perf_counter() - started) * 1000.0, 1)
        with connect(dsn) as conn:
            top = _access_log_top(conn)
        say(f"{clients} clients for {seconds:g}s on {', '.join(t.path for t in chosen)} ...")
        calls, elapsed = asyncio.run(_clients(settings.api_url, chosen, clients, seconds))
        with connect(dsn) as conn:
            row = conn.execute("SELECT count(*) FROM access_log WHERE id > %s", (top,)).fetchone()
        logged = int(row[0]) if row else 0
        say(f"timing the dashboard's pages, {page_calls} calls each, and after event batches ...")
        batches = Batches(dsn, loaded.held_back)
        timed = time_pages(sessions, dsn, pages, page_calls, cold_pages, batches, settle_s)
    finally:
        for session in sessions.values():
            session.close()
        stop(api, timeout=20)
    return ApiBenchmark(
        clients=clients,
        seconds=seconds,
        scale=scale,
        cpu_count=os.cpu_count() or 1,
        people=loaded.people,
        events=loaded.events,
        calls=calls,
        elapsed_s=elapsed,
        cold_ms=cold_ms,
        access_log_rows=logged,
        cached=cached,
        routes=[t.route for t in chosen],
        pages=timed,
    )
