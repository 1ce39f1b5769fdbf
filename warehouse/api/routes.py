"""The API's routes: plain functions over the warehouse's read models.

Each reads what it serves through the request's connection (`Warehouse`) and tells the
access log what it returned (`returned`). Which roles may call each one is declared
beside it in `warehouse/api/app.py`, never here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import HTTPException, Query, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response

from schemas.topics import SOURCE_BY_SYSTEM
from streams.crosstab import BREAKDOWNS, SEND_STATUS
from warehouse.access_log import read_access, suppressed_in
from warehouse.api.access import returned
from warehouse.api.models import ReceiptsQuery
from warehouse.api.policy import SignedIn, Warehouse
from warehouse.chain_audit import latest_verification
from warehouse.crosstab import crosstab_document
from warehouse.ig_report import UnknownContract, ig_report_document
from warehouse.jsna import jsna_document
from warehouse.publication_cache import Counts, Document, encoded
from warehouse.quarantine import held_from
from warehouse.scorecard import scorecard_document
from warehouse.submissions import events_by_type, recorded_of, submissions_of
from warehouse.tokens import list_tokens

MONTH = r"^20\d{2}-(0[1-9]|1[0-2])$"  # 2000-01 to 2099-12
LONGEST_SPAN_MONTHS = 240
TOKEN_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
CONTRACT_ID = r"^[a-z0-9][a-z0-9-]*$"  # as contracts/models.py declares it
EARLIEST = dt.date(1900, 1, 1)  # dates the JSNA's month arithmetic and the log can hold
LATEST = dt.date(2999, 12, 31)

Limit = Annotated[int, Query(ge=1, le=1000, description="At most this many, newest first.")]
AsAt = Annotated[
    dt.date | None, Query(description="A date (YYYY-MM-DD); the month end on or before it.")
]
From = Annotated[
    str | None,
    Query(alias="from", pattern=MONTH, description="First month, YYYY-MM (2000 to 2099)."),
]
To = Annotated[
    str | None,
    Query(alias="to", pattern=MONTH, description="Last month, YYYY-MM (2000 to 2099)."),
]
NAMES = "|".join(BREAKDOWNS)  # for the documented patterns of `by`
Pair = Annotated[
    str,
    Query(
        max_length=200,
        description="Two different breakdowns, DIM,DIM: " + ", ".join(BREAKDOWNS) + ".",
        json_schema_extra={"pattern": f"^({NAMES}),({NAMES})$"},
    ),
]


def within_dates(name: str, day: dt.date | None) -> None:
    if day is not None and not EARLIEST <= day <= LATEST:
        raise HTTPException(422, f"{name}: must be between {EARLIEST} and {LATEST}")


def health(conn: Warehouse) -> dict[str, str]:
    """Whether the hub answers: the status only."""
    conn.execute("SELECT 1")
    return {"status": "ok"}


def months(period_from: str | None, period_to: str | None) -> tuple[dt.date | None, dt.date | None]:
    """`from` and `to` as the first days of their months, refused (422) out of order or too far
    apart."""
    first, last = _month(period_from), _month(period_to)
    if first and last:
        if first > last:
            raise HTTPException(422, f"from: {period_from} is after to: {period_to}")
        if (last.year - first.year) * 12 + last.month - first.month >= LONGEST_SPAN_MONTHS:
            raise HTTPException(422, f"from, to: at most {LONGEST_SPAN_MONTHS // 12} years apart")
    return first, last


def breakdowns(by: str, single: bool = False) -> tuple[str, ...]:
    """`by` as two different breakdowns (`DIM,DIM`), or with `single` one (`DIM`, not
    send_status, which every JSNA table has); 422 with the choices otherwise."""
    names = tuple(name.strip() for name in by.split(","))
    choices = [b for b in BREAKDOWNS if not (single and len(names) == 1 and b == SEND_STATUS)]
    if not (len(names) == 2 or (single and len(names) == 1)):
        shape = "one breakdown or two, DIM or DIM,DIM" if single else "two breakdowns, DIM,DIM"
        raise HTTPException(422, f"by: takes {shape}, from {', '.join(BREAKDOWNS)}")
    for name in names:
        if name not in choices:
            raise HTTPException(
                422, f"by: there is no breakdown {name[:40]!r}; choose from {', '.join(choices)}"
            )
    if len(names) == 2 and names[0] == names[1]:
        raise HTTPException(422, "by: choose two different breakdowns")
    return names


def sent(
    request: Request, document: dict[str, Any], counts: Callable[[Document], Counts]
) -> Response:
    """A published document as sent: its JSON, encoded once while the publication cache keeps
    it, with its counts for the access log. FastAPI does not validate a `Response`: the
    route's model documents it, and tests/component/test_api_schema.py checks the two agree."""
    found = encoded(document, counts)
    rows, cells, suppressed = found.counts
    returned(request, rows, cells, suppressed=suppressed)
    return Response(found.body, media_type="application/json")


