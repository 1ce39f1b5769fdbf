"""Messages the hub could not accept, kept with their reason so none vanishes."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg


def quarantine(
    conn: psycopg.Connection,
    rows: Sequence[tuple[str, int, int, str, str, bytes]],
    received_at: dt.datetime | None = None,
) -> int:
    """Record (topic, partition, offset, reason, detail, bytes); a re-delivery is recorded once.

    `received_at` is when the hub took the messages from the broker (the worker's stamp,
    on which their contract was judged, and will be again on release); without it, now."""
    return _insert(conn, "message", rows, received_at)


def quarantine_without_bytes(
    conn: psycopg.Connection,
    rows: Sequence[tuple[str, int, int, str, str, uuid.UUID | None]],
    received_at: dt.datetime | None = None,
) -> int:
    """Record (topic, partition, offset, reason, detail, event id) of refusals that keep no
    bytes (an opted-out subject's event): where from, why, when and which event, only."""
    return _insert(conn, "event_id", rows, received_at)


def _insert(
    conn: psycopg.Connection,
    kept: str,
    rows: Sequence[tuple[str, int, int, str, str, object]],
    received_at: dt.datetime | None,
) -> int:
    if not rows:
        return 0
    with conn.transaction(), conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO quarantined_messages"
            f' (topic, partition, "offset", reason, detail, {kept}, received_at)'
            " VALUES (%s, %s, %s, %s, %s, %s, coalesce(%s, now())) ON CONFLICT DO NOTHING",
            [(*row, received_at) for row in rows],
        )
    return len(rows)


def count_by_reason(conn: psycopg.Connection) -> dict[str, int]:
    """Messages still held, by reason (released ones no longer count)."""
    rows = conn.execute(
        "SELECT reason, count(*) FROM quarantined_messages WHERE released_at IS NULL"
        " GROUP BY reason ORDER BY reason"
    ).fetchall()
    return {reason: int(count) for reason, count in rows}


@dataclass(frozen=True)
class QuarantinedMessage:
    """Where a refused message came from and why; its bytes are not carried here."""

    id: int
    topic: str
    partition: int
    offset: int
    reason: str
    detail: str
    received_at: dt.datetime
    released_at: dt.datetime | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "reason": self.reason,
            "detail": self.detail,
            "received_at": self.received_at.isoformat(),
            "released_at": self.released_at.isoformat() if self.released_at else None,
        }


def recent(conn: psycopg.Connection, limit: int = 50) -> list[QuarantinedMessage]:
    rows = conn.execute(
        'SELECT id, topic, partition, "offset", reason, detail, received_at, released_at'
        " FROM quarantined_messages ORDER BY id DESC LIMIT %s",
        (limit,),
    ).fetchall()
    return [QuarantinedMessage(*row) for row in rows]


def held(
    conn: psycopg.Connection, message_id: int
) -> tuple[QuarantinedMessage, bytes | None] | None:
    """One quarantined message with its bytes, for a re-check (None in their place when
    none were kept or they were erased); None if there is no such id."""
    row = conn.execute(
        'SELECT id, topic, partition, "offset", reason, detail, received_at, released_at, message'
        " FROM quarantined_messages WHERE id = %s",
        (message_id,),
    ).fetchone()
    if row is None:
        return None
    return QuarantinedMessage(*row[:8]), None if row[8] is None else bytes(row[8])


def mark_checked(conn: psycopg.Connection, message_id: int, reason: str, detail: str) -> None:
    """Still refused: keep it, with the reason the latest check gave."""
    conn.execute(
        "UPDATE quarantined_messages SET checked_at = now(), reason = %s, detail = %s"
        " WHERE id = %s",
        (reason, detail, message_id),
    )


def keep_no_bytes(conn: psycopg.Connection, message_id: int, event_id: uuid.UUID | None) -> None:
    """Drop a held message's bytes, keeping where from, why, when and which event: a
    re-check found its subject opted out."""
    conn.execute(
        "UPDATE quarantined_messages SET message = NULL, event_id = %s WHERE id = %s",
        (event_id, message_id),
    )


def mark_released(conn: psycopg.Connection, message_id: int, event_id: str | None) -> None:
    conn.execute(
        "UPDATE quarantined_messages SET checked_at = now(), released_at = now(),"
        " released_event_id = %s WHERE id = %s",
        (event_id, message_id),
    )


def held_from(
    conn: psycopg.Connection, topic: str, limit: int = 100
) -> tuple[dict[str, int], list[QuarantinedMessage]]:
    """What one topic's publisher had refused: counts still held by reason, then the newest."""
    counts = conn.execute(
        "SELECT reason, count(*) FROM quarantined_messages"
        " WHERE topic = %s AND released_at IS NULL GROUP BY reason ORDER BY reason",
        (topic,),
    ).fetchall()
    rows = conn.execute(
        'SELECT id, topic, partition, "offset", reason, detail, received_at, released_at'
        " FROM quarantined_messages WHERE topic = %s ORDER BY id DESC LIMIT %s",
        (topic, limit),
    ).fetchall()
    return {reason: int(n) for reason, n in counts}, [QuarantinedMessage(*row) for row in rows]
