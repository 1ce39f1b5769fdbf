"""The API's warehouse connections come from a pool (decision 0019): a request's connection
goes back idle after its access-log row is committed, and is lent again to the next
request; one a route left in a failed or open transaction, or closed, is never lent again.

Three routes added for the test only show which server process answered (`/pid`) and
break their connection in each way; they are signed in, so every call has its log row."""

from __future__ import annotations

import contextlib

import psycopg
import pytest
from fastapi import Request
from fastapi.testclient import TestClient

from tests.support.api import bearer, issue
from warehouse.api import create_app
from warehouse.api.app import ROUTES, Route
from warehouse.api.policy import Warehouse, allow, pool_of
from warehouse.api.pool import WarehousePool, spare
from warehouse.connection import connect
from warehouse.tokens import Role


def pid(request: Request, conn: Warehouse) -> dict[str, int]:
    return {"pid": conn.info.backend_pid}


def failed(request: Request, conn: Warehouse) -> dict[str, int]:
    """Leaves its connection in a failed transaction."""
    conn.execute("BEGIN")
    with contextlib.suppress(psycopg.errors.DivisionByZero):
        conn.execute("SELECT 1 / 0")
    return {"pid": conn.info.backend_pid}


def left_open(request: Request, conn: Warehouse) -> dict[str, int]:
    """Leaves a transaction open, with a change in it the log row must not commit."""
    conn.execute("BEGIN")
    conn.execute(
        "INSERT INTO access_log (token_name, role, method, route, parameters, status,"
        " duration_ms) VALUES ('left-open', 'commissioner', 'GET', '/x', '{}', 200, 0)"
    )
    return {"pid": conn.info.backend_pid}


def closed(request: Request, conn: Warehouse) -> dict[str, int]:
    backend = conn.info.backend_pid
    conn.close()
    return {"pid": backend}


BREAKING = {"/failed": failed, "/left-open": left_open, "/closed": closed}
TEST_ROUTES = tuple(
    Route("GET", path, endpoint, allow(Role.COMMISSIONER))
    for path, endpoint in {"/pid": pid, **BREAKING}.items()
)


def logged(owner_dsn: str, route: str) -> int:
    with connect(owner_dsn) as conn:
        row = conn.execute("SELECT count(*) FROM access_log WHERE route = %s", (route,)).fetchone()
    return int(row[0]) if row else 0


def state_of(owner_dsn: str, backend: int) -> str | None:
    with connect(owner_dsn) as conn:
        row = conn.execute(
            "SELECT state FROM pg_stat_activity WHERE pid = %s", (backend,)
        ).fetchone()
    return str(row[0]) if row else None


def pids(client: TestClient, calls: int = 6) -> list[int]:
    return [client.get("/pid").json()["pid"] for _ in range(calls)]


def test_a_connection_goes_back_idle_and_is_lent_again(warehouse_dsn: str, api_dsn: str) -> None:
    app = create_app(api_dsn, routes_table=(*ROUTES, *TEST_ROUTES))
    headers = bearer(issue(warehouse_dsn, "commissioner"))
    with TestClient(app, headers=headers) as client:  # the lifespan opens the pool
        answers = pids(client)
        assert client.get("/scorecard").status_code == 200
        answers += pids(client)
        # one request at a time: the first waits while the pool grows to two at most, and
        # after it each request is lent one of those, none opened for it
        assert len(set(answers)) <= 2
        stats = pool_of(app).stats()
        assert stats["connections_num"] <= 2
        assert stats["pool_available"] >= 1  # back in the pool
        for backend in set(answers):
            assert state_of(warehouse_dsn, backend) == "idle"  # not "idle in transaction"
        assert logged(warehouse_dsn, "/pid") == len(answers)  # every row committed
        assert logged(warehouse_dsn, "/scorecard") == 1
        pool = pool_of(app)
    assert pool.closed  # shut down with the app


def test_without_a_lifespan_the_pool_opens_on_first_use(warehouse_dsn: str, api_dsn: str) -> None:
    app = create_app(api_dsn, routes_table=(*ROUTES, *TEST_ROUTES))
    client = TestClient(app, headers=bearer(issue(warehouse_dsn, "commissioner")))
    try:
        assert len(set(pids(client))) <= 2
        assert pool_of(app).stats()["connections_num"] <= 2
    finally:
        pool_of(app).close()
    with TestClient(app) as again:  # started again: a fresh pool
        assert again.get("/health").json() == {"status": "ok"}


@pytest.mark.parametrize("route", sorted(BREAKING))
def test_a_broken_connection_is_not_lent_again(
    route: str, warehouse_dsn: str, api_dsn: str
) -> None:
    app = create_app(api_dsn, routes_table=(*ROUTES, *TEST_ROUTES))
    with TestClient(app, headers=bearer(issue(warehouse_dsn, "commissioner"))) as client:
        pooled = set(pids(client))
        broken = client.get(route)
        assert broken.status_code == 200
        assert broken.json()["pid"] in pooled
        after = pids(client)
        assert broken.json()["pid"] not in after  # closed, another in its place
        assert len(set(after)) <= 2
        stats = pool_of(app).stats()
        assert stats["pool_available"] >= 1
    if route != "/closed":  # a closed connection can write no row (the route's own fault)
        assert logged(warehouse_dsn, route) == 1  # the row committed after the rollback
    assert logged(warehouse_dsn, "/x") == 0  # what the route left open was rolled back


def test_a_spare_connection_is_lent_only_when_one_is_free_at_once(api_dsn: str) -> None:
    pool = WarehousePool(api_dsn, max_size=2, timeout_s=5.0)
    pool.open()
    try:
        held = pool.take()
        pool.give_back(pool.take())  # both opened (how fast the pool grows is not the point)
        with spare(pool) as second:
            assert second is not None  # one left: lent
            with spare(pool) as third:
                assert third is None  # none left: no wait (the request builds on its own)
        pool.give_back(held)
        with spare(pool) as again:
            assert again is not None and again.execute("SELECT 1").fetchone() == (1,)
    finally:
        pool.close()