def scorecard_counts(document: Document) -> Counts:
    """KPIs, and figures (each KPI's and its trend's)."""
    kpis = document["kpis"]
    figures = len(kpis) + sum(len(kpi.get("trend", ())) for kpi in kpis)
    return len(kpis), figures, suppressed_in(document)


def jsna_counts(document: Document) -> Counts:
    cells = len(document["cells"])
    return cells, cells, suppressed_in(document)


def crosstab_counts(document: Document) -> Counts:
    """Rows, and figures (cells and totals)."""
    figures = sum(len(document[part]) for part in ("cells", "row_totals", "column_totals"))
    return len(document["row_totals"]), figures, suppressed_in(document)


def scorecard(
    request: Request, conn: Warehouse, period_from: From = None, period_to: To = None
) -> Response:
    """The balanced scorecard: the same document as `hub scorecard --format json`."""
    first, last = months(period_from, period_to)
    return sent(request, scorecard_document(conn, first, last), scorecard_counts)


def jsna(request: Request, conn: Warehouse, as_at: AsAt = None) -> Response:
    """The JSNA aggregates as at a date (default today), as `hub jsna --format json` gives."""
    within_dates("as_at", as_at)
    return sent(request, jsna_document(conn, as_at or dt.date.today()), jsna_counts)


def jsna_crosstab(request: Request, conn: Warehouse, by: Pair, as_at: AsAt = None) -> Response:
    """People by two breakdowns as at a date (default today), protected: the same document as
    `hub jsna --by DIM,DIM --format json`."""
    rows, columns = breakdowns(by)
    within_dates("as_at", as_at)
    document = crosstab_document(conn, as_at or dt.date.today(), rows, columns)
    return sent(request, document, crosstab_counts)


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
    within_dates("since", since)
    start = dt.datetime.combine(since, dt.time(), dt.UTC) if since else None
    entries = read_access(conn, start, token, limit)
    returned(request, len(entries))
    return {"entries": [entry.as_dict() for entry in entries]}


def audit_report(
    request: Request,
    conn: Warehouse,
    contract: Annotated[
        str, Query(pattern=CONTRACT_ID, max_length=100, description="A contract id.")
    ],
    month: Annotated[str, Query(pattern=MONTH, description="A month, YYYY-MM (UTC).")],
) -> dict[str, Any]:
    """One contract's month for information governance: events received, accepted and
    refused, erasures, each figure's lineage and who read what; the same document as
    `hub audit report --format json`."""
    try:
        document = ig_report_document(conn, contract, dt.date.fromisoformat(f"{month}-01"))
    except UnknownContract:
        raise HTTPException(422, "contract: the hub knows no contract of that id") from None
    returned(request, len(document["lineage"]["figures"]))
    return document


def audit_chain(request: Request, conn: Warehouse) -> dict[str, Any]:
    """The latest verification of the event store's hash chain (`hub audit verify`), and
    how many rows were appended since it."""
    status = latest_verification(conn)
    returned(request, 0 if status["latest"] is None else 1)
    return status


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
