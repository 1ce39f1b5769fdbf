"""Messages the hub could not accept, kept with their reason so none vanishes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg


def quarantine(
    conn: psycopg.Connection, rows: Sequence[tuple[str, int, int, str, str, bytes]]
) -> int:
    """Record (topic, partition, offset, reason, detail, bytes); a re-delivery is recorded once."""
    if not rows:
        return 0
    with conn.transaction(), conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO quarantined_messages"
            ' (topic, partition, "offset", reason, detail, message)'
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            rows,
        )
    return len(rows)


def count_by_reason(conn: psycopg.Connection) -> dict[str, int]:
    rows = conn.execute(
        "SELECT reason, count(*) FROM quarantined_messages GROUP BY reason ORDER BY reason"
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

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "reason": self.reason,
            "detail": self.detail,
            "received_at": self.received_at.isoformat(),
        }


def recent(conn: psycopg.Connection, limit: int = 50) -> list[QuarantinedMessage]:
    rows = conn.execute(
        'SELECT id, topic, partition, "offset", reason, detail, received_at'
        " FROM quarantined_messages ORDER BY id DESC LIMIT %s",
        (limit,),
    ).fetchall()
    return [QuarantinedMessage(*row) for row in rows]
