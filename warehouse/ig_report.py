"""The monthly IG report's counts, gathered from the warehouse for `streams/ig_report.py`.

Every query counts: events by party and type, refusals by topic and reason, deletion
records, the events in effect that fed each figure, and the access log's calls. None
reads a payload, a pseudonym or an event id, so the API's role (`hub_api`) can run them
with the columns migration 0013 grants. `hub audit report` and `GET /audit/report` both
call `ig_report_document`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg

from contracts.loading import shipped_contracts
from streams.ig_report import (
    Accepted,
    Erasure,
    Extract,
    Fed,
    Reads,
    Refused,
    report_document,
)
from warehouse.event_store import in_effect_sql


class UnknownContract(LookupError):
    """No contract of that id is shipped, and no event or deletion record names it."""


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The month of `month` as [start, end) instants in UTC."""
    start = dt.datetime(month.year, month.month, 1, tzinfo=dt.UTC)
    following = dt.datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=dt.UTC)
    return start, following


def contract_known(conn: psycopg.Connection, contract_id: str) -> bool:
    if contract_id in shipped_contracts():
        return True
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM events WHERE contract_id = %(c)s)"
        " OR EXISTS (SELECT 1 FROM deletion_records WHERE contract_id = %(c)s)",
        {"c": contract_id},
    ).fetchone()
    return bool(row and row[0])


def accepted(
    conn: psycopg.Connection, contract_id: str, start: dt.datetime, end: dt.datetime
) -> list[Accepted]:
    """Events of the contract stored in the month (tombstones too: they were received)."""
    rows = conn.execute(
        "SELECT source_system, event_type, count(*) FROM events"
        " WHERE contract_id = %s AND received_at >= %s AND received_at < %s"
        " GROUP BY source_system, event_type",
        (contract_id, start, end),
    ).fetchall()
    return [Accepted(party, kind, int(n)) for party, kind, n in rows]


def refused(conn: psycopg.Connection, start: dt.datetime, end: dt.datetime) -> list[Refused]:
    """Messages quarantined in the month, by topic and reason (released later or not)."""
    rows = conn.execute(
        "SELECT topic, reason, count(*) FROM quarantined_messages"
        " WHERE received_at >= %s AND received_at < %s GROUP BY topic, reason",
        (start, end),
    ).fetchall()
    return [Refused(topic, reason, int(n)) for topic, reason, n in rows]


def erasure_records(
    conn: psycopg.Connection, contract_id: str, start: dt.datetime, end: dt.datetime
) -> list[Erasure]:
    rows = conn.execute(
        "SELECT kind, events_erased, by_event_type, quarantined_erased FROM deletion_records"
        " WHERE contract_id = %s AND erased_at >= %s AND erased_at < %s ORDER BY erasure_id",
        (contract_id, start, end),
    ).fetchall()
    return [
        Erasure(kind, int(n), {str(k): int(v) for k, v in by_type.items()}, int(q))
        for kind, n, by_type, q in rows
    ]


def fed(conn: psycopg.Connection, end: dt.datetime) -> list[Fed]:
    """Events in effect at `end`: received before it, not withdrawn or superseded by then,
    and not erased (an erased event is out of every figure, as at any point); counted by
    type, contract, occurred month (UTC) and extract."""
    row = conn.execute("SELECT max(sequence) FROM events WHERE received_at < %s", (end,)).fetchone()
    last = row[0] if row else None
    if last is None:
        return []
    rows = conn.execute(
        "SELECT e.event_type, e.contract_id,"
        " date_trunc('month', e.occurred_at AT TIME ZONE 'UTC')::date AS month,"
        " e.extract_id::text, count(*) FROM events e"
        " WHERE e.sequence <= %(last)s AND e.received_at < %(end)s"
        f" AND {in_effect_sql('e', '%(last)s')}"
        " GROUP BY e.event_type, e.contract_id, month, e.extract_id",
        {"last": last, "end": end},
    ).fetchall()
    return [
        Fed(kind, contract, month, extract, int(n)) for kind, contract, month, extract, n in rows
    ]


def manifests(conn: psycopg.Connection, extract_ids: list[str]) -> dict[str, Extract]:
    rows = conn.execute(
        "SELECT extract_id::text, source_system, published_at FROM extract_manifests"
        " WHERE extract_id = ANY(%s::uuid[])",
        (extract_ids,),
    ).fetchall()
    return {extract: Extract(party, published) for extract, party, published in rows}


def reads(conn: psycopg.Connection, start: dt.datetime, end: dt.datetime) -> list[Reads]:
    """The access log's calls in the month, by token and route (`GET /scorecard`)."""
    rows = conn.execute(
        "SELECT token_name, role, party, method || ' ' || route, count(*),"
        " count(*) FILTER (WHERE status >= 400), coalesce(sum(rows_returned), 0),"
        " coalesce(sum(cells_returned), 0), coalesce(sum(cells_suppressed), 0)"
        " FROM access_log WHERE at >= %s AND at < %s"
        " GROUP BY token_name, role, party, method, route",
        (start, end),
    ).fetchall()
    return [
        Reads(name, role, party, route, int(calls), int(bad), int(r), int(c), int(s))
        for name, role, party, route, calls, bad, r, c, s in rows
    ]


def ig_report_document(
    conn: psycopg.Connection, contract_id: str, month: dt.date
) -> dict[str, Any]:
    """The IG report of one contract's month, read in one snapshot; `UnknownContract` if the
    hub has never heard of the contract."""
    start, end = month_bounds(month)
    with conn.transaction():
        if conn.autocommit:  # this transaction is the snapshot (not a savepoint in another)
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        if not contract_known(conn, contract_id):
            raise UnknownContract(contract_id)
        feeding = fed(conn, end)
        extract_ids = sorted({row.extract_id for row in feeding if row.extract_id})
        return report_document(
            contract_id,
            start.date(),
            accepted(conn, contract_id, start, end),
            refused(conn, start, end),
            erasure_records(conn, contract_id, start, end),
            feeding,
            manifests(conn, extract_ids),
            reads(conn, start, end),
        )
