"""The hub's HTTP API (FastAPI): the scorecard for commissioners, and a health check.

Its process entry point is `python -m hub.api`, which reads the settings once and
calls `create_app`: this module takes plain arguments.
"""

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from psycopg import Connection
from pydantic import BaseModel, Field

from warehouse.connection import WarehouseUnavailable, connect
from warehouse.jsna import jsna_document
from warehouse.scorecard import scorecard_document

MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


def warehouse(request: Request) -> Iterator[Connection]:
    """One connection per request; 503 with a plain reason when PostgreSQL is unreachable."""
    try:
        conn = connect(request.app.state.warehouse_dsn)
    except WarehouseUnavailable as error:
        raise HTTPException(status_code=503, detail=str(error)) from None
    try:
        yield conn
    finally:
        conn.close()


Warehouse = Annotated[Connection, Depends(warehouse)]


def health(conn: Warehouse) -> dict[str, str]:
    conn.execute("SELECT 1")
    return {"status": "ok"}


def scorecard(
    conn: Warehouse,
    period_from: Annotated[str | None, Query(alias="from", pattern=MONTH)] = None,
    period_to: Annotated[str | None, Query(alias="to", pattern=MONTH)] = None,
) -> dict[str, Any]:
    """The balanced scorecard: the same document as `hub scorecard --format json`."""
    return scorecard_document(conn, _month(period_from), _month(period_to))


class ReceiptsQuery(BaseModel):
    event_ids: Annotated[list[uuid.UUID], Field(max_length=10_000)]


def receipts(conn: Warehouse, query: ReceiptsQuery) -> dict[str, list[str]]:
    """Which of these event ids the hub has recorded: a producer may then forget them."""
    rows = conn.execute(
        "SELECT event_id FROM events WHERE event_id = ANY(%s)", (query.event_ids,)
    ).fetchall()
    return {"recorded": sorted(str(row[0]) for row in rows)}


def jsna(conn: Warehouse, as_at: dt.date | None = None) -> dict[str, Any]:
    """The JSNA aggregates as at a date (default today), as `hub jsna --format json` gives."""
    return jsna_document(conn, as_at or dt.date.today())


def _month(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(f"{value}-01") if value else None


def create_app(dsn: str) -> FastAPI:
    app = FastAPI(title="Joint Commissioning Hub", version="0.1.0")
    app.state.warehouse_dsn = dsn
    app.get("/health")(health)
    app.get("/scorecard")(scorecard)
    app.get("/jsna")(jsna)
    app.post("/receipts")(receipts)
    return app
