"""`hub bench stream`: the stream path measured against a bare loop and the framework ceiling.

Over the same synthetic events on the same embedded broker and PostgreSQL:
(a) a bare aiokafka consume + fastavro decode + dict update loop, (b) a faust agent
that only decodes, in batches, (c) the hub's worker doing everything (gatekeeper,
event store, register, JSNA, scorecard), and (d) `hub replay` of the result.
Throughput is counted from the first message to the last, so start-up is not in
it. Latency is measured at a steady rate once the worker has caught up: from the
moment an event was sent to the moment a poll of the warehouse first sees it (so
up to one poll interval, 50 ms, late).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil
from aiokafka import AIOKafkaConsumer, TopicPartition
from kafka import KafkaProducer

from hub.processes import spawn, stop
from hub.settings import HubSettings
from pipelines.replay import replay
from producers.synthetic.journeys import JourneyMessage, journeys
from schemas.catalogue import default_catalogue
from schemas.codec import decode
from schemas.topics import SOURCE_BY_SYSTEM, ensure_topics
from warehouse.cohort_store import projection_settings
from warehouse.connection import connect

POLL_S = 0.05
Say = Callable[[str], None]


@dataclass(frozen=True)
class StreamBenchmark:
    events: int
    bare_eps: float
    faust_ceiling_eps: float
    hub_eps: float
    ratio_to_ceiling: float
    ratio_to_bare: float
    p50_latency_s: float
    p95_latency_s: float
    peak_rss_mib: float
    replay_s: float

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def publish(bootstrap: str, settings: HubSettings, messages: Sequence[JourneyMessage]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks=1, linger_ms=5, batch_size=262144)
    for message in messages:
        producer.send(
            settings.topic(SOURCE_BY_SYSTEM[message.source]), key=message.key, value=message.value
        )
    producer.flush()
    producer.close()


async def _bare(bootstrap: str, topics: list[str], expected: int) -> float:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in (consumer.partitions_for_topic(topic) or await _partitions(consumer, topic))
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        catalogue = default_catalogue()
        counts: Counter[str] = Counter()
        seen = 0
        first = 0.0
        while seen < expected:
            batch = await consumer.getmany(timeout_ms=1000, max_records=5000)
            for records in batch.values():
                if not first:
                    first = time.perf_counter()
                for record in records:
                    counts[decode(catalogue, record.value).schema.name] += 1
                seen += len(records)
        return seen / (time.perf_counter() - first)
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()
    return consumer.partitions_for_topic(topic) or set()


def faust_ceiling(bootstrap: str, topics: list[str], expected: int, scratch: Path) -> float:
    result = scratch / "ceiling.json"
    env = {
        **os.environ,
        "BENCH_BOOTSTRAP": bootstrap,
        "BENCH_TOPICS": ",".join(topics),
        "BENCH_EVENTS": str(expected),
        "BENCH_RESULT": str(result),
    }
    process = spawn(
        [sys.executable, "-m", "hub.bench.ceiling"], log_file=scratch / "ceiling.log", env=env
    )
    try:
        while not result.exists():
            if process.poll() is not None:
                raise RuntimeError("the faust ceiling agent exited early; see ceiling.log")
            time.sleep(0.2)
    finally:
        stop(process, timeout=15)
    measured = json.loads(result.read_text())
    return float(measured["events"]) / float(measured["seconds"])


def _stored(dsn: str, expected: int) -> int:
    """How many events the store holds, cheaply enough to ask every half second while the
    worker runs: `count(*)` scans the whole table (seconds of a core at a million events,
    taken from the worker being measured), so it is asked only once the highest sequence
    number says the count may have been reached (sequence numbers can have gaps)."""
    with connect(dsn) as conn:
        row = conn.execute("SELECT coalesce(max(sequence), 0) FROM events").fetchone()
        highest = int(row[0]) if row else 0
        if highest < expected:
            return highest
        row = conn.execute("SELECT count(*) FROM events").fetchone()
    return int(row[0]) if row else 0


class RssSampler:
    """Peak resident memory of a process tree, sampled in the background."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            try:
                root = psutil.Process(self.pid)
                processes = [root, *root.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in processes))
            except psutil.Error:
                pass


def start_worker(settings: HubSettings, scratch: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, **settings.as_env()}
    return spawn([sys.executable, "-m", "streams"], log_file=scratch / "worker.log", env=env)


