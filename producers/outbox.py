"""The producer's durable outbox: every event is on local disk before it is sent.

An event is written here (SQLite, synchronous commits) before the broker sees it,
marked acknowledged when the broker confirms it, and removed only once the hub says
it has recorded it. A producer killed at any point, or a broker down for minutes,
loses nothing; a resend is harmless because the hub is idempotent on `event_id`.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PENDING = "pending"
ACKNOWLEDGED = "acknowledged"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    event_id     TEXT PRIMARY KEY,
    topic        TEXT NOT NULL,
    key          BLOB NOT NULL,
    value        BLOB NOT NULL,
    extract_id   TEXT,
    kind         TEXT NOT NULL DEFAULT 'event',
    state        TEXT NOT NULL DEFAULT 'pending',
    enqueued_at  TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    acknowledged_at TEXT
);
CREATE INDEX IF NOT EXISTS outbox_by_state ON outbox (state, enqueued_at);
"""


@dataclass(frozen=True)
class OutboxEntry:
    """One encoded message waiting to be sent: events, and the manifest that follows them."""

    event_id: str
    topic: str
    key: bytes
    value: bytes
    extract_id: str | None = None
    kind: str = "event"


@dataclass(frozen=True)
class OutboxStatus:
    pending: int
    acknowledged: int
    oldest_pending: dt.datetime | None

    @property
    def empty(self) -> bool:
        return self.pending == 0 and self.acknowledged == 0


class Outbox:
    """A SQLite outbox file. One writer at a time; safe to reopen after a crash."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def connection(self) -> sqlite3.Connection:
        """The outbox file's connection, for bookkeeping kept beside the entries (the staging
        ledger); writes go through `transaction`."""
        return self._db

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: whatever is written through it commits together or not at
        all. Staging records how far it got in the same transaction as the entries."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def enqueue(self, entries: Iterable[OutboxEntry]) -> int:
        """Store entries durably in one transaction; an event id already here is kept once."""
        with self.transaction() as db:
            return insert_entries(db, entries)

    def pending(self, limit: int = 10_000) -> list[OutboxEntry]:
        """Entries not yet acknowledged, events before manifests, oldest first."""
        rows = self._db.execute(
            "SELECT event_id, topic, key, value, extract_id, kind FROM outbox WHERE state = ?"
            " ORDER BY kind = 'manifest', enqueued_at, rowid LIMIT ?",
            (PENDING, limit),
        ).fetchall()
        return [OutboxEntry(r[0], r[1], bytes(r[2]), bytes(r[3]), r[4], r[5]) for r in rows]

    def count_attempt(self, event_ids: Sequence[str]) -> None:
        self._db.execute("BEGIN IMMEDIATE")
        self._db.executemany(
            "UPDATE outbox SET attempts = attempts + 1 WHERE event_id = ?",
            [(e,) for e in event_ids],
        )
        self._db.execute("COMMIT")

    def mark_acknowledged(self, event_ids: Sequence[str]) -> None:
        now = dt.datetime.now(dt.UTC).isoformat()
        self._db.execute("BEGIN IMMEDIATE")
        self._db.executemany(
            "UPDATE outbox SET state = ?, acknowledged_at = ? WHERE event_id = ?",
            [(ACKNOWLEDGED, now, e) for e in event_ids],
        )
        self._db.execute("COMMIT")

    def acknowledged_ids(self, limit: int = 10_000) -> list[str]:
        rows = self._db.execute(
            "SELECT event_id FROM outbox WHERE state = ? AND kind = 'event' LIMIT ?",
            (ACKNOWLEDGED, limit),
        ).fetchall()
        return [r[0] for r in rows]

    def remove_recorded(self, event_ids: Sequence[str]) -> int:
        """Forget events the hub has recorded; only acknowledged entries can be removed."""
        self._db.execute("BEGIN IMMEDIATE")
        before = self._db.total_changes
        self._db.executemany(
            "DELETE FROM outbox WHERE event_id = ? AND state = ?",
            [(e, ACKNOWLEDGED) for e in event_ids],
        )
        removed = self._db.total_changes - before
        self._db.execute("COMMIT")
        return removed

    def remove_acknowledged_manifests(self) -> int:
        """Manifests are control messages: once acknowledged they have done their job."""
        cursor = self._db.execute(
            "DELETE FROM outbox WHERE kind = 'manifest' AND state = ?", (ACKNOWLEDGED,)
        )
        return cursor.rowcount

    def event_counts(self) -> dict[str, int]:
        """Events held, manifests aside, by state: `pending` (staged, not yet confirmed by
        the broker) and `acknowledged` (sent, awaiting the hub's receipt)."""
        rows = self._db.execute(
            "SELECT state, count(*) FROM outbox WHERE kind = 'event' GROUP BY state"
        ).fetchall()
        return {PENDING: 0, ACKNOWLEDGED: 0, **{state: int(count) for state, count in rows}}

    def pending_of_extract(self, extract_id: str, kind: str | None = None) -> int:
        """Entries of one extract (of one kind, or events and manifests) not yet confirmed."""
        row = self._db.execute(
            "SELECT count(*) FROM outbox WHERE state = ? AND extract_id = ?"
            " AND kind = coalesce(?, kind)",
            (PENDING, extract_id, kind),
        ).fetchone()
        return int(row[0])

    def status(self) -> OutboxStatus:
        counts = dict(
            self._db.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall()
        )
        oldest = self._db.execute(
            "SELECT min(enqueued_at) FROM outbox WHERE state = ?", (PENDING,)
        ).fetchone()[0]
        return OutboxStatus(
            pending=int(counts.get(PENDING, 0)),
            acknowledged=int(counts.get(ACKNOWLEDGED, 0)),
            oldest_pending=dt.datetime.fromisoformat(oldest) if oldest else None,
        )


def insert_entries(db: sqlite3.Connection, entries: Iterable[OutboxEntry]) -> int:
    """Add entries within the caller's transaction; how many were new (an id is kept once)."""
    now = dt.datetime.now(dt.UTC).isoformat()
    rows = [(e.event_id, e.topic, e.key, e.value, e.extract_id, e.kind, now) for e in entries]
    before = db.total_changes
    db.executemany(
        "INSERT OR IGNORE INTO outbox (event_id, topic, key, value, extract_id, kind,"
        " enqueued_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    return db.total_changes - before
