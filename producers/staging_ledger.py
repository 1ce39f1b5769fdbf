"""How far staging got with each extract, kept in the outbox's own SQLite file.

Each chunk's progress (last line, counts, the records staged and the rows refused) commits
in the same transaction as the chunk's outbox entries, so an interrupted `hub produce`
resumes after the last committed chunk: no row is staged twice and none is skipped. The
records are also how a row repeated far apart in a large extract is found, and the
manifest's event ids are read back from them, so none of this is held in memory.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from producers.extract_reader import RowRefusal
from producers.outbox import Outbox, OutboxEntry, insert_entries

KEYS_PER_QUERY = 500  # well under SQLite's limit on bound parameters

_SCHEMA = """
CREATE TABLE IF NOT EXISTS staged_extracts (
    id             INTEGER PRIMARY KEY,
    extract_id     TEXT NOT NULL UNIQUE,
    recorded_at    TEXT NOT NULL,
    last_line      INTEGER NOT NULL DEFAULT 0,
    rows_read      INTEGER NOT NULL DEFAULT 0,
    rows_refused   INTEGER NOT NULL DEFAULT 0,
    rows_staged    INTEGER NOT NULL DEFAULT 0,
    manifest_parts INTEGER NOT NULL DEFAULT 0,
    staged_in_full_at TEXT
);
CREATE TABLE IF NOT EXISTS staged_records (
    extract     INTEGER NOT NULL,
    line        INTEGER NOT NULL,
    record_key  TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    PRIMARY KEY (extract, line)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS staged_records_by_key ON staged_records (extract, record_key);
CREATE TABLE IF NOT EXISTS staged_refusals (
    extract  INTEGER NOT NULL,
    line     INTEGER NOT NULL,
    reason   TEXT NOT NULL,
    message  TEXT NOT NULL,
    PRIMARY KEY (extract, line)
) WITHOUT ROWID;
"""


@dataclass(frozen=True)
class StagingProgress:
    """How far one extract's staging has got, and the counts its manifest reports."""

    last_line: int = 0  # the last line whose row is staged or refused
    rows_read: int = 0
    rows_refused: int = 0
    rows_staged: int = 0
    manifest_parts: int = 0


@dataclass(frozen=True)
class StagedRecord:
    """A record staged from one line: its key finds a repeat, its event id goes in the manifest."""

    line: int
    record_key: str
    event_id: str


@dataclass(frozen=True)
class LedgerEntry:
    """One extract in the ledger as a run of `hub produce` finds it."""

    key: int
    extract_id: str
    recorded_at: dt.datetime
    progress: StagingProgress
    staged_in_full: bool
    published_before: bool  # staged in full and sent by an earlier run: starting again


@dataclass(frozen=True)
class StagedEventIds:
    """Every event id an extract staged, in line order, read from the outbox file when asked
    rather than held. Readable until another extract starts staging in that outbox."""

    path: Path
    extract: int
    count: int

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[str]:
        with closing(sqlite3.connect(self.path)) as db:
            for (event_id,) in db.execute(
                "SELECT event_id FROM staged_records WHERE extract = ? ORDER BY line",
                (self.extract,),
            ):
                yield str(event_id)

    def __contains__(self, event_id: object) -> bool:
        with closing(sqlite3.connect(self.path)) as db:
            found = db.execute(
                "SELECT 1 FROM staged_records WHERE extract = ? AND event_id = ?",
                (self.extract, str(event_id)),
            ).fetchone()
        return found is not None


class StagingLedger:
    """The ledger in an open outbox; writes go through the outbox's transactions."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        outbox.connection.executescript(_SCHEMA)

    def start(self, extract_id: str, recorded_at: dt.datetime) -> LedgerEntry:
        """The extract's entry: resumed if an earlier run was interrupted, new otherwise.

        An extract staged in full whose entries have all been sent starts again from the
        top (publishing the same file twice sends it twice; the hub keeps each event once).
        What the ledger holds for other extracts staged in full is forgotten here.
        """
        with self.outbox.transaction() as db:
            _forget_finished(db, self.outbox, extract_id)
            row = db.execute(
                "SELECT id, recorded_at, last_line, rows_read, rows_refused, rows_staged,"
                " manifest_parts, staged_in_full_at FROM staged_extracts WHERE extract_id = ?",
                (extract_id,),
            ).fetchone()
            if row is None:
                key = db.execute(
                    "INSERT INTO staged_extracts (extract_id, recorded_at) VALUES (?, ?)",
                    (extract_id, recorded_at.isoformat()),
                ).lastrowid
                assert key is not None
                return LedgerEntry(key, extract_id, recorded_at, StagingProgress(), False, False)
            staged_in_full = row[7] is not None
            if staged_in_full and not self.outbox.pending_of_extract(extract_id):
                _start_again(db, row[0], recorded_at)
                return LedgerEntry(row[0], extract_id, recorded_at, StagingProgress(), False, True)
            progress = StagingProgress(*row[2:7])
            earlier = dt.datetime.fromisoformat(row[1])
            return LedgerEntry(row[0], extract_id, earlier, progress, staged_in_full, False)

    def first_lines(self, extract: int, record_keys: Sequence[str]) -> dict[str, int]:
        """The line each of these records was staged from, for those already staged."""
        found: dict[str, int] = {}
        for start in range(0, len(record_keys), KEYS_PER_QUERY):
            keys = record_keys[start : start + KEYS_PER_QUERY]
            rows = self.outbox.connection.execute(
                "SELECT record_key, line FROM staged_records WHERE extract = ?"
                f" AND record_key IN ({', '.join('?' * len(keys))})",
                (extract, *keys),
            )
            found.update((str(key), int(line)) for key, line in rows)
        return found

    def commit(
        self,
        extract: int,
        entries: Sequence[OutboxEntry],
        records: Sequence[StagedRecord],
        refusals: Sequence[RowRefusal],
        progress: StagingProgress,
        *,
        in_full: bool = False,
    ) -> None:
        """Stage entries and record how far staging got, in one transaction."""
        with self.outbox.transaction() as db:
            insert_entries(db, entries)
            db.executemany(
                "INSERT INTO staged_records (extract, line, record_key, event_id)"
                " VALUES (?, ?, ?, ?)",
                [(extract, r.line, r.record_key, r.event_id) for r in records],
            )
            db.executemany(
                "INSERT INTO staged_refusals (extract, line, reason, message) VALUES (?, ?, ?, ?)",
                [(extract, r.line, r.reason, r.message) for r in refusals],
            )
            db.execute(
                "UPDATE staged_extracts SET last_line = ?, rows_read = ?, rows_refused = ?,"
                " rows_staged = ?, manifest_parts = ?, staged_in_full_at = ? WHERE id = ?",
                (
                    progress.last_line,
                    progress.rows_read,
                    progress.rows_refused,
                    progress.rows_staged,
                    progress.manifest_parts,
                    dt.datetime.now(dt.UTC).isoformat() if in_full else None,
                    extract,
                ),
            )

    def event_id_pages(self, extract: int, size: int) -> Iterator[list[str]]:
        """The extract's event ids in line order, `size` at a time; one empty page if none."""
        after, first = 0, True
        while True:
            rows = self.outbox.connection.execute(
                "SELECT line, event_id FROM staged_records WHERE extract = ? AND line > ?"
                " ORDER BY line LIMIT ?",
                (extract, after, size),
            ).fetchall()
            if rows or first:
                yield [str(event_id) for _, event_id in rows]
            if len(rows) < size:
                return
            after, first = int(rows[-1][0]), False

    def refusals(self, extract: int, limit: int | None = None) -> Iterator[RowRefusal]:
        """The extract's refused rows in line order, read a page at a time."""
        after, left = 0, limit
        while left is None or left > 0:
            page = 1_000 if left is None else min(left, 1_000)
            rows = self.outbox.connection.execute(
                "SELECT line, reason, message FROM staged_refusals WHERE extract = ? AND line > ?"
                " ORDER BY line LIMIT ?",
                (extract, after, page),
            ).fetchall()
            yield from (RowRefusal(int(line), reason, message) for line, reason, message in rows)
            if len(rows) < page:
                return
            after = int(rows[-1][0])
            left = None if left is None else left - len(rows)


def refusals_of(outbox: Outbox, extract_id: str) -> Iterator[RowRefusal]:
    """Every refused row of an extract the outbox's ledger still holds, in line order."""
    row = outbox.connection.execute(
        "SELECT id FROM staged_extracts WHERE extract_id = ?", (extract_id,)
    ).fetchone()
    return iter(()) if row is None else StagingLedger(outbox).refusals(int(row[0]))


def _forget_finished(db: sqlite3.Connection, outbox: Outbox, keep: str) -> None:
    """Records matter until an extract's manifest is staged; its refusals until every entry
    of it is sent, so that a run sending what is left can still list them."""
    finished = db.execute(
        "SELECT id, extract_id FROM staged_extracts WHERE staged_in_full_at IS NOT NULL"
        " AND extract_id <> ? AND (EXISTS (SELECT 1 FROM staged_records WHERE extract = id)"
        " OR EXISTS (SELECT 1 FROM staged_refusals WHERE extract = id))",
        (keep,),
    ).fetchall()
    for key, extract_id in finished:
        db.execute("DELETE FROM staged_records WHERE extract = ?", (key,))
        if not outbox.pending_of_extract(extract_id):
            db.execute("DELETE FROM staged_refusals WHERE extract = ?", (key,))


def _start_again(db: sqlite3.Connection, extract: int, recorded_at: dt.datetime) -> None:
    db.execute("DELETE FROM staged_records WHERE extract = ?", (extract,))
    db.execute("DELETE FROM staged_refusals WHERE extract = ?", (extract,))
    db.execute(
        "UPDATE staged_extracts SET recorded_at = ?, last_line = 0, rows_read = 0,"
        " rows_refused = 0, rows_staged = 0, manifest_parts = 0, staged_in_full_at = NULL"
        " WHERE id = ?",
        (recorded_at.isoformat(), extract),
    )