def hub_path(
    settings: HubSettings, worker: subprocess.Popen[bytes], expected: int, say: Say
) -> float:
    """Wait until the worker has stored everything; events/s from first to last batch."""
    dsn = settings.warehouse_dsn()
    last_report = time.monotonic()
    while (stored := _stored(dsn, expected)) < expected:
        if worker.poll() is not None:
            raise RuntimeError("the worker exited; see worker.log")
        if time.monotonic() - last_report > 10:
            say(f"  hub worker: {stored:,} of {expected:,} events stored")
            last_report = time.monotonic()
        time.sleep(0.5)
    with connect(dsn) as conn:
        row = conn.execute(
            "SELECT extract(epoch FROM max(received_at) - min(received_at)) FROM events"
        ).fetchone()
    window = float(row[0]) if row and row[0] else 0.0
    # received_at is when each batch's transaction began: add one batch's time at the end
    return expected / max(window + settings.streams_batch_within_s, 1e-6)


def latency(
    settings: HubSettings, messages: Sequence[JourneyMessage], rate: int
) -> tuple[float, float]:
    """p50 and p95 seconds from send to visible in the warehouse, at `rate` events/s."""
    producer = KafkaProducer(bootstrap_servers=settings.broker_bootstrap, acks=1, linger_ms=0)
    sent: dict[str, float] = {}
    seen: dict[str, float] = {}
    dsn = settings.warehouse_dsn()
    with connect(dsn) as conn:
        row = conn.execute("SELECT coalesce(max(sequence), 0) FROM events").fetchone()
    last = int(row[0]) if row else 0
    stop_polling = threading.Event()

    def poll() -> None:
        nonlocal last
        with connect(dsn) as conn:
            while not stop_polling.is_set() or len(seen) < len(sent):
                rows = conn.execute(
                    "SELECT sequence, event_id::text FROM events WHERE sequence > %s", (last,)
                ).fetchall()
                now = time.perf_counter()
                for sequence, event_id in rows:
                    seen.setdefault(event_id, now)
                    last = max(last, int(sequence))
                if stop_polling.is_set() and len(seen) >= len(sent):
                    return
                time.sleep(POLL_S)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    start = time.perf_counter()
    for index, message in enumerate(messages):
        due = start + index / rate
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        sent[message.event_id] = time.perf_counter()
        topic = settings.topic(SOURCE_BY_SYSTEM[message.source])
        producer.send(topic, key=message.key, value=message.value)
    producer.flush()
    producer.close()
    stop_polling.set()
    poller.join(timeout=300)
    delays = sorted(seen[e] - sent[e] for e in sent if e in seen)
    if not delays:
        return 0.0, 0.0
    return statistics.median(delays), delays[int(0.95 * (len(delays) - 1))]


def run_stream_benchmark(
    settings: HubSettings,
    events: int,
    scratch: Path,
    *,
    latency_seconds: int = 20,
    rate: int = 1000,
    say: Say = print,
) -> StreamBenchmark:
    topics = [settings.topic(name) for name in SOURCE_BY_SYSTEM.values()]
    ensure_topics(settings.broker_bootstrap, topics)
    say(f"generating and publishing {events:,} synthetic events ...")
    messages = list(journeys(events + latency_seconds * rate, seed=7))
    bulk, steady = messages[:events], messages[events:]
    publish(settings.broker_bootstrap, settings, bulk)
    say("(a) bare aiokafka loop ...")
    bare = asyncio.run(_bare(settings.broker_bootstrap, topics, events))
    say("(b) faust ceiling ...")
    ceiling = faust_ceiling(settings.broker_bootstrap, topics, events, scratch)
    say("(c) the hub's worker ...")
    worker = start_worker(settings, scratch)
    try:
        with RssSampler(worker.pid) as sampler:
            hub = hub_path(settings, worker, events, say)
            say(f"latency at {rate:,} events/s for {latency_seconds}s ...")
            p50, p95 = latency(settings, steady, rate)
        peak_mib = sampler.peak / 2**20
    finally:
        stop(worker, timeout=20)
    say("(d) replay ...")
    with connect(settings.warehouse_dsn()) as conn:
        report = replay(conn, projection_settings(conn), dsn=settings.warehouse_dsn())
    if not report.equal:
        raise RuntimeError("replay differs from the live projections")
    return StreamBenchmark(
        events=events,
        bare_eps=round(bare, 1),
        faust_ceiling_eps=round(ceiling, 1),
        hub_eps=round(hub, 1),
        ratio_to_ceiling=round(hub / ceiling, 3),
        ratio_to_bare=round(hub / bare, 3),
        p50_latency_s=round(p50, 3),
        p95_latency_s=round(p95, 3),
        peak_rss_mib=round(peak_mib, 1),
        replay_s=round(report.seconds, 2),
    )
