"""How recent each partner's data is: by event type, the feed (source system) that sends it,
the day of the latest event it describes and the day the hub received the latest.

The scorecard's tiles say how old the data behind each KPI is ("health data to 30 Nov"):
a figure is only as fresh as the feed it counts. One grouped read of the event store,
kept like a published document until the warehouse changes (`publication_cache.py`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import psycopg

from warehouse.publication_cache import published

LATEST_SQL = """
SELECT event_type, source_system, max(occurred_at), max(received_at)
FROM events GROUP BY event_type, source_system
"""


@dataclass(frozen=True)
class FeedDate:
    """The latest event of one type a feed sent: when it happened and when it arrived."""

    event_type: str
    feed: str  # the source system: education, health, socialcare, voice
    occurred_to: dt.date
    received_to: dt.date


def latest_events(conn: psycopg.Connection) -> list[FeedDate]:
    """Each event type and feed with the days of its latest event (kept while the warehouse
    is unchanged)."""
    document = published(conn, "feed_dates", (), _read)
    return [
        FeedDate(
            row["event_type"],
            row["feed"],
            dt.date.fromisoformat(row["occurred_to"]),
            dt.date.fromisoformat(row["received_to"]),
        )
        for row in document["latest"]
    ]


def _read(conn: psycopg.Connection) -> dict[str, Any]:
    rows = conn.execute(LATEST_SQL).fetchall()
    return {
        "latest": [
            {
                "event_type": event_type,
                "feed": feed,
                "occurred_to": occurred.date().isoformat(),
                "received_to": received.date().isoformat(),
            }
            for event_type, feed, occurred, received in sorted(rows)
        ]
    }
