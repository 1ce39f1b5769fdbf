"""The API's routes: plain functions over the warehouse's read models.

Each reads what it serves through the request's connection (`Warehouse`) and tells the
access log what it returned (`returned`). Which roles may call each one is declared
beside it in `warehouse/api/app.py`, never here.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import HTTPException, Query, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from schemas.topics import SOURCE_BY_SYSTEM
from warehouse.access_log import read_access
from warehouse.api.access import returned
from warehouse.api.models import ReceiptsQuery
from warehouse.api.policy import SignedIn, Warehouse
from warehouse.jsna import jsna_document
from warehouse.quarantine import held_from
from warehouse.scorecard import scorecard_document
from warehouse.submissions import events_by_type, recorded_of, submissions_of
from warehouse.tokens import list_tokens

MONTH = r"^20\d{2}-(0[1-9]|1[0-2])$"  # 2000-01 to 2099-12
LONGEST_SPAN_MONTHS = 240
TOKEN_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
EARLIEST = dt.date(1900, 1, 1)  # dates the JSNA's month arithmetic and the log can hold
LATEST = dt.date(2999, 12, 31)

Limit = Annotated[int, Query(ge=1, le=1000, description="At most this many, newest first.")]


def _within_dates(name: str, day: dt.date | None) -> None:
    if day is not None and not EARLIEST <= day <= LATEST:
        raise HTTPException(422, f"{name}: must be between {EARLIEST} and {LATEST}")


def health(conn: Warehouse) -> dict[str, str]:
    """Whether the hub answers: the status only."""
    conn.execute("SELECT 1")
    return {"status": "ok"}


def scorecard(
    request: Request,
    conn: Warehouse,
    period_from: Annotated[
        str | None,
        Query(alias="from", pattern=MONTH, description="First month, YYYY-MM (2000 to 2099)."),
    ] = None,
    period_to: Annotated[
        str | None,
        Query(alias="to", pattern=MONTH, description="Last month, YYYY-MM (2000 to 2099)."),
    ] = None,
) -> dict[str, Any]:
    """The balanced scorecard: the same document as `hub scorecard --format json`."""
    first, last = _month(period_from), _month(period_to)
    if first and last:
        if first > last:
            raise HTTPException(422, f"from: {period_from} is after to: {period_to}")
        if (last.year - first.year) * 12 + last.month - first.month >= LONGEST_SPAN_MONTHS:
            raise HTTPException(422, f"from, to: at most {LONGEST_SPAN_MONTHS // 12} years apart")
    document = scorecard_document(conn, first, last)
    kpis = document["kpis"]
    figures = len(kpis) + sum(len(kpi.get("trend", ())) for kpi in kpis)
    returned(request, len(kpis), figures, document)
    return document


def jsna(
    request: Request,
    conn: Warehouse,
    as_at: Annotated[
        dt.date | None, Query(description="A date (YYYY-MM-DD); the month end on or before it.")
    ] = None,
) -> dict[str, Any]:
    """The JSNA aggregates as at a date (default today), as `hub jsna --format json` gives."""
    _within_dates("as_at", as_at)
    document = jsna_document(conn, as_at or dt.date.today())
    cells = len(document["cells"])
    returned(request, cells, cells, document)
    return document


def receipts(
    request: Request, conn: Warehouse, caller: SignedIn, query: ReceiptsQuery
) -> dict[str, list[str]]:
    """Which of these events, of the caller's own, the hub has recorded: the outbox may forget
    them. Another party's events are never confirmed."""
    recorded = recorded_of(conn, caller.party or "", query.event_ids)
    returned(request, len(recorded))
    return {"recorded": recorded}


def partner_submissions(
    request: Request, conn: Warehouse, caller: SignedIn, limit: Limit = 100
) -> dict[str, Any]:
    """The caller's own extracts (their manifests) and how many of its events the hub holds."""
    party = caller.party or ""
    extracts = submissions_of(conn, party, limit)
    returned(request, len(extracts))
    return {
        "party": party,
        "events_by_type": events_by_type(conn, party),
        "extracts": [extract.as_dict() for extract in extracts],
    }


def partner_refusals(
    request: Request, conn: Warehouse, caller: SignedIn, limit: Limit = 100
) -> dict[str, Any]:
    """Messages refused on the caller's own topic: where each came from and why (no content)."""
    party = caller.party or ""
    topic = SOURCE_BY_SYSTEM.get(party)
    counts, messages = (
        held_from(conn, request.app.state.topic_prefix + topic, limit) if topic else ({}, [])
    )
    returned(request, len(messages))
    return {
        "party": party,
        "held_by_reason": counts,
        "messages": [message.as_dict() for message in messages],
    }


def audit_access(
    request: Request,
    conn: Warehouse,
    since: Annotated[dt.date | None, Query(description="Calls on or after this day.")] = None,
    token: Annotated[
        str | None, Query(pattern=TOKEN_NAME, description="Calls made with this token only.")
    ] = None,
    limit: Limit = 1000,
) -> dict[str, Any]:
    """The access log, newest first: who called which route, with what, and what came back."""
    _within_dates("since", since)
    start = dt.datetime.combine(since, dt.time(), dt.UTC) if since else None
    entries = read_access(conn, start, token, limit)
    returned(request, len(entries))
    return {"entries": [entry.as_dict() for entry in entries]}


def tokens(request: Request, conn: Warehouse) -> dict[str, Any]:
    """Every token: name, role, party, dates and state; never a secret (none is stored)."""
    now = dt.datetime.now(dt.UTC)
    listed = list_tokens(conn)
    returned(request, len(listed))
    return {"tokens": [token.as_dict(now) for token in listed]}


def openapi(request: Request) -> JSONResponse:
    return JSONResponse(request.app.openapi())


def docs(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/openapi.json", title="Joint Commissioning Hub")


def _month(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(f"{value}-01") if value else None
