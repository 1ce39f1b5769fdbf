"""The append-only event store: new events appended to a hash chain, manifests recorded.

`append_new` appends the events of a batch not yet stored (each row carrying the hash
of the one before it) and returns them; events already in the store are skipped by
`event_id`, so a re-delivered or re-published batch changes nothing. An event revising
a record already stored (a correction or a withdrawal) is appended like any other, and
the supersession it causes is recorded in `event_supersessions` (the rule is
`streams.revisions`). It stores and nothing else: the caller's unit of work
(`streams/worker/unit_of_work.py`) applies the projections to what it returns, in the
same transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from schemas.envelope import Event
from schemas.manifest import ExtractManifest
from streams.revisions import Revision, supersessions

GENESIS_HASH = "0" * 64
APPEND_LOCK = 7_204_311  # advisory lock id serialising appends to the hash chain


class EventStoreRefused(RuntimeError):
    """PostgreSQL refused rows of a batch; the message names the kind of error only."""


def _instant(value: dt.datetime) -> str:
    """A timestamp as the chain hashes it: in UTC, the form `timestamptz` gives back.

    Events decoded from Avro already carry UTC, so this changes no stored hash; it makes
    an instant given with another offset hash the same as the row that stores it. A
    naive timestamp is stored as UTC (every connection sets the session's time zone to
    UTC), so it is hashed as UTC too, and the row verifies when read back.
    """
    instant = value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return instant.isoformat()


def canonical_bytes(event: Event) -> bytes:
    """The event as canonical JSON: what the hash chain protects.

    The record id is in it when the event has one (version 2 on), so which record an
    event revises is covered by the chain; a version 1 event hashes as it always did.
    """
    document: dict[str, object] = {
        "event_id": str(event.event_id),
        "event_type": event.event_type,
        "schema_version": event.schema_version,
        "schema_fingerprint": event.schema_fingerprint,
        "occurred_at": _instant(event.occurred_at),
        "recorded_at": _instant(event.recorded_at),
        "source_system": event.source_system,
        "contract_id": event.contract_id,
        "area_code": event.area_code,
        "extract_id": str(event.extract_id) if event.extract_id else None,
        "nhs_pseudonym": event.nhs_pseudonym,
        "upn_pseudonym": event.upn_pseudonym,
        "payload": event.payload,
    }
    if event.record_id is not None:
        document["record_id"] = str(event.record_id)
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode("utf-8")


def content_digest(event: Event) -> str:
    """The digest of the event's canonical bytes: what a row keeps when it is erased."""
    return hashlib.sha256(canonical_bytes(event)).hexdigest()


def chain_hash(previous_hash: str, digest: str) -> str:
    """A row's hash: the previous row's hash and this row's content digest, linked.

    The chain covers the digest, not the bytes, so a tombstone (payload and pseudonyms
    erased, digest kept) still links the rows before and after it (decision 0004).
    """
    return hashlib.sha256((previous_hash + digest).encode("ascii")).hexdigest()


def _new_events(conn: psycopg.Connection, events: Sequence[Event]) -> list[Event]:
    """Events not yet in the store, first occurrence kept when a batch repeats an id."""
    unique: dict[uuid.UUID, Event] = {}
    for event in events:
        unique.setdefault(event.event_id, event)
    if not unique:
        return []
    present = {
        row[0]
        for row in conn.execute(
            "SELECT event_id FROM events WHERE event_id = ANY(%s)", (list(unique),)
        )
    }
    return [event for event_id, event in unique.items() if event_id not in present]


