"""An opt-out load erases the bytes of quarantined messages about the subject even when
none of the subject's events was ever stored: a refused message is still held data."""

from __future__ import annotations

import datetime as dt

import psycopg

from contracts.loading import default_contract_path, load_checked
from warehouse.connection import connect
from warehouse.erasure import deletion_records
from warehouse.event_store import verify_chain
from warehouse.opt_out import apply_opt_outs
from warehouse.quarantine import quarantine

AT = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
OPTED_OUT = "a" * 64
OTHER = "b" * 64


def held_bytes(conn: psycopg.Connection) -> dict[int, bytes | None]:
    rows = conn.execute('SELECT "offset", message FROM quarantined_messages').fetchall()
    return {
        int(offset): bytes(message) if message is not None else None for offset, message in rows
    }


def test_a_subject_known_only_from_quarantine_loses_those_bytes(warehouse_dsn: str) -> None:
    contract = load_checked(default_contract_path())
    with connect(warehouse_dsn) as conn:
        quarantine(
            conn,
            [
                ("t.health", 0, 1, "wrong_key", "refused", b"\x01" + OPTED_OUT.encode() + b"\x02"),
                ("t.health", 0, 2, "wrong_key", "refused", b"\x01" + OTHER.encode()),
            ],
        )
        applied = apply_opt_outs(conn, frozenset({OPTED_OUT}), contract, AT)

        assert (applied.events_erased, applied.quarantined_erased) == (0, 1)
        assert held_bytes(conn) == {1: None, 2: b"\x01" + OTHER.encode()}
        [record] = deletion_records(conn)
        assert (record.kind, record.events_erased, record.quarantined_erased) == ("opt_out", 0, 1)
        assert verify_chain(conn) is None  # a record of no events counts no tombstone
