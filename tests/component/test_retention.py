"""Retention keeps the proof: a synthetic area aged past retention, erased, still verifies.

A small synthetic area goes through the worker's unit of work into real PostgreSQL, and a
quarantined message mentions a person who will be due. `hub retention run` with an
injected day (2047-01-15: everyone born by December 2013 is past their 25th birthday
month plus 8 years, and the contract ended in 2028) erases part of the area. Then the
chain verifies, a replay of the remaining events equals the live projections, the
erased pseudonyms are in no table the hub keeps, the deletion record counts by type, and
the append-only trigger still refuses any other change.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from contracts.loading import default_contract_path, load_checked
from hub.cli import app
from hub.settings import HubSettings
from hub.stack.postgres import EmbeddedPostgres
from pipelines.replay import replay
from pipelines.replay_tables import COMPARED_COLUMNS
from producers.synthetic.area import SMOKE, Faults
from producers.synthetic.area_files import generate_area, read_events
from schemas.catalogue import default_catalogue
from schemas.envelope import Event
from streams.ingest import RawMessage, sort_messages
from streams.retention import plan_retention
from streams.worker.unit_of_work import apply_batch
from tests.conftest import TEMPLATE_DATABASE
from tests.support.events import plan_event
from tests.unit.test_cohort_projection import SETTINGS
from warehouse.cohort_store import projection_settings
from warehouse.erasure import deletion_records, erase
from warehouse.event_store import ChainBreak, verify_chain
from warehouse.quarantine import quarantine
from warehouse.retention import stored_people

TODAY = dt.date(2047, 1, 15)
RECEIVED = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


@pytest.fixture
def settings(tmp_path: Path, postgres_server: Any, warehouse_database: str) -> HubSettings:
    return HubSettings(
        state_dir=tmp_path / "hub",
        warehouse_host=postgres_server.host,
        warehouse_port=postgres_server.port,
        warehouse_database=warehouse_database,
    )


@pytest.fixture
def hub(settings: HubSettings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for key, value in settings.as_env().items():
        monkeypatch.setenv(key, value)
    return CliRunner()


def synthetic_area(tmp_path: Path) -> list[Event]:
    generate_area(SMOKE, 4, 0.2, tmp_path, faults=Faults.none())
    raw = [
        RawMessage("events", 0, offset, value, RECEIVED)
        for offset, value in enumerate(read_events(tmp_path / "events.bin"))
    ]
    batch = sort_messages(default_catalogue(), raw)
    assert not batch.refusals
    return batch.events


def pseudonyms_of(events: list[Event]) -> set[str]:
    return {p for e in events for p in (e.nhs_pseudonym, e.upn_pseudonym) if p}


def places_holding(conn: psycopg.Connection, pseudonyms: set[str]) -> dict[str, int]:
    """How many rows of each table the hub keeps still carry any of these pseudonyms."""
    raw = sorted(pseudonyms)
    tagged = [f"{kind}:{p}" for p in raw for kind in ("nhs", "upn")]
    queries = {
        "events": "SELECT count(*) FROM events WHERE nhs_pseudonym = ANY(%(raw)s)"
        " OR upn_pseudonym = ANY(%(raw)s) OR EXISTS (SELECT 1 FROM unnest(%(raw)s::text[]) p"
        " WHERE position(p IN payload::text) > 0)",
        "quarantined_messages": "SELECT count(*) FROM quarantined_messages q"
        " WHERE EXISTS (SELECT 1 FROM unnest(%(raw)s::text[]) p"
        " WHERE position(convert_to(p, 'UTF8') IN q.message) > 0)",
        "person_links": "SELECT count(*) FROM person_links WHERE pseudonym = ANY(%(tagged)s)",
        "cohort_history": "SELECT count(*) FROM cohort_history h"
        " JOIN person_links l USING (person_id) WHERE l.pseudonym = ANY(%(tagged)s)"
        " OR EXISTS (SELECT 1 FROM unnest(%(raw)s::text[]) p"
        " WHERE position(p IN h.state::text) > 0)",
    }
    counts = {}
    for table, sql in queries.items():
        row = conn.execute(sql, {"raw": raw, "tagged": tagged}).fetchone()
        counts[table] = int(row[0]) if row else 0
    return counts


def projections(conn: psycopg.Connection) -> dict[str, list[tuple[str, ...]]]:
    """Every projection's rows, as text, sorted: comparable across databases."""
    tables = {}
    for table, (key, values) in COMPARED_COLUMNS.items():
        columns = ", ".join(f"{column}::text" for column in (*key, *values))
        tables[table] = sorted(conn.execute(f"SELECT {columns} FROM {table}").fetchall())
    return tables


def projections_of(events: list[Event], server: EmbeddedPostgres) -> dict[str, Any]:
    """The projections a fresh warehouse builds from these events alone."""
    name = f"hub_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.dsn("postgres"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DATABASE}"')
    with psycopg.connect(server.dsn(name), autocommit=True) as conn:
        apply_batch(conn, events, projection=SETTINGS)
        return projections(conn)


