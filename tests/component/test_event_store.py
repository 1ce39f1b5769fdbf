"""The event store on a real PostgreSQL: once-only appends, the hash chain, append-only rows."""

import datetime as dt
import uuid

import psycopg
import pytest

from schemas.manifest import ExtractManifest
from streams.worker.unit_of_work import apply_batch
from tests.support.events import plan_event
from warehouse.connection import connect
from warehouse.event_store import GENESIS_HASH, chain_hash, content_digest, verify_chain
from warehouse.quarantine import count_by_reason, quarantine
from warehouse.scorecard import scorecard_document

REQUEST = dt.date(2025, 1, 6)


def kpi(document: dict[str, object], kpi_id: str) -> dict[str, object]:
    kpis = document["kpis"]
    assert isinstance(kpis, list)
    return next(k for k in kpis if k["id"] == kpi_id)


def test_a_batch_appends_events_and_counts_them_once(warehouse_dsn: str) -> None:
    on_time = plan_event(REQUEST, dt.date(2025, 5, 1))
    late = plan_event(REQUEST, dt.date(2025, 7, 1))
    excepted = plan_event(REQUEST, dt.date(2025, 7, 1), exception=True)
    with connect(warehouse_dsn) as conn:
        first = apply_batch(conn, [on_time, late, excepted])
        again = apply_batch(conn, [late, on_time, late])
        document = scorecard_document(conn)
        counted = dict(
            conn.execute(
                "SELECT kpi_id, (sum(numerator), sum(denominator)) FROM kpi_measures"
                " WHERE kpi_id LIKE 'ehcp_20_weeks%%' GROUP BY kpi_id"
            ).fetchall()
        )
    assert (first.appended, first.duplicates) == (3, 0)
    assert (again.appended, again.duplicates) == (0, 3)
    # inside the hub each plan counts once: 1 of 2 on time without exceptions, 1 of 3 with
    assert {k: tuple(map(int, v)) for k, v in counted.items()} == {
        "ehcp_20_weeks_excl_exceptions": (1, 2),
        "ehcp_20_weeks_incl_exceptions": (1, 3),
    }
    # published, counts so small are suppressed, and so is the percentage made of them
    excl = kpi(document, "ehcp_20_weeks_excl_exceptions")
    assert excl["numerator"]["symbol"] == excl["percentage"]["symbol"] == "c"
    assert excl["rag"] == "suppressed"
    assert document["as_at"] == "2025-07-01"


def test_each_row_carries_the_hash_of_the_one_before(warehouse_dsn: str) -> None:
    events = [plan_event(REQUEST, dt.date(2025, 5, d)) for d in range(1, 6)]
    with connect(warehouse_dsn) as conn:
        apply_batch(conn, events[:2])
        apply_batch(conn, events[2:])
        rows = conn.execute(
            "SELECT previous_hash, row_hash FROM events ORDER BY sequence"
        ).fetchall()
        assert verify_chain(conn) is None
    assert rows[0][0] == GENESIS_HASH
    assert rows[0][1] == chain_hash(GENESIS_HASH, content_digest(events[0]))
    assert all(rows[i][0] == rows[i - 1][1] for i in range(1, len(rows)))


def test_the_event_store_refuses_updates_and_deletes(warehouse_dsn: str) -> None:
    with connect(warehouse_dsn) as conn:
        apply_batch(conn, [plan_event(REQUEST, dt.date(2025, 5, 1))])
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            conn.execute("UPDATE events SET event_type = 'X'")
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            conn.execute("DELETE FROM events")


def test_manifests_are_recorded_with_their_event_ids(warehouse_dsn: str) -> None:
    extract_id = uuid.uuid4()
    events = [plan_event(REQUEST, dt.date(2025, 5, 1), extract_id=extract_id) for _ in range(3)]
    manifest = ExtractManifest(
        extract_id=extract_id,
        event_type="EhcPlanIssued",
        source_system="education",
        contract_id="c",
        area_code="E10000018",
        published_at=dt.datetime.now(dt.UTC),
        rows_read=4,
        rows_sent=3,
        rows_refused=1,
        event_ids=tuple(e.event_id for e in events),
    )
    with connect(warehouse_dsn) as conn:
        apply_batch(conn, events, [manifest])
        apply_batch(conn, [], [manifest])  # a re-delivered manifest changes nothing
        sent = conn.execute("SELECT rows_sent, rows_refused FROM extract_manifests").fetchone()
        linked = conn.execute("SELECT count(*) FROM extract_manifest_events").fetchone()
    assert sent == (3, 1)
    assert linked == (3,)


def test_a_failed_batch_leaves_nothing_behind(warehouse_dsn: str) -> None:
    good = plan_event(REQUEST, dt.date(2025, 5, 1))
    broken = plan_event(REQUEST, dt.date(2025, 5, 1))
    broken.payload["issue_date"] = "not a date"
    with connect(warehouse_dsn) as conn:
        with pytest.raises(ValueError):
            apply_batch(conn, [good, broken])
        assert conn.execute("SELECT count(*) FROM events").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM kpi_measures").fetchone() == (0,)


def test_quarantine_keeps_each_message_once_with_its_reason(warehouse_dsn: str) -> None:
    rows = [("education.events", 0, 7, "schema_unknown", "fingerprint 00", b"\xc3\x01...")]
    with connect(warehouse_dsn) as conn:
        quarantine(conn, rows)
        quarantine(conn, rows)
        assert count_by_reason(conn) == {"schema_unknown": 1}
