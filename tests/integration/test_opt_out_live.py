"""The national data opt-out, retroactive and complete, with the worker running.

A child's health and education events are in the hub; the health partner prepares the
opt-out list on its side and the hub loads it. The child's health events are erased
from everything the hub keeps and shows, the education event still counts, a replay
equals the live tables, and the child's next health event is refused at once, its
quarantine row keeping only event id, reason and time, nothing re-published with bytes.
Then, with the worker still running, `hub retention run` on a day past a third child's
retention erases that child too, and the chain still verifies over both erasures.

Real broker, real PostgreSQL, the real faust worker and `hub` as a child process.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from hub.settings import HubSettings
from pipelines.replay import replay
from producers.identity import Pseudonymiser
from producers.synthetic.nhs_numbers import synthetic_nhs_number
from schemas.catalogue import default_catalogue
from schemas.codec import encode
from schemas.topics import QUARANTINE_TOPIC, ensure_topics
from tests.support.processes import run_hub, running, wait_for
from warehouse.cohort_store import projection_settings
from warehouse.connection import connect
from warehouse.event_store import verify_chain

CATALOGUE = default_catalogue()
KPI = "ehcp_20_weeks_incl_exceptions"


def _event(event_type: str, source: str, subject: dict[str, Any], **fields: Any) -> bytes:
    record: dict[str, Any] = {
        "event_type": event_type,
        "schema_version": 2,
        "occurred_at": dt.datetime(2026, 3, 2, tzinfo=dt.UTC),
        "recorded_at": dt.datetime(2026, 3, 3, tzinfo=dt.UTC),
        "source_system": source,
        "contract_id": "leics-send-sharing-2026",
        "area_code": "E10000018",
        "extract_id": None,
        "record_id": None,
        "subject": {"nhs_pseudonym": None, "upn_pseudonym": None, "key_id": "key-1", **subject},
        **fields,
    }
    return encode(CATALOGUE.latest(event_type), record)


def _referral(event_id: uuid.UUID, **subject: Any) -> bytes:
    return _event(
        "TherapyReferralReceived",
        "health",
        subject,
        event_id=str(event_id),
        therapy_type="SALT",
        referral_date=dt.date(2026, 3, 2),
        referral_source=None,
    )


def _plan(event_id: uuid.UUID, upn: str) -> bytes:
    return _event(
        "EhcPlanIssued",
        "education",
        {"upn_pseudonym": upn},
        event_id=str(event_id),
        request_date=dt.date(2026, 1, 5),
        issue_date=dt.date(2026, 3, 2),
        permitted_exception=False,
        primary_need="ASD",
    )


def _details(event_id: uuid.UUID, upn: str, month_of_birth: str) -> bytes:
    return _event(
        "PersonDetailsRecorded",
        "education",
        {"upn_pseudonym": upn},
        event_id=str(event_id),
        month_of_birth=month_of_birth,
        sex=None,
        ethnicity_group=None,
        lsoa_code=None,
    )


def _publish(settings: HubSettings, party: str, *values: bytes) -> None:
    topic = settings.topic(f"{party}.events")
    ensure_topics(settings.broker_bootstrap, [topic])
    producer = KafkaProducer(bootstrap_servers=settings.broker_bootstrap)
    for value in values:
        producer.send(topic, value=value)
    producer.flush()
    producer.close()


def _one(settings: HubSettings, sql: str, *params: Any) -> Any:
    with connect(settings.warehouse_dsn()) as conn:
        row = conn.execute(sql, params).fetchone()
    return row[0] if row else None


def _quarantine_topic(settings: HubSettings) -> list[tuple[dict[str, bytes], bytes]]:
    topic = settings.topic(QUARANTINE_TOPIC)
    consumer = KafkaConsumer(bootstrap_servers=settings.broker_bootstrap, enable_auto_commit=False)
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    end = consumer.end_offsets(partitions)
    found: list[tuple[dict[str, bytes], bytes]] = []
    while any(consumer.position(p) < end[p] for p in partitions):
        for records in consumer.poll(timeout_ms=500).values():
            found.extend((dict(r.headers), r.value or b"") for r in records)
    consumer.close()
    return found


def test_an_opt_out_erases_the_childs_health_events_and_refuses_the_next_one_at_once(
    hub_settings: HubSettings, tmp_path: Path
) -> None:
    key = Pseudonymiser(hub_settings.pseudonym_key_bytes() or b"", hub_settings.pseudonym_key_id)
    number = synthetic_nhs_number(random.Random(1))
    child, other, upn = (
        key.nhs_pseudonym(number),
        key.nhs_pseudonym(synthetic_nhs_number(random.Random(2))),
        "c" * 64,
    )
    linked, referred, others, plan, later = (uuid.uuid4() for _ in range(5))
    _publish(
        hub_settings,
        "health",
        _referral(linked, nhs_pseudonym=child, upn_pseudonym=upn),  # links health to school
        _referral(referred, nhs_pseudonym=child),
        _referral(others, nhs_pseudonym=other),
        _referral(uuid.uuid4(), nhs_pseudonym=child, key_id="key-9"),  # quarantined: wrong_key
    )
    grown_up = "d" * 64  # 25 in January 2026: past retention from January 2037
    _publish(
        hub_settings,
        "education",
        _plan(plan, upn),
        _plan(uuid.uuid4(), grown_up),
        _details(uuid.uuid4(), grown_up, "2001-01"),
    )
    numbers = tmp_path / "national-opt-outs.txt"
    numbers.write_text(f"{number}\n")

    with running(hub_settings, "streams", tmp_path / "worker.log"):
        wait_for(
            lambda: (
                _one(
                    hub_settings,
                    "SELECT (SELECT count(*) FROM events) = 6"
                    " AND (SELECT count(*) FROM quarantined_messages) = 1",
                )
                or None
            ),
            timeout=60,
            what="six events stored and one quarantined",
        )
        assert _one(
            hub_settings, "SELECT count(*) FROM person_links WHERE pseudonym LIKE %s", f"%{child}"
        )

        prepared = run_hub(
            hub_settings,
            "opt-out",
            "prepare",
            str(numbers),
            "--output",
            str(tmp_path / "list.json"),
        )
        assert prepared.returncode == 0, prepared.stderr
        assert number not in (tmp_path / "list.json").read_text()
        without_key = hub_settings.model_copy(update={"pseudonym_key": None})
        loaded = run_hub(without_key, "opt-out", "load", str(tmp_path / "list.json"))
        assert loaded.returncode == 0, loaded.stderr
        said = " ".join(loaded.stdout.split())
        assert "1 opt-outs read (1 new); 2 events from health erased, 1 quarantined" in said
        assert child not in loaded.stdout + loaded.stderr

        _publish(hub_settings, "health", _referral(later, nhs_pseudonym=child))
        refused = wait_for(
            lambda: _one(
                hub_settings,
                "SELECT array[event_id::text, (message IS NULL)::text, received_at::text]"
                " FROM quarantined_messages WHERE reason = 'subject_opted_out'",
            ),
            timeout=20,
            what="the child's next health event refused",
        )
        announced = wait_for(
            lambda: (
                [
                    v
                    for h, v in _quarantine_topic(hub_settings)
                    if len(h) and h["reason"] == b"subject_opted_out"
                ]
                or None
            ),
            timeout=20,
            what="the refusal on the quarantine topic",
        )

        retention = run_hub(hub_settings, "retention", "run", "--today", "2037-01-15")
        assert retention.returncode == 0, retention.stderr
        assert "2 events erased" in " ".join(retention.stdout.split()), retention.stdout

    assert refused[:2] == [str(later), "true"] and refused[2]  # id, reason and time: no bytes
    assert announced == [b""]  # headers only, no payload
    with connect(hub_settings.warehouse_dsn()) as conn:
        erased = conn.execute(
            "SELECT event_id FROM events WHERE erased_at IS NOT NULL"
            " AND payload IS NULL AND nhs_pseudonym IS NULL AND upn_pseudonym IS NULL"
        ).fetchall()
        assert len(erased) == 4 and {linked, referred} <= {row[0] for row in erased}
        assert not conn.execute(  # nor anything of the third child's
            "SELECT count(*) FROM events WHERE %s IN (nhs_pseudonym, upn_pseudonym)"
            " OR payload::text LIKE %s",
            (grown_up, f"%{grown_up}%"),
        ).fetchone()[0]
        assert verify_chain(conn) is None  # through both erasures and the worker's appends
        assert conn.execute(
            "SELECT count(*) FROM events WHERE event_id = %s", (later,)
        ).fetchone() == (0,)
        held = conn.execute(
            "SELECT count(*) FROM quarantined_messages"
            " WHERE position(convert_to(%s, 'UTF8') IN message) > 0",
            (child,),
        ).fetchone()
        assert held == (0,)
        links = conn.execute("SELECT pseudonym FROM person_links").fetchall()
        assert not [p for (p,) in links if child in p] and [p for (p,) in links if other in p]
        history = conn.execute(
            "SELECT person_id, state::text, caused_by FROM cohort_history"
        ).fetchall()
        assert not [
            row for row in history if child in row[1] or {str(linked), str(referred)} & set(row[2])
        ]
        assert any(str(plan) in row[2] for row in history)  # the education event still counts
        assert conn.execute(
            "SELECT sum(denominator) FROM kpi_measures WHERE kpi_id = %s", (KPI,)
        ).fetchone() == (1,)
        report = replay(conn, projection_settings(conn), dsn=hub_settings.warehouse_dsn())
    assert report.equal, report.tables
