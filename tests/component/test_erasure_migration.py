"""Migration 0012 re-chains the stored events over their content digests, and refuses a
chain that was already broken rather than hiding what broke it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import uuid

import psycopg
import pytest
from psycopg.types.json import Jsonb

from hub.stack.postgres import EmbeddedPostgres
from schemas.envelope import Event
from tests.support.events import plan_event
from warehouse.event_store import GENESIS_HASH, canonical_bytes, content_digest, verify_chain
from warehouse.migrate import upgrade

REQUEST = dt.date(2025, 1, 6)


@pytest.fixture
def database_at_0011(postgres_server: EmbeddedPostgres) -> str:
    name = f"hub_0011_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_server.dsn("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    dsn = postgres_server.dsn(name)
    upgrade(dsn, "0011")
    return dsn


def store_as_0011_did(conn: psycopg.Connection, events: list[Event]) -> None:
    """Append with the old chain: each row hashes the previous hash and its bytes."""
    previous = GENESIS_HASH
    for event in events:
        row_hash = hashlib.sha256(previous.encode("ascii") + canonical_bytes(event)).hexdigest()
        fields = dataclasses.astuple(event)
        conn.execute(
            "INSERT INTO events (event_id, event_type, schema_version, schema_fingerprint,"
            " occurred_at, recorded_at, source_system, contract_id, area_code, extract_id,"
            " nhs_pseudonym, upn_pseudonym, payload, record_id, previous_hash, row_hash)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (*fields[:12], Jsonb(event.payload), event.record_id, previous, row_hash),
        )
        previous = row_hash


def three_events() -> list[Event]:
    first = plan_event(REQUEST, dt.date(2025, 5, 1))
    corrected = dataclasses.replace(
        plan_event(REQUEST, dt.date(2025, 5, 2)), record_id=first.event_id, upn_pseudonym="u" * 64
    )
    return [first, corrected, plan_event(REQUEST, dt.date(2025, 5, 3), pseudonym=None)]


def test_stored_events_are_rechained_over_their_digests_and_verify(database_at_0011: str) -> None:
    events = three_events()
    with psycopg.connect(database_at_0011, autocommit=True) as conn:
        store_as_0011_did(conn, events)
    upgrade(database_at_0011)
    with psycopg.connect(database_at_0011, autocommit=True) as conn:
        assert verify_chain(conn) is None
        digests = conn.execute("SELECT content_digest FROM events ORDER BY sequence").fetchall()
    assert digests == [(content_digest(event),) for event in events]


def test_a_chain_broken_before_the_migration_is_refused(database_at_0011: str) -> None:
    with psycopg.connect(database_at_0011, autocommit=True) as conn:
        store_as_0011_did(conn, three_events())
        with conn.transaction():
            conn.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
            conn.execute("UPDATE events SET payload = '{}' WHERE sequence = 2")
            conn.execute("ALTER TABLE events ENABLE TRIGGER events_append_only")
    with pytest.raises(RuntimeError, match="does not verify at sequence 2"):
        upgrade(database_at_0011)