def run(hub: CliRunner, *options: str) -> str:
    result = hub.invoke(
        app, ["retention", "run", "--today", TODAY.isoformat(), *options], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def test_retention_erases_part_of_an_area_and_keeps_the_proof(
    hub: CliRunner, settings: HubSettings, tmp_path: Path, postgres_server: EmbeddedPostgres
) -> None:
    contract = load_checked(default_contract_path())
    events = synthetic_area(tmp_path)
    by_id = {e.event_id: e for e in events}
    with psycopg.connect(settings.warehouse_dsn(), autocommit=True) as conn:
        apply_batch(conn, events, projection=SETTINGS)
        plan = plan_retention(stored_people(conn), {contract.contract_id: contract}, TODAY)
        [due] = plan.due
        erased = [by_id[event_id] for event_id in due.event_ids]
        kept = [e for e in events if e.event_id not in set(due.event_ids)]
        assert 0 < len(erased) < len(events) / 2  # part of the area, not all of it
        gone, staying = pseudonyms_of(erased), pseudonyms_of(kept)
        assert gone and staying and not gone & staying
        quarantine(
            conn,
            [
                ("t.health", 0, 1, "invalid_avro", "bad", b"x" + min(gone).encode() + b"y"),
                ("t.health", 0, 2, "invalid_avro", "bad", b"x" + min(staying).encode()),
            ],
        )
        before = places_holding(conn, gone)
        assert all(before.values()), before

    dry = run(hub, "--dry-run")
    assert f"{len(erased)} events would be erased" in dry
    with psycopg.connect(settings.warehouse_dsn(), autocommit=True) as conn:
        assert places_holding(conn, gone) == before  # a dry run changes nothing

    output = run(hub)
    assert f"{len(erased)} events erased" in output
    assert "1 quarantined messages erased" in output
    assert not any(p in output for p in gone)

    with psycopg.connect(settings.warehouse_dsn(), autocommit=True) as conn:
        assert verify_chain(conn) is None
        report = replay(conn, projection_settings(conn))
        assert report.equal, [t for t in report.tables if not t.equal]
        assert projections(conn) == projections_of(kept, postgres_server)
        assert places_holding(conn, gone) == dict.fromkeys(before, 0)
        assert places_holding(conn, staying)["quarantined_messages"] == 1
        [record] = deletion_records(conn)
        expected_types: dict[str, int] = {}
        for e in erased:
            expected_types[e.event_type] = expected_types.get(e.event_type, 0) + 1
        assert dataclasses.astuple(record)[2:] == (
            "retention",
            contract.contract_id,
            due.rule,
            len(erased),
            expected_types,
            1,
        )
        tombstones = conn.execute(
            "SELECT count(*) FROM events WHERE erasure_id = %s AND payload IS NULL"
            " AND content_digest IS NOT NULL",
            (record.erasure_id,),
        ).fetchone()
        assert tombstones == (len(erased),)

        assert_only_erasure_can_change_the_store(conn, record.erasure_id)

        # a deletion record whose count differs from its tombstones is found
        first = conn.execute(
            "SELECT min(sequence) FROM events WHERE erased_at IS NOT NULL"
        ).fetchone()
        with conn.transaction():
            conn.execute("ALTER TABLE deletion_records DISABLE TRIGGER USER")
            conn.execute("UPDATE deletion_records SET events_erased = events_erased + 1")
            conn.execute("ALTER TABLE deletion_records ENABLE TRIGGER USER")
        assert first is not None
        assert verify_chain(conn) == ChainBreak(first[0], "erasure_unrecorded")


def assert_only_erasure_can_change_the_store(conn: psycopg.Connection, erasure_id: int) -> None:
    live = conn.execute(
        "SELECT event_id FROM events WHERE erased_at IS NULL ORDER BY sequence LIMIT 1"
    ).fetchone()
    assert live is not None
    for statement, parameters in [
        ("UPDATE events SET payload = NULL", ()),
        ("DELETE FROM events", ()),
        ("TRUNCATE events CASCADE", ()),
        ("DELETE FROM deletion_records", ()),
        # a tombstone with no deletion record behind it
        (
            "UPDATE events SET payload = NULL, nhs_pseudonym = NULL, upn_pseudonym = NULL,"
            " erased_at = now(), erasure_id = NULL WHERE event_id = %s",
            (live[0],),
        ),
        # erasing and changing another column at once
        (
            "UPDATE events SET payload = NULL, nhs_pseudonym = NULL, upn_pseudonym = NULL,"
            " erased_at = now(), erasure_id = %s, event_type = 'X' WHERE event_id = %s",
            (erasure_id, live[0]),
        ),
        # a tombstone changed again
        ("UPDATE events SET event_type = 'X' WHERE erased_at IS NOT NULL", ()),
    ]:
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            conn.execute(statement, parameters)


def test_erasure_takes_every_revision_of_a_record_and_an_unrecorded_tombstone_is_found(
    warehouse_dsn: str,
) -> None:
    request = dt.date(2025, 1, 6)
    first = plan_event(request, dt.date(2025, 5, 1))
    corrected = dataclasses.replace(
        plan_event(request, dt.date(2025, 5, 2)),
        record_id=first.event_id,
        recorded_at=first.recorded_at + dt.timedelta(days=1),
    )
    other = plan_event(request, dt.date(2025, 5, 3), pseudonym="q" * 64)
    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        apply_batch(conn, [first, corrected, other])
        record = erase(
            conn, [first.event_id], kind="opt_out", contract_id="c", rule="r", at=RECEIVED
        )
        assert (record.events_erased, dict(record.by_event_type)) == (2, {"EhcPlanIssued": 2})
        assert verify_chain(conn) is None
        sequence = conn.execute(
            "SELECT sequence FROM events WHERE event_id = %s", (corrected.event_id,)
        ).fetchone()
        assert sequence is not None
        with conn.transaction():  # as the owner could: point a tombstone at no record
            conn.execute("SET LOCAL session_replication_role = replica")
            conn.execute(
                "UPDATE events SET erasure_id = erasure_id + 100 WHERE event_id = %s",
                (corrected.event_id,),
            )
        assert verify_chain(conn) == ChainBreak(sequence[0], "erasure_unrecorded")
