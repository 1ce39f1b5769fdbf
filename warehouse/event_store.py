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


def chain_hash(previous_hash: str, event: Event) -> str:
    return hashlib.sha256(previous_hash.encode("ascii") + canonical_bytes(event)).hexdigest()


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
        current = chain_hash(previous, event)
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
                previous,
                current,
            )
        )
        previous = current
    columns = (
        "event_id, event_type, schema_version, schema_fingerprint, occurred_at, recorded_at,"
        " source_system, contract_id, area_code, extract_id, nhs_pseudonym, upn_pseudonym,"
        " payload, record_id, previous_hash, row_hash"
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
    """Every stored revision of these records (up to a sequence), superseded or not."""
    keys = list(set(records))
    if not keys:
        return []
    rows = conn.execute(
        f"SELECT sequence, {EVENT_COLUMNS} FROM events"
        " WHERE coalesce(record_id, event_id) = ANY(%(keys)s)"
        " AND (%(limit)s::bigint IS NULL OR sequence <= %(limit)s)",
        {"keys": keys, "limit": up_to},
    ).fetchall()
    return [Revision(int(row[0]), Event(*row[1:])) for row in rows]


def in_effect_sql(alias: str, limit: str) -> str:
    """SQL true for a row of `events` (as `alias`) in effect as at the sequence `limit`
    (a placeholder; NULL means now): not a withdrawal, not superseded by then."""
    return (
        f"{alias}.event_type <> 'RecordWithdrawn' AND NOT EXISTS ("
        f"SELECT 1 FROM public.event_supersessions s WHERE s.event_id = {alias}.event_id"
        f" AND ({limit}::bigint IS NULL OR s.sequence <= {limit}))"
    )


def earlier_revisions(
    conn: psycopg.Connection, events: Sequence[Event], up_to: int | None = None
) -> list[Event]:
    """The other stored revisions of these events' records (up to a sequence): none at all
    for a record sent once, which is nearly every record."""
    if not events:
        return []
    rows = conn.execute(
        f"SELECT {EVENT_COLUMNS} FROM events"
        " WHERE coalesce(record_id, event_id) = ANY(%(keys)s) AND NOT event_id = ANY(%(ids)s)"
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


def verify_chain(conn: psycopg.Connection) -> int | None:
    """The sequence of the first row whose hash does not hold, or None if every row's does.

    A row holds when it carries the hash of the row before it (the genesis hash for the
    first) and its own hash is recomputed from its stored content and that link. So an
    edited, deleted, inserted or reordered row is found, unless the rows after it were
    rehashed too: the chain shows tampering, it does not prevent it (decision 0004).
    """
    previous = GENESIS_HASH
    with conn.transaction(), conn.cursor(name="verify_chain") as cursor:
        cursor.itersize = 2000
        cursor.execute(
            f"SELECT sequence, previous_hash, row_hash, {EVENT_COLUMNS}"
            " FROM events ORDER BY sequence"
        )
        for sequence, previous_hash, row_hash, *content in cursor:
            if previous_hash != previous or row_hash != chain_hash(previous, Event(*content)):
                return int(sequence)
            previous = row_hash
    return None
