"""Erasure that keeps the proof: events turned into tombstones, under a deletion record.

The only path that erases. A tombstone keeps its event id, type and the content digest
the hash chain covers, so `verify_chain` still holds over it; its payload and pseudonyms
are gone. The deletion record says how many events of which type were erased, under
which rule and when, never which. Quarantined messages whose bytes carry an erased
pseudonym lose their bytes too. The projections still count the erased events until
they are rebuilt (`pipelines.replay.replay(..., apply=True)`): the caller does that.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

import psycopg
from psycopg.types.json import Jsonb

from warehouse.event_store import APPEND_LOCK

ErasureKind = Literal["retention", "opt_out"]


@dataclass(frozen=True)
class DeletionRecord:
    """What one erasure did, in counts only."""

    erasure_id: int
    erased_at: dt.datetime
    kind: str
    contract_id: str
    rule: str
    events_erased: int
    by_event_type: Mapping[str, int]
    quarantined_erased: int


def erase(
    conn: psycopg.Connection,
    event_ids: Iterable[uuid.UUID],
    *,
    kind: ErasureKind,
    contract_id: str,
    rule: str,
    at: dt.datetime,
    also_pseudonyms: Iterable[str] = (),
) -> DeletionRecord:
    """Erase these events, every other revision of their records with them, in one
    transaction, and record it. Events already erased are left as they are.

    Quarantined messages lose their bytes when they carry a pseudonym of an erased event
    or one of `also_pseudonyms` (an opted-out subject whose only messages were refused)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK,))
        rows = _closed_over_records(conn, event_ids)
        by_type = Counter(str(row[1]) for row in rows)
        pseudonyms = sorted({str(p) for row in rows for p in row[2:] if p} | set(also_pseudonyms))
        quarantined = quarantined_with(conn, pseudonyms)
        recorded = conn.execute(
            "INSERT INTO deletion_records (erased_at, kind, contract_id, rule, events_erased,"
            " by_event_type, quarantined_erased) VALUES (%s, %s, %s, %s, %s, %s, %s)"
            " RETURNING erasure_id, erased_at",
            (at, kind, contract_id, rule, len(rows), Jsonb(dict(by_type)), len(quarantined)),
        ).fetchone()
        assert recorded is not None  # INSERT ... RETURNING gives its row
        erasure_id, erased_at = int(recorded[0]), recorded[1]
        conn.execute(
            "UPDATE events SET payload = NULL, nhs_pseudonym = NULL, upn_pseudonym = NULL,"
            " erased_at = %s, erasure_id = %s WHERE event_id = ANY(%s)",
            (at, erasure_id, [row[0] for row in rows]),
        )
        conn.execute(
            "UPDATE quarantined_messages SET message = NULL, erased_at = %s WHERE id = ANY(%s)",
            (at, quarantined),
        )
    return DeletionRecord(
        erasure_id,
        erased_at,
        kind,
        contract_id,
        rule,
        len(rows),
        dict(sorted(by_type.items())),
        len(quarantined),
    )


def _closed_over_records(
    conn: psycopg.Connection, event_ids: Iterable[uuid.UUID]
) -> list[tuple[uuid.UUID, str, str | None, str | None]]:
    """The live events of every record these events belong to: (id, type, pseudonyms)."""
    rows = conn.execute(
        "SELECT event_id, event_type, nhs_pseudonym, upn_pseudonym FROM events"
        " WHERE erased_at IS NULL AND coalesce(record_id, event_id) IN ("
        "  SELECT coalesce(record_id, event_id) FROM events WHERE event_id = ANY(%s))",
        (list(set(event_ids)),),
    ).fetchall()
    return [(row[0], str(row[1]), row[2], row[3]) for row in rows]


def would_erase(conn: psycopg.Connection, event_ids: Iterable[uuid.UUID]) -> dict[str, int]:
    """What `erase` would erase now, by event type (a dry run changes nothing)."""
    return dict(sorted(Counter(row[1] for row in _closed_over_records(conn, event_ids)).items()))


def quarantined_with(conn: psycopg.Connection, pseudonyms: list[str]) -> list[int]:
    """Quarantined messages still holding bytes that carry any of these pseudonyms (Avro
    and JSON keep a string's UTF-8 bytes as they are), held or released."""
    if not pseudonyms:
        return []
    rows = conn.execute(
        "SELECT id FROM quarantined_messages q WHERE q.message IS NOT NULL AND EXISTS ("
        " SELECT 1 FROM unnest(%s::text[]) p"
        " WHERE position(convert_to(p, 'UTF8') IN q.message) > 0)",
        (pseudonyms,),
    ).fetchall()
    return [int(row[0]) for row in rows]


def deletion_records(conn: psycopg.Connection) -> list[DeletionRecord]:
    """Every erasure, oldest first."""
    rows = conn.execute(
        "SELECT erasure_id, erased_at, kind, contract_id, rule, events_erased, by_event_type,"
        " quarantined_erased FROM deletion_records ORDER BY erasure_id"
    ).fetchall()
    return [DeletionRecord(*row) for row in rows]
