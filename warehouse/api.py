"""The hub's HTTP API (FastAPI): the scorecard for commissioners, and a health check.

Run it with `python -m warehouse.api`; it reads its settings once at start.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query
from psycopg import Connection

from warehouse.connection import WarehouseUnavailable, connect
from warehouse.scorecard import scorecard_document


def create_app(dsn: str) -> FastAPI:
    app = FastAPI(title="Joint Commissioning Hub", version="0.1.0")

    def warehouse() -> Iterator[Connection]:
        try:
            conn = connect(dsn)
        except WarehouseUnavailable as error:
            raise HTTPException(status_code=503, detail=str(error)) from None
        try:
            yield conn
        finally:
            conn.close()

    Warehouse = Annotated[Connection, Depends(warehouse)]

    @app.get("/health")
    def health(conn: Warehouse) -> dict[str, str]:
        conn.execute("SELECT 1")
        return {"status": "ok"}

    @app.get("/scorecard")
    def scorecard(
        conn: Warehouse,
        period_from: Annotated[str | None, Query(alias="from", pattern=r"^\d{4}-\d{2}$")] = None,
        period_to: Annotated[str | None, Query(alias="to", pattern=r"^\d{4}-\d{2}$")] = None,
    ) -> dict[str, Any]:
        return scorecard_document(conn, _month(period_from), _month(period_to))

    return app


def _month(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(f"{value}-01") if value else None


def main() -> None:
    import uvicorn

    from hub.settings import HubSettings

    settings = HubSettings()
    uvicorn.run(
        create_app(settings.warehouse_dsn()),
        host=settings.api_host,
        port=settings.api_port,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
