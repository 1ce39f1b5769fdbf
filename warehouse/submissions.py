"""What one partner has sent the hub: its extracts and how many of their events arrived.

A partner's API token reads this and nothing of anyone else's (`GET /partner/...`):
manifests and counts only, never an event's payload or pseudonyms.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg


@dataclass(frozen=True)
class Submission:
    """One extract a partner published, by its manifest, with the events the hub recorded."""

    extract_id: str
    event_type: str
    published_at: dt.datetime
    rows_read: int
    rows_sent: int
    rows_refused: int
    received_at: dt.datetime
    events_recorded: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "extract_id": self.extract_id,
            "event_type": self.event_type,
            "published_at": self.published_at.isoformat(),
            "rows_read": self.rows_read,
            "rows_sent": self.rows_sent,
            "rows_refused": self.rows_refused,
            "received_at": self.received_at.isoformat(),
            "events_recorded": self.events_recorded,
        }


def submissions_of(conn: psycopg.Connection, party: str, limit: int = 100) -> list[Submission]:
    """The party's newest extract manifests, each with the events of it in the store."""
    rows = conn.execute(
        """
        SELECT m.extract_id::text, m.event_type, m.published_at, m.rows_read, m.rows_sent,
               m.rows_refused, m.received_at,
               (SELECT count(*) FROM events e
                 WHERE e.extract_id = m.extract_id AND e.source_system = m.source_system)
        FROM extract_manifests m
        WHERE m.source_system = %s
        ORDER BY m.published_at DESC, m.extract_id
        LIMIT %s
        """,
        (party, limit),
    ).fetchall()
    return [Submission(*row) for row in rows]


def events_by_type(conn: psycopg.Connection, party: str) -> dict[str, int]:
    """How many of the party's events the hub holds, by event type."""
    rows = conn.execute(
        "SELECT event_type, count(*) FROM events WHERE source_system = %s"
        " GROUP BY event_type ORDER BY event_type",
        (party,),
    ).fetchall()
    return {event_type: int(count) for event_type, count in rows}


def recorded_of(conn: psycopg.Connection, party: str, event_ids: Sequence[object]) -> list[str]:
    """Which of these events the hub has recorded from this party (receipts for its outbox)."""
    rows = conn.execute(
        "SELECT event_id FROM events WHERE event_id = ANY(%s) AND source_system = %s",
        (list(event_ids), party),
    ).fetchall()
    return sorted(str(row[0]) for row in rows)
