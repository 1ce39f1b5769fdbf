"""Flows month by month: a contract's accepted events per partner, and refused messages.

The IG report (`ig_report.py`) details one contract's month; the dashboard's IG page also
shows the months around it, so an auditor sees a partner's feed stop or jump at a glance.
Counts only, read through the API's column grants.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import psycopg

from warehouse.ig_report import month_bounds


@dataclass(frozen=True)
class MonthFlows:
    """One month (YYYY-MM, UTC): events accepted under the contract by party, and messages
    refused (quarantined) on any partner's topic."""

    month: str
    accepted_by_party: dict[str, int]
    refused: int

    @property
    def accepted(self) -> int:
        return sum(self.accepted_by_party.values())


def months_back(last: dt.date, count: int) -> list[dt.date]:
    """The first days of `count` months ending with `last`'s, oldest first."""
    index = last.year * 12 + last.month - 1
    return [dt.date(i // 12, i % 12 + 1, 1) for i in range(index - count + 1, index + 1)]


def flows_by_month(
    conn: psycopg.Connection, contract_id: str, last: dt.date, count: int = 12
) -> list[MonthFlows]:
    """The `count` months to `last`'s, oldest first (months with nothing are shown as 0)."""
    months = months_back(last, count)
    start, end = month_bounds(months[0])[0], month_bounds(months[-1])[1]
    accepted: dict[str, dict[str, int]] = defaultdict(dict)
    for month, party, events in conn.execute(
        "SELECT to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM'), source_system, count(*)"
        " FROM events WHERE contract_id = %s AND received_at >= %s AND received_at < %s"
        " GROUP BY 1, 2",
        (contract_id, start, end),
    ).fetchall():
        accepted[month][party] = int(events)
    refused: dict[str, int] = dict(
        conn.execute(
            "SELECT to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM'), count(*)"
            " FROM quarantined_messages WHERE received_at >= %s AND received_at < %s GROUP BY 1",
            (start, end),
        ).fetchall()
    )
    keys = [month.isoformat()[:7] for month in months]
    return [
        MonthFlows(key, dict(sorted(accepted[key].items())), int(refused.get(key, 0)))
        for key in keys
    ]
