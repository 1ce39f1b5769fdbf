"""A publication interrupted part-way resumes on the real broker: each event arrives once.

The first run is stopped just after a chunk is committed (as Ctrl-C would stop it); what
the broker had confirmed is recorded on the way out. The second run of the same file
sends what the first left unsent, stages only the rows it did not reach, and finishes
the manifest; the topic then holds every event exactly once.
"""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition

from hub.settings import HubSettings
from producers import staging
from producers.identity import Pseudonymiser
from producers.outbox import Outbox
from producers.publisher import PublishTarget, publish_extract
from producers.synthetic.ehc_plans import generate
from schemas.catalogue import default_catalogue
from schemas.codec import decode
from schemas.topics import ensure_topics
from tests.support.processes import child_env, run_hub

CONTRACT = "leics-send-sharing-2026"


class Interrupted(Exception):
    """Stands for Ctrl-C just after a chunk was committed."""


def read_all(bootstrap: str, topic: str, at_least: int) -> list[bytes]:
    """Every message on the topic: read until `at_least` have come and a second passes with
    no more (the embedded broker's end offsets are not a reliable stopping point)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    values: list[bytes] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        batch = [r.value for records in consumer.poll(timeout_ms=1000).values() for r in records]
        values.extend(batch)
        if not batch and len(values) >= at_least:
            break
    consumer.close()
    return values


def arrived(
    settings: HubSettings, topic: str, at_least: int = 1
) -> tuple[Counter[str], list[dict[str, Any]]]:
    """How many times each plan event arrived, and the manifest parts."""
    catalogue = default_catalogue()
    decoded = [decode(catalogue, v) for v in read_all(settings.broker_bootstrap, topic, at_least)]
    plans = Counter(str(d.record["event_id"]) for d in decoded if d.schema.name == "EhcPlanIssued")
    parts = [d.record for d in decoded if d.schema.name == "ExtractPublished"]
    return plans, parts


def test_a_publication_interrupted_and_run_again_sends_each_event_once(
    hub_settings: HubSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(staging, "CHUNK_ROWS", 250)
    path = tmp_path / "plans.csv"
    path.write_text(generate(2_000, seed=12, faults=2).csv_text)
    topic = hub_settings.topic("education.events")
    ensure_topics(hub_settings.broker_bootstrap, [topic])
    pseudonymiser = Pseudonymiser(hub_settings.pseudonym_key_bytes() or b"", "key-1")
    target = PublishTarget(hub_settings.broker_bootstrap, topic, "education", CONTRACT, "E10000018")
    chunks_committed = 0

    def interrupt_at_the_fifth_chunk(_line: int) -> None:
        nonlocal chunks_committed
        chunks_committed += 1
        if chunks_committed == 5:
            raise Interrupted

    with Outbox(tmp_path / "outbox.sqlite") as outbox:
        with pytest.raises(Interrupted):
            publish_extract(
                path,
                target,
                pseudonymiser,
                outbox,
                now=dt.datetime.now(dt.UTC),
                on_progress=interrupt_at_the_fifth_chunk,
            )
        counts = outbox.event_counts()
        # four chunks sent and confirmed on the way out; the fifth committed, never sent
        assert counts["acknowledged"] > 0 and counts["pending"] > 0
        sent_before, _ = arrived(hub_settings, topic, counts["acknowledged"])
        assert len(sent_before) == counts["acknowledged"]

        summary = publish_extract(path, target, pseudonymiser, outbox, now=dt.datetime.now(dt.UTC))

    assert (summary.rows_read, summary.rows_sent, summary.rows_refused) == (2_002, 2_000, 2)
    plans, parts = arrived(hub_settings, topic, 2_001)
    assert len(plans) == 2_000 and set(plans.values()) == {1}
    listed = [event_id for part in parts for event_id in part["event_ids"]]
    assert Counter(listed) == plans
    assert {(p["rows_read"], p["rows_sent"], p["rows_refused"]) for p in parts} == {
        (2_002, 2_000, 2)
    }


def staged_events(outbox_path: Path) -> int:
    if not outbox_path.exists():
        return 0
    with Outbox(outbox_path) as outbox:
        return sum(outbox.event_counts().values())


def test_hub_produce_stopped_with_ctrl_c_says_it_resumes_and_sends_the_rest_once(
    hub_settings: HubSettings, tmp_path: Path
) -> None:
    plans = 30_000
    path = tmp_path / "plans.csv"
    path.write_text(generate(plans, seed=13, faults=0).csv_text)
    topic = hub_settings.topic("education.events")
    ensure_topics(hub_settings.broker_bootstrap, [topic])
    producer = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "produce", "--source", "education", str(path)],
        env=child_env(hub_settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while staged_events(hub_settings.outbox_path("education")) < 4_000:
        assert producer.poll() is None, "the producer ended before it could be interrupted"
        assert time.monotonic() < deadline, "staging never began"
        time.sleep(0.01)
    producer.send_signal(signal.SIGINT)
    _, stopped = producer.communicate(timeout=120)
    assert producer.returncode == 130
    assert "run the same command again to resume" in " ".join(stopped.split())
    sent_before, _ = arrived(hub_settings, topic)
    assert 0 < len(sent_before) < plans

    again = run_hub(hub_settings, "produce", "--source", "education", str(path))

    said = " ".join(again.stdout.split())
    assert again.returncode == 0, again.stderr
    assert "resuming extract" in said and "not staged or sent again" in said
    assert f"read {plans} rows: {plans} sent, 0 refused" in said
    arrivals, parts = arrived(hub_settings, topic, plans + 3)
    assert len(arrivals) == plans and set(arrivals.values()) == {1}
    assert Counter(event_id for part in parts for event_id in part["event_ids"]) == arrivals
