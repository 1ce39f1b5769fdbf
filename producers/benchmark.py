"""Measuring the producer: a bare kafka-python loop against the hub's full publishing path.

Both run against the same broker over the same number of events, so the ratio says what
validation, pseudonymisation, encoding and the outbox cost. The hub's path runs in a
child process of its own, so its peak resident memory is that of publishing the extract
alone: it should stay flat however many rows the extract has.
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kafka import KafkaProducer

from producers.identity import Pseudonymiser
from producers.outbox import Outbox
from producers.publisher import open_producer, publish_extract
from producers.staging import PublishTarget, staged_chunks
from producers.synthetic.ehc_plans import generate
from schemas.catalogue import default_catalogue
from schemas.topics import ensure_topics

BENCHMARK_KEY = b"benchmark-key-not-a-secret-000000"
CONTRACT, AREA = "leics-send-sharing-2026", "E10000018"
MIB = 1024 * 1024


@dataclass(frozen=True)
class ProduceBenchmark:
    events: int
    extract_mib: float
    bare_s: float
    hub_s: float
    bare_eps: float
    hub_eps: float
    ratio: float
    hub_rss_before_mib: float  # the publishing process once imported, before the extract
    hub_peak_rss_mib: float  # its peak while publishing (ru_maxrss)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class HubRun:
    """What the publishing child process reports."""

    seconds: float
    rows_sent: int
    rss_before_mib: float
    peak_rss_mib: float


def bare_loop(producer: KafkaProducer, topic: str, payloads: list[tuple[bytes, bytes]]) -> float:
    """Seconds to send pre-encoded payloads and have every one acknowledged."""
    started = time.perf_counter()
    futures = [producer.send(topic, key=key, value=value) for key, value in payloads]
    producer.flush()
    for future in futures:
        future.get(timeout=60)
    return time.perf_counter() - started


def peak_rss_mib() -> float:
    """This process's peak resident memory so far. Linux's VmHWM, not ru_maxrss: a child
    started by fork and exec inherits ru_maxrss from the parent it was forked from."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def publish_measured(path: Path, outbox_path: Path, bootstrap: str, topic: str) -> HubRun:
    """Publish one extract through the hub's path, timed, with this process's peak memory."""
    target = PublishTarget(bootstrap, topic, "education", CONTRACT, AREA)
    pseudonymiser = Pseudonymiser(BENCHMARK_KEY, "key-1")
    catalogue = default_catalogue()
    rss_before = peak_rss_mib()
    with Outbox(outbox_path) as outbox:
        started = time.perf_counter()
        summary = publish_extract(
            path, target, pseudonymiser, outbox, now=dt.datetime.now(dt.UTC), catalogue=catalogue
        )
        seconds = time.perf_counter() - started
    return HubRun(seconds, summary.rows_sent, rss_before, peak_rss_mib())


def publish_in_child(path: Path, outbox_path: Path, bootstrap: str, topic: str) -> HubRun:
    """`publish_measured` in a fresh interpreter: the extract generated here and the bare
    loop's payloads do not count towards the hub's memory."""
    arguments = json.dumps([str(path), str(outbox_path), bootstrap, topic])
    ran = subprocess.run(
        [sys.executable, "-m", "producers.benchmark", arguments],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[1],
    )
    if ran.returncode != 0:
        raise RuntimeError(f"the publishing process failed:\n{ran.stderr}")
    return HubRun(**json.loads(ran.stdout.splitlines()[-1]))


def encoded_payloads(
    path: Path, target: PublishTarget, scratch: Path, now: dt.datetime
) -> list[tuple[bytes, bytes]]:
    """What the hub's path sends for the extract, already encoded: the bare loop's load."""
    pseudonymiser = Pseudonymiser(BENCHMARK_KEY, "key-1")
    with Outbox(scratch / "encoded.sqlite") as encoded:
        chunks = staged_chunks(
            path, target, pseudonymiser, encoded, [], now=now, catalogue=default_catalogue()
        )
        return [(e.key, e.value) for chunk in chunks for e in chunk]


def run_produce_benchmark(
    bootstrap: str, events: int, *, topic_prefix: str = "bench."
) -> ProduceBenchmark:
    bare_topic, hub_topic = f"{topic_prefix}bare.events", f"{topic_prefix}hub.events"
    ensure_topics(bootstrap, [bare_topic, hub_topic])
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        path = scratch / "plans.csv"
        path.write_text(generate(events, seed=1, faults=0).csv_text)
        target = PublishTarget(bootstrap, hub_topic, "education", CONTRACT, AREA)
        payloads = encoded_payloads(path, target, scratch, dt.datetime.now(dt.UTC))
        producer = open_producer(bootstrap)
        try:
            bare_loop(producer, bare_topic, payloads[:100])  # warm up the connection
            bare_s = bare_loop(producer, bare_topic, payloads)
        finally:
            producer.close()
        sent = len(payloads)
        del payloads
        hub = publish_in_child(path, scratch / "outbox.sqlite", bootstrap, hub_topic)
        if hub.rows_sent != events:
            raise RuntimeError(f"hub path sent {hub.rows_sent} of {events} events")
        extract_mib = path.stat().st_size / MIB
    bare_eps, hub_eps = sent / bare_s, events / hub.seconds
    return ProduceBenchmark(
        events=events,
        extract_mib=round(extract_mib, 1),
        bare_s=round(bare_s, 3),
        hub_s=round(hub.seconds, 3),
        bare_eps=round(bare_eps, 1),
        hub_eps=round(hub_eps, 1),
        ratio=round(hub_eps / bare_eps, 3),
        hub_rss_before_mib=round(hub.rss_before_mib, 1),
        hub_peak_rss_mib=round(hub.peak_rss_mib, 1),
    )


if __name__ == "__main__":  # the child of `publish_in_child`
    extract, outbox_file, bootstrap_address, topic_name = json.loads(sys.argv[1])
    run = publish_measured(Path(extract), Path(outbox_file), bootstrap_address, topic_name)
    print(json.dumps(asdict(run)))
