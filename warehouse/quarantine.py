"""Messages the hub could not accept, kept with their reason so none vanishes."""

from __future__ import annotations

from collections.abc import Sequence

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