def _append(conn: psycopg.Connection, events: Sequence[Event]) -> None:
    row = conn.execute("SELECT row_hash FROM events ORDER BY sequence DESC LIMIT 1").fetchone()
    previous = row[0] if row else GENESIS_HASH
    rows = []
    for event in events:
        digest = content_digest(event)
        current = chain_hash(previous, digest)
        rows.append(
            (
                event.event_id,
                event.event_type,
                event.schema_version,
                event.schema_fingerprint,
                event.occurred_at,
                event.recorded_at,
                event.source_system,
                event.contract_id,
                event.area_code,
                event.extract_id,
                event.nhs_pseudonym,
                event.upn_pseudonym,
                Jsonb(event.payload),
                event.record_id,
                digest,
                previous,
                current,
            )
        )
        previous = current
    columns = (
        "event_id, event_type, schema_version, schema_fingerprint, occurred_at, recorded_at,"
        " source_system, contract_id, area_code, extract_id, nhs_pseudonym, upn_pseudonym,"
        " payload, record_id, content_digest, previous_hash, row_hash"
    )
    # COPY keeps the rows' order, so sequence numbers follow the hash chain
    try:
        with conn.cursor() as cursor, cursor.copy(f"COPY events ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    except psycopg.DataError as error:
        # PostgreSQL's diagnostic quotes the offending value: say which kind, not what
        raise EventStoreRefused(
            f"the event store refused a batch of {len(rows)} events"
            f" ({type(error).__name__}, SQLSTATE {error.sqlstate})"
        ) from None


def record_manifests(conn: psycopg.Connection, manifests: Sequence[ExtractManifest]) -> None:
    """Record what producers say they sent (a manifest received again replaces its figures)."""
    for manifest in manifests:
        conn.execute(
            """
            INSERT INTO extract_manifests (extract_id, event_type, source_system, contract_id,
                area_code, published_at, rows_read, rows_sent, rows_refused)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT (extract_id) DO UPDATE SET
                published_at = EXCLUDED.published_at, rows_read = EXCLUDED.rows_read,
                rows_sent = EXCLUDED.rows_sent, rows_refused = EXCLUDED.rows_refused,
                received_at = now()
            """,
            (
                manifest.extract_id,
                manifest.event_type,
                manifest.source_system,
                manifest.contract_id,
                manifest.area_code,
                manifest.published_at,
                manifest.rows_read,
                manifest.rows_sent,
                manifest.rows_refused,
            ),
        )
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO extract_manifest_events (extract_id, event_id) VALUES (%s, %s) "
                "ON CONFLICT DO NOTHING",
                [(manifest.extract_id, event_id) for event_id in manifest.event_ids],
            )


def append_new(conn: psycopg.Connection, events: Sequence[Event]) -> list[Event]:
    """Append the events not yet stored, in order, and return them.

    Call it inside a transaction: it takes the append lock, which serialises writers of
    the hash chain until that transaction ends.
    """
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK,))
    new = _new_events(conn, events)
    if new:
        _append(conn, new)
        _record_supersessions(conn, new)
    return new


# the columns an `Event` is built from, in its fields' order
EVENT_COLUMNS = (
    "event_id, event_type, schema_version, schema_fingerprint, occurred_at, recorded_at,"
    " source_system, contract_id, area_code, extract_id, nhs_pseudonym, upn_pseudonym, payload,"
    " record_id"
)


def revisions_of(
    conn: psycopg.Connection, records: Iterable[uuid.UUID], up_to: int | None = None
) -> list[Revision]:
    """Every stored revision of these records (up to a sequence), superseded or not;
    erased ones are gone."""
    keys = list(set(records))
    if not keys:
        return []
    rows = conn.execute(
        f"SELECT sequence, {EVENT_COLUMNS} FROM events"
        " WHERE coalesce(record_id, event_id) = ANY(%(keys)s) AND erased_at IS NULL"
        " AND (%(limit)s::bigint IS NULL OR sequence <= %(limit)s)",
        {"keys": keys, "limit": up_to},
    ).fetchall()
    return [Revision(int(row[0]), Event(*row[1:])) for row in rows]


def in_effect_sql(alias: str, limit: str) -> str:
    """SQL true for a row of `events` (as `alias`) in effect as at the sequence `limit`
    (a placeholder; NULL means now): not erased, not a withdrawal, not superseded by then.

    An erased row is out of effect at every point: its content is gone, so no view,
    as at any sequence, can count it."""
    return (
        f"{alias}.erased_at IS NULL AND {alias}.event_type <> 'RecordWithdrawn' AND NOT EXISTS ("
        f"SELECT 1 FROM public.event_supersessions s WHERE s.event_id = {alias}.event_id"
        f" AND ({limit}::bigint IS NULL OR s.sequence <= {limit}))"
    )


def earlier_revisions(
    conn: psycopg.Connection, events: Sequence[Event], up_to: int | None = None
) -> list[Event]:
    """The other stored, unerased revisions of these events' records (up to a sequence):
    none at all for a record sent once, which is nearly every record."""
    if not events:
        return []
    rows = conn.execute(
        f"SELECT {EVENT_COLUMNS} FROM events"
        " WHERE coalesce(record_id, event_id) = ANY(%(keys)s) AND NOT event_id = ANY(%(ids)s)"
        " AND erased_at IS NULL"
        " AND (%(limit)s::bigint IS NULL OR sequence <= %(limit)s)",
        {
            "keys": list({event.record_key for event in events}),
            "ids": [event.event_id for event in events],
            "limit": up_to,
        },
    ).fetchall()
    return [Event(*row) for row in rows]


