"""Measuring the producer: a bare kafka-python loop against the hub's full publishing path.

Both run against the same broker in one process, over the same number of events, so
the ratio says what validation, pseudonymisation, encoding and the outbox cost.
"""

from __future__ import annotations

import datetime as dt
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


@dataclass(frozen=True)
class ProduceBenchmark:
    events: int
    bare_s: float
    hub_s: float
    bare_eps: float
    hub_eps: float
    ratio: float

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def bare_loop(producer: KafkaProducer, topic: str, payloads: list[tuple[bytes, bytes]]) -> float:
    """Seconds to send pre-encoded payloads and have every one acknowledged."""
    started = time.perf_counter()
    futures = [producer.send(topic, key=key, value=value) for key, value in payloads]
    producer.flush()
    for future in futures:
        future.get(timeout=60)
    return time.perf_counter() - started


def run_produce_benchmark(
    bootstrap: str, events: int, *, topic_prefix: str = "bench."
) -> ProduceBenchmark:
    key = b"benchmark-key-not-a-secret-000000"
    pseudonymiser = Pseudonymiser(key, "key-1")
    extract = generate(events, seed=1, faults=0)
    bare_topic, hub_topic = f"{topic_prefix}bare.events", f"{topic_prefix}hub.events"
    ensure_topics(bootstrap, [bare_topic, hub_topic])
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "plans.csv"
        path.write_text(extract.csv_text)
        # the bare loop sends what the hub path would send: same sizes, already encoded
        target = PublishTarget(
            bootstrap, hub_topic, "education", "leics-send-sharing-2026", "E10000018"
        )
        now = dt.datetime.now(dt.UTC)
        with Outbox(Path(scratch) / "encoded.sqlite") as encoded:
            chunks = staged_chunks(
                path, target, pseudonymiser, encoded, [], now=now, catalogue=default_catalogue()
            )
            payloads = [(e.key, e.value) for chunk in chunks for e in chunk]
        producer = open_producer(bootstrap)
        try:
            bare_loop(producer, bare_topic, payloads[:100])  # warm up the connection
            bare_s = bare_loop(producer, bare_topic, payloads)
        finally:
            producer.close()
        with Outbox(Path(scratch) / "outbox.sqlite") as outbox:
            started = time.perf_counter()
            summary = publish_extract(path, target, pseudonymiser, outbox, now=now)
            hub_s = time.perf_counter() - started
        if summary.rows_sent != events:
            raise RuntimeError(f"hub path sent {summary.rows_sent} of {events} events")
    bare_eps, hub_eps = len(payloads) / bare_s, events / hub_s
    return ProduceBenchmark(
        events=events,
        bare_s=round(bare_s, 3),
        hub_s=round(hub_s, 3),
        bare_eps=round(bare_eps, 1),
        hub_eps=round(hub_eps, 1),
        ratio=round(hub_eps / bare_eps, 3),
    )
