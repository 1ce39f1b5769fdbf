"""The worker under bad bytes and sudden death: nothing dropped without a trace, nothing twice.

Real broker, real PostgreSQL, the real faust worker as a child process.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import psutil
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from hub.settings import HubSettings
from pipelines.replay import replay
from producers.synthetic.ehc_plans import generate
from schemas.catalogue import default_catalogue
from schemas.codec import MAGIC
from schemas.topics import QUARANTINE_TOPIC, SOURCE_TOPICS, ensure_topics
from tests.support.processes import run_hub, running, wait_for
from tests.unit.test_gatekeeper import referral
from warehouse.cohort_store import projection_settings
from warehouse.connection import connect


def _count(settings: HubSettings, sql: str) -> int:
    with connect(settings.warehouse_dsn()) as conn:
        row = conn.execute(sql).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _headers_on(bootstrap: str, topic: str) -> list[dict[str, bytes]]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    end = consumer.end_offsets(partitions)
    found: list[dict[str, bytes]] = []
    while any(consumer.position(p) < end[p] for p in partitions):
        for records in consumer.poll(timeout_ms=1000).values():
            found.extend(dict(r.headers) for r in records)
    consumer.close()
    return found


def _all_four(headers: list[dict[str, bytes]]) -> list[dict[str, bytes]] | None:
    return headers if len(headers) == 4 else None


def test_undecodable_and_mislabelled_messages_are_quarantined_in_the_table_and_on_the_topic(
    hub_settings: HubSettings, tmp_path: Path
) -> None:
    topic = hub_settings.topic(SOURCE_TOPICS[0])
    assert SOURCE_TOPICS[0] == "education.events"
    ensure_topics(hub_settings.broker_bootstrap, [topic])
    producer = KafkaProducer(bootstrap_servers=hub_settings.broker_bootstrap)
    known = default_catalogue().latest("EhcPlanIssued").fingerprint
    garbage = (b"not avro at all", MAGIC + b"\x00" * 8 + b"x", MAGIC + known + b"\xff\xff\xff")
    mislabelled = referral(subject={"nhs_pseudonym": "n-mislabelled"})  # health's event
    for value in (*garbage, mislabelled):  # health may not publish on education's topic
        producer.send(topic, value=value)
    producer.flush()
    producer.close()

    with running(hub_settings, "streams", tmp_path / "worker.log"):
        wait_for(
            lambda: _count(hub_settings, "SELECT count(*) FROM quarantined_messages") == 4 or None,
            timeout=120,
            what="four messages quarantined",
        )
        quarantined_topic = hub_settings.topic(QUARANTINE_TOPIC)
        headers = wait_for(
            lambda: _all_four(_headers_on(hub_settings.broker_bootstrap, quarantined_topic)),
            timeout=60,
            what="four messages on events.quarantined",
        )
    assert sorted(h["reason"].decode() for h in headers) == sorted(
        ["not_single_object", "schema_unknown", "invalid_avro", "party_not_topic_owner"]
    )
    assert all(h["source"].decode().startswith(topic) for h in headers)
    listed = run_hub(hub_settings, "quarantine", "list")
    assert "Quarantined messages: 4" in listed.stdout
    with connect(hub_settings.warehouse_dsn()) as conn:
        refused = conn.execute(
            "SELECT detail FROM quarantined_messages WHERE reason = 'party_not_topic_owner'"
        ).fetchall()
    assert refused == [("source_system health may not publish on the education topic",)]
    assert "n-mislabelled" not in (tmp_path / "worker.log").read_text()
    assert _count(hub_settings, "SELECT count(*) FROM events") == 0


def test_a_worker_killed_mid_stream_resumes_without_loss_or_double_counting(
    hub_settings: HubSettings, tmp_path: Path
) -> None:
    extract = generate(6_000, seed=21, faults=0)
    path = tmp_path / "plans.csv"
    path.write_text(extract.csv_text)
    assert run_hub(hub_settings, "produce", "--source", "education", str(path)).returncode == 0

    # batches of 500, so the kill lands with most of the extract still unapplied (with the
    # default 5,000 the two batches in flight could hold all 6,000 and commit before it)
    small_batches = hub_settings.model_copy(update={"streams_batch_size": 500})
    with running(small_batches, "streams", tmp_path / "worker-1.log") as worker:
        wait_for(
            lambda: _count(hub_settings, "SELECT count(*) FROM events") > 0 or None,
            timeout=120,
            what="the first batches to be applied",
        )
        writers = psutil.Process(worker.pid).children()  # the batch writer process
        assert writers, "the worker runs its batch writer in a child process"
        worker.send_signal(signal.SIGKILL)  # mid-stream: no clean shutdown, no offset commit
        worker.wait()
        _, alive = psutil.wait_procs(writers, timeout=10)
        assert alive == [], "the batch writer outlived the worker"
    stored_at_kill = _count(hub_settings, "SELECT count(*) FROM events")
    time.sleep(1)
    with running(hub_settings, "streams", tmp_path / "worker-2.log"):
        wait_for(
            lambda: (
                _count(hub_settings, "SELECT count(*) FROM events") == extract.truth.plans or None
            ),
            timeout=180,
            what="every plan stored after the restart",
        )
    assert stored_at_kill < extract.truth.plans  # the kill really was mid-stream

    denominator = _count(
        hub_settings,
        "SELECT sum(denominator) FROM kpi_measures WHERE kpi_id = 'ehcp_20_weeks_incl_exceptions'",
    )
    numerator = _count(
        hub_settings,
        "SELECT sum(numerator) FROM kpi_measures WHERE kpi_id = 'ehcp_20_weeks_incl_exceptions'",
    )
    assert (numerator, denominator) == (extract.truth.within_20_weeks, extract.truth.plans)
    with connect(hub_settings.warehouse_dsn()) as conn:
        report = replay(
            conn, projection_settings(conn), dsn=hub_settings.warehouse_dsn(), workers=2
        )
    assert report.equal, report.tables
