"""Publishing over HTTP with the real broker and PostgreSQL: the partner token binds the party.

A partner posts its own event: 202 and the very bytes are on its own topic, keyed by the
subject. An event naming another party: 403 and nothing published. An event outside the
contract: 422 with the contract's reason. A token of another role: 403. Every call is in
the access log.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from typing import Any

from fastapi.testclient import TestClient

from contracts.decisions import Area
from hub.settings import HubSettings
from schemas.catalogue import default_catalogue
from schemas.codec import encode
from schemas.topics import ensure_topics
from tests.component.test_publisher import read_topic
from tests.support.api import bearer, issue
from warehouse.api import create_app
from warehouse.connection import connect

CATALOGUE = default_catalogue()
AREA = Area("leics-send-sharing-2026", "E10000018")


def exclusion(**envelope: Any) -> bytes:
    """An education partner's ExclusionRecorded, back-dated before the contract began."""
    record: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "event_type": "ExclusionRecorded",
        "schema_version": 1,
        "occurred_at": dt.datetime(2025, 9, 8, tzinfo=dt.UTC),
        "recorded_at": dt.datetime(2025, 9, 9, tzinfo=dt.UTC),
        "source_system": "education",
        "contract_id": AREA.contract_id,
        "area_code": AREA.area_code,
        "extract_id": None,
        "record_id": None,
        "subject": {"nhs_pseudonym": None, "upn_pseudonym": "u-http-1", "key_id": "key-1"},
        "exclusion_kind": "FIXED_TERM",
        "start_date": dt.date(2025, 9, 8),
        "sessions": 2,
        "school_urn": None,
    }
    subject = envelope.pop("subject", {})
    record.update(envelope)
    record["subject"] = {**record["subject"], **subject}
    return encode(CATALOGUE.latest("ExclusionRecorded"), record)


def body(*events: bytes) -> dict[str, list[str]]:
    return {"events": [base64.b64encode(event).decode("ascii") for event in events]}


def test_a_partner_publishes_only_its_own_events_within_the_contract(
    hub_settings: HubSettings, warehouse_dsn: str, api_dsn: str
) -> None:
    bootstrap = hub_settings.broker_bootstrap
    topic = hub_settings.topic("education.events")
    ensure_topics(bootstrap, [topic, hub_settings.topic("health.events")])
    app = create_app(api_dsn, hub_settings.topic_prefix, broker_bootstrap=bootstrap, area=AREA)
    education = bearer(issue(warehouse_dsn, "partner", "education"))
    with TestClient(app) as client:
        own = exclusion()
        accepted = client.post("/submissions/events", json=body(own), headers=education)
        health_event = exclusion(source_system="health")
        foreign = client.post(
            "/submissions/events", json=body(exclusion(), health_event), headers=education
        )
        outside = client.post(
            "/submissions/events",
            json=body(exclusion(), exclusion(subject={"key_id": "key-0"})),
            headers=education,
        )
        commissioner = client.post(
            "/submissions/events",
            json=body(exclusion()),
            headers=bearer(issue(warehouse_dsn, "commissioner")),
        )

    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["topic"] == topic
    assert (foreign.status_code, commissioner.status_code) == (403, 403)
    assert "events at 1 name another source_system" in foreign.json()["detail"]
    assert outside.status_code == 422
    assert outside.headers["content-type"] == "application/problem+json"
    assert [(e["event"], e["reason"]) for e in outside.json()["errors"]] == [("1", "wrong_key")]
    # only the accepted event reached the broker, unchanged, keyed by its subject
    assert read_topic(bootstrap, topic) == [(b"u-http-1", own)]
    assert read_topic(bootstrap, hub_settings.topic("health.events")) == []
    with connect(warehouse_dsn) as conn:
        logged = conn.execute(
            "SELECT role, party, status, rows_returned FROM access_log"
            " WHERE route = '/submissions/events' ORDER BY id"
        ).fetchall()
    assert logged == [
        ("partner", "education", 202, 1),
        ("partner", "education", 403, 0),
        ("partner", "education", 422, 0),
        ("commissioner", None, 403, None),
    ]
