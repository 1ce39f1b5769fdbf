"""Verifying the event store's hash chain on demand, and keeping each verification's outcome.

`hub audit verify` recomputes the whole chain (`warehouse.event_store.verify_chain`),
which reads every row's content: the API's role may not, so `GET /audit/chain` reports
the latest verification recorded here, with how many rows were appended since. The
`chain_verifications` table is append-only (migration 0013) and holds counts, a
sequence number and a kind of break: never an event's content.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import psycopg

from warehouse.event_store import BREAK_KINDS, ChainBreak, verify_chain


@dataclass(frozen=True)
class Verification:
    """One run over the chain: how many rows (and tombstones) up to which sequence, and the
    first break found, if any."""

    rows: int
    tombstones: int
    last_sequence: int
    broken: ChainBreak | None
    verified_at: dt.datetime | None = None

    @property
    def holds(self) -> bool:
        return self.broken is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "verified_at": self.verified_at.isoformat() if self.verified_at else None,
            "holds": self.holds,
            "rows": self.rows,
            "tombstones": self.tombstones,
            "last_sequence": self.last_sequence,
            "first_break": None
            if self.broken is None
            else {
                "sequence": self.broken.sequence,
                "kind": self.broken.kind,
                "meaning": BREAK_KINDS[self.broken.kind],
            },
        }


def verify_and_record(conn: psycopg.Connection) -> Verification:
    """Verify the chain in one snapshot (the counts are of the rows verified) and record it."""
    with conn.transaction():
        if conn.autocommit:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        counted = conn.execute(
            "SELECT count(*), count(erased_at), coalesce(max(sequence), 0) FROM events"
        ).fetchone()
        rows, tombstones, last = counted if counted else (0, 0, 0)
        broken = verify_chain(conn)
        recorded = conn.execute(
            "INSERT INTO chain_verifications"
            " (rows_verified, tombstones, last_sequence, broken_at, break_kind)"
            " VALUES (%s, %s, %s, %s, %s) RETURNING verified_at",
            (
                rows,
                tombstones,
                last,
                broken.sequence if broken else None,
                broken.kind if broken else None,
            ),
        ).fetchone()
    return Verification(
        int(rows), int(tombstones), int(last), broken, recorded[0] if recorded else None
    )


def latest_verification(conn: psycopg.Connection) -> dict[str, Any]:
    """The latest recorded verification (null if none), and the rows appended since it."""
    row = conn.execute(
        "SELECT rows_verified, tombstones, last_sequence, broken_at, break_kind, verified_at"
        " FROM chain_verifications ORDER BY id DESC LIMIT 1"
    ).fetchone()
    newest = conn.execute("SELECT coalesce(max(sequence), 0) FROM events").fetchone()
    highest = int(newest[0]) if newest else 0
    if row is None:
        return {"latest": None, "rows_appended_since": None}
    rows, tombstones, last, broken_at, kind, verified_at = row
    broken = ChainBreak(int(broken_at), str(kind)) if kind is not None else None
    verification = Verification(int(rows), int(tombstones), int(last), broken, verified_at)
    return {"latest": verification.as_dict(), "rows_appended_since": max(highest - int(last), 0)}
