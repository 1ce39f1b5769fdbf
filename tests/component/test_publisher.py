"""Publishing an extract to the real embedded broker: what arrives, how it is keyed, refusals."""

import datetime as dt
import random
from pathlib import Path

from kafka import KafkaConsumer, TopicPartition

from hub.settings import HubSettings
from producers.identity import Pseudonymiser
from producers.outbox import Outbox
from producers.publisher import PublishTarget, publish_extract, send_pending
from producers.synthetic.ehc_plans import generate
from schemas.catalogue import default_catalogue
from schemas.codec import decode
from schemas.topics import ensure_topics
from tests.conftest import free_port

CONTRACT = "leics-send-sharing-2026"


def read_topic(bootstrap: str, topic: str) -> list[tuple[bytes, bytes]]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    end = consumer.end_offsets(partitions)
    messages: list[tuple[bytes, bytes]] = []
    while any(consumer.position(p) < end[p] for p in partitions):
        for records in consumer.poll(timeout_ms=1000).values():
            messages.extend((r.key, r.value) for r in records)
    consumer.close()
    return messages


def test_an_extract_arrives_as_pseudonymised_events_and_a_manifest(
    hub_settings: HubSettings, tmp_path: Path
) -> None:
    extract = generate(50, seed=5, faults=3)
    path = tmp_path / "plans.csv"
    path.write_text(extract.csv_text)
    topic = hub_settings.topic("education.events")
    ensure_topics(hub_settings.broker_bootstrap, [topic])
    pseudonymiser = Pseudonymiser(hub_settings.pseudonym_key_bytes() or b"", "key-1")
    target = PublishTarget(hub_settings.broker_bootstrap, topic, "education", CONTRACT, "E10000018")

    with Outbox(tmp_path / "outbox.sqlite") as outbox:
        summary = publish_extract(path, target, pseudonymiser, outbox, now=dt.datetime.now(dt.UTC))
        assert outbox.status().pending == 0
        assert len(outbox.acknowledged_ids()) == 50  # kept until the hub confirms them

    assert (summary.rows_read, summary.rows_sent, summary.rows_refused) == (53, 50, 3)
    assert sorted((r.line, r.reason) for r in summary.refusals) == sorted(
        extract.truth.refused_lines
    )
    messages = read_topic(hub_settings.broker_bootstrap, topic)
    decoded = [(key, decode(default_catalogue(), value)) for key, value in messages]
    plans = [(k, d.record) for k, d in decoded if d.schema.name == "EhcPlanIssued"]
    [manifest] = [d.record for _, d in decoded if d.schema.name == "ExtractPublished"]
    assert len(plans) == 50
    assert all(key.decode() == record["subject"]["nhs_pseudonym"] for key, record in plans)
    assert manifest["rows_sent"] == 50 and manifest["rows_refused"] == 3
    assert sorted(manifest["event_ids"]) == sorted(str(r["event_id"]) for _, r in plans)
    nhs_numbers = [line.split(",")[1] for line in extract.csv_text.splitlines()[1:]]
    payload = b"".join(value for _, value in messages)
    assert not any(number.encode() in payload for number in nhs_numbers if number)


def test_a_broker_that_is_down_loses_nothing(hub_settings: HubSettings, tmp_path: Path) -> None:
    extract = generate(30, seed=9, faults=0)
    path = tmp_path / "plans.csv"
    path.write_text(extract.csv_text)
    pseudonymiser = Pseudonymiser(hub_settings.pseudonym_key_bytes() or b"", "key-1")
    down = PublishTarget(f"127.0.0.1:{free_port()}", "t", "education", CONTRACT, "E10000018")
    outbox_file = tmp_path / "outbox.sqlite"
    with Outbox(outbox_file) as outbox:
        summary = publish_extract(path, down, pseudonymiser, outbox, now=dt.datetime.now(dt.UTC))
    assert summary.broker_unavailable and summary.rows_sent == 0
    # the producer process ends; later the broker is back and the outbox is flushed
    topic = hub_settings.topic("education.events")
    ensure_topics(hub_settings.broker_bootstrap, [topic])
    with Outbox(outbox_file) as outbox:
        assert outbox.status().pending == 31  # 30 events and the manifest
        outbox._db.execute("UPDATE outbox SET topic = ?", (topic,))  # same broker, test topic
        outcome = send_pending(outbox, hub_settings.broker_bootstrap)
        assert len(outcome.acknowledged) == 31 and outcome.failed == 0
        assert outbox.status().pending == 0
    decoded = [
        decode(default_catalogue(), v) for _, v in read_topic(hub_settings.broker_bootstrap, topic)
    ]
    assert sorted(d.schema.name for d in decoded).count("EhcPlanIssued") == 30
    assert [d.schema.name for d in decoded].count("ExtractPublished") == 1


def test_hub_produce_publishes_a_mapped_health_extract_with_per_row_refusals(
    hub_settings: HubSettings, tmp_path: Path
) -> None:
    from producers.synthetic.nhs_numbers import synthetic_nhs_number, with_wrong_check_digit
    from tests.support.processes import run_hub

    rng = random.Random(3)
    good = [synthetic_nhs_number(rng) for _ in range(20)]
    rows = [f"R{i},{nhs},SLT,2026-0{1 + i % 9}-10,GP" for i, nhs in enumerate(good)]
    rows.insert(5, f"RX,{with_wrong_check_digit(good[0])},OT,2026-02-01,GP")
    rows.insert(9, f"RY,{good[1]},ACUPUNCTURE,2026-02-01,GP")
    path = tmp_path / "therapy_referrals.csv"
    path.write_text(
        "REFERRAL_ID,NHS_NUMBER,SERVICE,REFERRAL_DATE,REFERRAL_SOURCE\n" + "\n".join(rows)
    )
    topic = hub_settings.topic("health.events")
    ensure_topics(hub_settings.broker_bootstrap, [topic])

    result = run_hub(
        hub_settings, "produce", "--source", "health", "--extract", "therapy_referrals", str(path)
    )

    assert result.returncode == 1, result.stderr
    assert "line 7: invalid_nhs_number" in result.stderr
    assert "line 11: unknown_code" in result.stderr
    assert "read 22 rows: 20 sent, 2 refused" in " ".join(result.stdout.split())
    assert not any(nhs in result.stdout + result.stderr for nhs in good)
    decoded = [
        decode(default_catalogue(), v) for _, v in read_topic(hub_settings.broker_bootstrap, topic)
    ]
    referrals = [d.record for d in decoded if d.schema.name == "TherapyReferralReceived"]
    [manifest] = [d.record for d in decoded if d.schema.name == "ExtractPublished"]
    assert len(referrals) == 20 and {r["therapy_type"] for r in referrals} == {"SALT"}
    assert manifest["event_type"] == "TherapyReferralReceived"

    unknown = run_hub(hub_settings, "produce", "--source", "health", "--extract", "x", str(path))
    assert unknown.returncode == 2
    assert "therapy_referrals" in unknown.stderr
