"""The app: every route with the roles it allows, in one table, and the conventions around it.

`ROUTES` is the API's whole surface. Each row names its method, path, function, the
roles allowed (`allow(...)`), its answer's model (or a download's media types) and the
errors it documents; app creation refuses a route without a policy (`check_policies`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from contracts.decisions import Area
from contracts.loading import shipped_contracts
from schemas.broker_access import BrokerAccess
from schemas.catalogue import default_catalogue
from warehouse.api import downloads, models, publishing, routes, warm_up
from warehouse.api.access import AccessLog
from warehouse.api.policy import (
    ANYONE,
    Policy,
    allow,
    check_policies,
    known_parameters,
    pool_of,
)
from warehouse.api.pool import MIN_SIZE, SERVING_MIN_SIZE, WarehousePool
from warehouse.api.problems import as_problems_in, documented, install
from warehouse.exports import MEDIA_TYPES
from warehouse.tokens import Role
from warehouse.web.app import include_dashboard

EVERY_ROLE = tuple(Role)
FILES = tuple(MEDIA_TYPES.values())  # CSV, XLSX, Parquet


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    endpoint: Callable[..., Any]
    policy: Policy
    model: type[BaseModel] | None = None
    errors: tuple[int, ...] = (401, 403, 422, 503)
    in_schema: bool = True
    files: tuple[str, ...] = ()  # a download: the media types it may answer with
    status_code: int = 200


ROUTES = (
    Route("GET", "/health", routes.health, allow(ANYONE), models.Health, (503,)),
    Route("GET", "/scorecard", routes.scorecard, allow(Role.COMMISSIONER), models.Scorecard),
    Route("GET", "/jsna", routes.jsna, allow(Role.PUBLIC_HEALTH), models.Jsna),
    Route(
        "GET",
        "/jsna/crosstab",
        routes.jsna_crosstab,
        allow(Role.PUBLIC_HEALTH),
        models.CrossTab,
    ),
    Route(
        "GET",
        "/exports/scorecard",
        downloads.scorecard_export,
        allow(Role.COMMISSIONER),
        files=FILES,
    ),
    Route(
        "GET",
        "/exports/scorecard/metadata",
        downloads.scorecard_metadata,
        allow(Role.COMMISSIONER),
        models.ExportMetadata,
    ),
    Route("GET", "/exports/jsna", downloads.jsna_export, allow(Role.PUBLIC_HEALTH), files=FILES),
    Route(
        "GET",
        "/exports/jsna/metadata",
        downloads.jsna_metadata,
        allow(Role.PUBLIC_HEALTH),
        models.ExportMetadata,
    ),
    Route(
        "POST",
        "/receipts",
        routes.receipts,
        allow(Role.PARTNER),
        models.Receipts,
        (400, 401, 403, 422, 503),
    ),
    Route(
        "POST",
        "/submissions/events",
        publishing.submit_events,
        allow(Role.PARTNER),
        models.Published,
        (400, 401, 403, 422, 503),
        status_code=202,
    ),
    Route(
        "GET",
        "/partner/submissions",
        routes.partner_submissions,
        allow(Role.PARTNER),
        models.Submissions,
    ),
    Route(
        "GET", "/partner/refusals", routes.partner_refusals, allow(Role.PARTNER), models.Refusals
    ),
    Route(
        "GET", "/audit/access", routes.audit_access, allow(Role.IG_AUDITOR), models.AccessLogPage
    ),
    Route("GET", "/audit/report", routes.audit_report, allow(Role.IG_AUDITOR), models.IgReport),
    Route("GET", "/audit/chain", routes.audit_chain, allow(Role.IG_AUDITOR), models.ChainStatus),
    Route("GET", "/tokens", routes.tokens, allow(Role.ADMIN), models.Tokens),
    Route("GET", "/openapi.json", routes.openapi, allow(*EVERY_ROLE), in_schema=False),
    Route("GET", "/docs", routes.docs, allow(*EVERY_ROLE), in_schema=False),
)


def create_app(
    dsn: str,
    topic_prefix: str = "",
    routes_table: tuple[Route, ...] = ROUTES,
    *,
    broker_bootstrap: str | None = None,
    broker_access: BrokerAccess | None = None,
    area: Area | None = None,
    area_name: str | None = None,
    keep_fresh: bool = False,
) -> FastAPI:
    """The API over the warehouse at `dsn` (topics named with `topic_prefix`, as the worker's).

    Partners' events posted over HTTP go to the broker at `broker_bootstrap`, signed in as
    `broker_access` (without a broker, posting answers 503), checked against the contracts
    for the hub's `area`. The dashboard's pages (`warehouse/web/`) are served beside the
    routes, headed with `area_name`. With `keep_fresh` (the API's process) it warms up
    before it serves and keeps the published documents built (`warm_up.py`)."""
    app = FastAPI(
        title="Joint Commissioning Hub",
        version="0.1.0",
        openapi_url=None,  # served below, to signed-in callers only
        docs_url=None,
        redoc_url=None,
        lifespan=_lifespan,
    )
    app.state.warehouse_dsn = dsn
    app.state.warehouse_pool = _pool(dsn, keep_fresh)  # opened on first use, or at startup
    app.state.keep_fresh = keep_fresh
    app.state.topic_prefix = topic_prefix
    app.state.broker = publishing.Broker(broker_bootstrap, broker_access)
    app.state.area = area
    app.state.contracts = shipped_contracts()
    app.state.catalogue = default_catalogue()
    for route in routes_table:
        responses = documented(*route.errors)
        answer: dict[str, Any] = {"response_model": route.model}
        if route.files:
            responses[200] = downloaded(route.files)
            answer = {"response_class": Response}
        app.add_api_route(
            route.path,
            route.endpoint,
            methods=[route.method],
            **answer,
            dependencies=[Depends(route.policy), Depends(known_parameters)],
            responses=responses,
            include_in_schema=route.in_schema,
            status_code=route.status_code,
            openapi_extra={"x-roles": sorted(route.policy.roles) or [ANYONE]},
        )
    include_dashboard(app, area_name)
    check_policies(app)
    install(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    app.add_middleware(AccessLog)
    return app


def _pool(dsn: str, keep_fresh: bool) -> WarehousePool:
    """The API process's pool keeps a connection idle for a request, the refresher and a
    cross-tab page's second build (`take_if_free`); an app of the tests keeps one."""
    return WarehousePool(dsn, min_size=SERVING_MIN_SIZE if keep_fresh else MIN_SIZE)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The warehouse pool from startup to shutdown (a fresh one if the app starts again);
    with `keep_fresh`, the warm-up before serving and the refresher while serving."""
    if pool_of(app).closed:
        app.state.warehouse_pool = _pool(app.state.warehouse_dsn, app.state.keep_fresh)
    pool = pool_of(app)
    pool.open()
    refresher = None
    try:
        if app.state.keep_fresh:
            await run_in_threadpool(warm_up.warm_up, pool, dt.date.today())
            refresher = warm_up.start_refresher(pool)
        yield
    finally:
        if refresher is not None:
            await run_in_threadpool(refresher.stop)
        await run_in_threadpool(pool.close)
        await run_in_threadpool(app.state.broker.close)


def downloaded(media_types: tuple[str, ...]) -> dict[str, Any]:
    """The OpenAPI answer of a download: a file, in one of these media types."""
    return {
        "description": "The file, as an attachment (`Content-Disposition` names it).",
        "content": {
            kind: {"schema": {"type": "string", "format": "binary"}} for kind in media_types
        },
        "headers": {
            "Content-Disposition": {
                "description": 'attachment; filename="..."',
                "schema": {"type": "string"},
            }
        },
    }


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema, with errors as problem details and bearer sign-in declared."""
    if app.openapi_schema is None:
        schema = as_problems_in(FastAPI.openapi(app))
        schema.setdefault("components", {})["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "description": "`hub tokens create`"}
        }
        for operations in schema["paths"].values():
            for operation in operations.values():
                if operation.get("x-roles") != [ANYONE]:
                    operation["security"] = [{"bearer": []}]
        app.openapi_schema = schema
    return app.openapi_schema