def _record_supersessions(conn: psycopg.Connection, new: Sequence[Event]) -> None:
    """Index the supersessions the new events cause, in the same transaction.

    Only records with more than one revision can have any: those are read back whole
    (with sequence numbers), and the supersessions their arrivals imply are inserted;
    those already recorded stay.
    """
    in_batch = Counter(event.record_key for event in new)
    revised = {e.record_key for e in earlier_revisions(conn, new)}
    revised |= {key for key, revisions in in_batch.items() if revisions > 1}
    if not revised:
        return
    found = supersessions(revisions_of(conn, revised))
    if not found:
        return
    with conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO event_supersessions (event_id, record_key, superseded_by, sequence)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT (event_id) DO NOTHING",
            [(s.event_id, s.record_key, s.superseded_by, s.sequence) for s in found],
        )


@dataclass(frozen=True)
class ChainBreak:
    """The first row at which the store no longer holds, and how it fails.

    `sequence` is 0 for a deletion record no tombstone carries (there is no row to name).
    """

    sequence: int
    kind: str

    def describe(self) -> str:
        return f"at sequence {self.sequence}: {BREAK_KINDS[self.kind]}"


BREAK_KINDS = {
    "link_broken": "the row does not link to the row before it"
    " (a row deleted, inserted or reordered)",
    "content_changed": "the row's content no longer gives its stored digest (content edited)",
    "hash_changed": "the row's hash is not the hash of its link and digest (hash edited)",
    "erasure_unrecorded": "an erased row has no matching deletion record,"
    " or a deletion record's count differs from its erased rows",
}


def verify_chain(conn: psycopg.Connection) -> ChainBreak | None:
    """The first row at which the store does not hold, or None if every row does.

    A row holds when it carries the hash of the row before it (the genesis hash for the
    first), its hash is recomputed from that link and its stored content digest, and (while
    live) its content still gives that digest. A tombstone keeps only its digest, so the
    chain runs through it; it must name a deletion record, and each deletion record must
    count exactly the tombstones naming it. So an edited, deleted, inserted or reordered
    row is found, unless the rows after it were rehashed too: the chain shows tampering,
    it does not prevent it (decision 0004).
    """
    previous = GENESIS_HASH
    erased: Counter[int] = Counter()
    first_erased: dict[int, int] = {}
    with conn.transaction():
        recorded: dict[int, int] = dict(
            conn.execute("SELECT erasure_id, events_erased FROM deletion_records").fetchall()
        )
        with conn.cursor(name="verify_chain") as cursor:
            cursor.itersize = 2000
            cursor.execute(
                "SELECT sequence, previous_hash, row_hash, content_digest, erased_at, erasure_id,"
                f" {EVENT_COLUMNS} FROM events ORDER BY sequence"
            )
            for sequence, previous_hash, row_hash, digest, erased_at, erasure, *content in cursor:
                kind = _row_break(previous, previous_hash, row_hash, digest, erased_at, content)
                if kind is None and erased_at is not None and erasure not in recorded:
                    kind = "erasure_unrecorded"
                if kind is not None:
                    return ChainBreak(int(sequence), kind)
                if erased_at is not None:
                    erased[erasure] += 1
                    first_erased.setdefault(erasure, int(sequence))
                previous = row_hash
    miscounted = [
        first_erased.get(erasure, 0)
        for erasure, count in recorded.items()
        if erased[erasure] != count
    ]
    return ChainBreak(min(miscounted), "erasure_unrecorded") if miscounted else None


def _row_break(
    previous: str,
    previous_hash: str,
    row_hash: str,
    digest: str,
    erased_at: dt.datetime | None,
    content: Sequence[Any],
) -> str | None:
    """How one row fails to hold after the row before it, if it does."""
    if previous_hash != previous:
        return "link_broken"
    if erased_at is None and content_digest(Event(*content)) != digest:
        return "content_changed"
    if row_hash != chain_hash(previous, digest):
        return "hash_changed"
    return None
