"""The access log: every API call by a signed-in caller, appended, never changed.

Information governance reads it (`hub audit access`, `GET /audit/access`) to see who
took which figures when. The table's trigger refuses UPDATE, DELETE and TRUNCATE,
and the API's database role may only INSERT and SELECT it (migration 0010).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb


@dataclass(frozen=True)
class Access:
    """One call: who, which route with which parameters, what came back, how long it took."""

    token_name: str
    role: str
    party: str | None
    method: str
    route: str
    parameters: Mapping[str, Any]
    status: int
    duration_ms: float
    rows_returned: int | None = None
    cells_returned: int | None = None
    cells_suppressed: int | None = None
    at: dt.datetime | None = None  # set by the warehouse when recorded

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat() if self.at else None,
            "token_name": self.token_name,
            "role": self.role,
            "party": self.party,
            "method": self.method,
            "route": self.route,
            "parameters": dict(self.parameters),
            "status": self.status,
            "rows_returned": self.rows_returned,
            "cells_returned": self.cells_returned,
            "cells_suppressed": self.cells_suppressed,
            "duration_ms": round(self.duration_ms, 1),
        }


def record_access(conn: psycopg.Connection, access: Access) -> None:
    conn.execute(
        "INSERT INTO access_log (token_name, role, party, method, route, parameters, status,"
        " rows_returned, cells_returned, cells_suppressed, duration_ms)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            access.token_name,
            access.role,
            access.party,
            access.method,
            access.route,
            Jsonb(dict(access.parameters)),
            access.status,
            access.rows_returned,
            access.cells_returned,
            access.cells_suppressed,
            access.duration_ms,
        ),
    )


def read_access(
    conn: psycopg.Connection,
    since: dt.datetime | None = None,
    token_name: str | None = None,
    limit: int = 1000,
) -> list[Access]:
    """Calls at or after `since`, by one token if named, newest first."""
    rows = conn.execute(
        "SELECT token_name, role, party, method, route, parameters, status, duration_ms,"
        " rows_returned, cells_returned, cells_suppressed, at FROM access_log"
        " WHERE (%(since)s::timestamptz IS NULL OR at >= %(since)s)"
        " AND (%(token)s::text IS NULL OR token_name = %(token)s)"
        " ORDER BY at DESC, id DESC LIMIT %(limit)s",
        {"since": since, "token": token_name, "limit": limit},
    ).fetchall()
    return [Access(*row) for row in rows]


def suppressed_in(document: Mapping[str, Any]) -> int | None:
    """Cells a published document says it suppressed, if it says so.

    Disclosure control marks what it withheld; a document carrying
    `{"disclosure": {"suppressed_cells": N}}` (or `suppressed_cells` at its top level)
    has N recorded in the log, and one that does not leaves the column empty.
    """
    for holder in (document.get("disclosure"), document):
        if isinstance(holder, Mapping):
            value = holder.get("suppressed_cells")
            if isinstance(value, int) and not isinstance(value, bool):
                return value
    return None
