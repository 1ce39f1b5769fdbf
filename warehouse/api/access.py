"""Recording every call of a signed-in caller in the access log, and giving back its connection.

An ASGI middleware around the routes: it times the call, sees the status sent, and
appends one `access_log` row with the route's template (`/audit/access`, not the URL),
its query parameters and what the route said it returned (`returned`). It also gives the
request's warehouse connection back to the app's pool, after using it for the log (in
autocommit, so the row is committed and the connection idle; one that is not is closed).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from psycopg import Connection
from psycopg.pq import TransactionStatus
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from warehouse.access_log import Access, record_access, suppressed_in
from warehouse.api.policy import pool_of
from warehouse.api.problems import problem
from warehouse.tokens import Caller

log = logging.getLogger("hub.api")


def returned(
    request: Request,
    rows: int | None,
    cells: int | None = None,
    document: Mapping[str, Any] | None = None,
    suppressed: int | None = None,
) -> None:
    """What a route hands back, for its access-log row: the suppressed cells as counted, or as
    the document says."""
    if suppressed is None and document:
        suppressed = suppressed_in(document)
    request.state.returned = (rows, cells, suppressed)


class AccessLog:
    """Appends one access-log row per call by a signed-in caller, before the answer leaves.

    The row is written when the response starts: if it cannot be written, the caller gets
    a 500 instead of the data, so nothing leaves the hub without its trace.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        started = time.perf_counter()
        recorded = False
        withheld = False

        async def sending(message: Message) -> None:
            nonlocal recorded, withheld
            if withheld:
                return
            if message["type"] == "http.response.start":
                recorded = True
                elapsed = (time.perf_counter() - started) * 1000.0
                try:
                    await run_in_threadpool(_record, request, int(message["status"]), elapsed)
                except Exception as error:
                    log.error("no access-log row could be written: %s", type(error).__name__)
                    withheld = True
                    await problem(500, NOT_RECORDED)(scope, receive, send)
                    return
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            if not recorded:  # an error with no response yet: the server answers 500
                elapsed = (time.perf_counter() - started) * 1000.0
                try:
                    await run_in_threadpool(_record, request, 500, elapsed)
                except Exception as error:
                    log.error("no access-log row could be written: %s", type(error).__name__)
            conn: Connection | None = getattr(request.state, "conn", None)
            if conn is not None:
                request.state.conn = None
                unfit = getattr(request.state, "conn_unfit", False)
                await run_in_threadpool(pool_of(request.app).give_back, conn, unfit)


LONGEST = 200  # characters of a parameter's name or value kept in the log


def loggable(items: list[tuple[str, str]]) -> dict[str, str]:
    """Query parameters as the log keeps them: text PostgreSQL accepts, none overlong."""

    def clean(text: str) -> str:
        text = text.replace("\x00", "\ufffd")
        return text if len(text) <= LONGEST else text[:LONGEST] + "…"

    return {clean(name): clean(value) for name, value in items}


NOT_RECORDED = "The hub could not record this call in its access log, so it sends nothing."


def _record(request: Request, status: int, duration_ms: float) -> None:
    state = request.state
    conn: Connection | None = getattr(state, "conn", None)
    caller: Caller | None = getattr(state, "caller", None)
    if caller is None or conn is None or conn.closed:
        return
    if conn.info.transaction_status != TransactionStatus.IDLE:
        # the route left a transaction open, or failed in one: what it did there goes, the
        # row must commit, and the connection is closed rather than lent again
        state.conn_unfit = True
        conn.rollback()
    rows, cells, suppressed = getattr(state, "returned", (None, None, None))
    route = request.scope.get("route")
    record_access(
        conn,
        Access(
            token_name=caller.token_name,
            role=caller.role.value,
            party=caller.party,
            method=request.method,
            route=str(getattr(route, "path", request.url.path)),
            parameters=loggable(request.query_params.multi_items()),
            status=status,
            duration_ms=duration_ms,
            rows_returned=rows,
            cells_returned=cells,
            cells_suppressed=suppressed,
        ),
    )
