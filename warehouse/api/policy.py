"""Who may call each route: sign-in by bearer token, and the roles every route declares.

A route is added with `allow(...)` as a dependency; `check_policies` fails app creation
for any route without one, so a route cannot be published to everybody by omission.
HTTP's meaning of the codes holds: 401 (with `WWW-Authenticate: Bearer`) when nobody is
signed in, or the token is unknown, revoked or expired; 403 when the token is valid but
its role is not one the route allows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.routing import APIRoute
from psycopg import Connection
from starlette.routing import BaseRoute

from warehouse.api.pool import WarehousePool
from warehouse.tokens import Caller, Role, TokenRefused, authenticate

ANYONE = "anyone"  # no sign-in: only /health

REFUSALS = {
    "unknown": "this token is not valid",
    "revoked": "this token has been revoked",
    "expired": "this token has expired",
}


def warehouse(request: Request) -> Connection:
    """The request's one connection, taken from the app's pool on first use and given back
    after the access log (`warehouse/api/access.py`)."""
    conn: Connection | None = getattr(request.state, "conn", None)
    if conn is None:
        conn = pool_of(request.app).take()
        request.state.conn = conn
    return conn


def pool_of(app: FastAPI) -> WarehousePool:
    """The app's warehouse connections (`create_app` makes the pool; it opens on first use)."""
    pool: WarehousePool = app.state.warehouse_pool
    return pool


Warehouse = Annotated[Connection, Depends(warehouse)]


def unauthorised(detail: str, invalid_token: bool) -> HTTPException:
    challenge = 'Bearer realm="hub"'
    if invalid_token:
        challenge += ', error="invalid_token"'
    return HTTPException(401, detail, headers={"WWW-Authenticate": challenge})


class Policy:
    """A route's declared audience: the roles it allows, or anyone (no sign-in)."""

    def __init__(self, roles: Iterable[Role | str]) -> None:
        self.anyone = ANYONE in roles
        self.roles = frozenset(Role(role) for role in roles if role != ANYONE)

    def __repr__(self) -> str:
        return "allow(" + (ANYONE if self.anyone else ", ".join(sorted(self.roles))) + ")"

    def __call__(self, request: Request) -> Caller | None:
        if self.anyone:
            return None
        scheme, _, secret = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise unauthorised("sign in: send `Authorization: Bearer <token>`", False)
        try:
            caller = authenticate(warehouse(request), secret.strip())
        except TokenRefused as refused:
            raise unauthorised(REFUSALS[refused.reason], True) from None
        request.state.caller = caller
        if caller.role not in self.roles:
            allowed = ", ".join(sorted(self.roles))
            raise HTTPException(403, f"a {caller.role.value} token cannot call this; {allowed} can")
        return caller


def known_parameters(request: Request) -> None:
    """Refuse a query parameter the route does not declare (a typo must not pass unnoticed)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    declared = {param.alias for param in route.dependant.query_params}
    for dependency in route.dependant.dependencies:
        declared |= {param.alias for param in dependency.query_params}
    unknown = sorted(set(request.query_params) - declared)
    if unknown:
        names = ", ".join(repr(name[:40]) for name in unknown[:5])
        accepted = ", ".join(sorted(declared)) or "none"
        raise HTTPException(422, f"unknown query parameter {names}; this route takes: {accepted}")


def allow(*roles: Role | str) -> Policy:
    """The policy of a route: `allow(Role.COMMISSIONER)`, or `allow(ANYONE)`."""
    if not roles:
        raise ValueError("a route must allow at least one role, or ANYONE")
    return Policy(roles)


def signed_in(request: Request) -> Caller:
    """The caller the route's policy signed in (policies run before a route's parameters)."""
    caller: Caller = request.state.caller
    return caller


SignedIn = Annotated[Caller, Depends(signed_in)]


def policy_of(route: BaseRoute) -> Policy | None:
    """The policy a route enforces (its `allow(...)` dependency), if it has one."""
    if not isinstance(route, APIRoute):
        return None
    for dependency in route.dependant.dependencies:
        if isinstance(dependency.call, Policy):
            return dependency.call
    return None


def check_policies(app: FastAPI) -> None:
    """Refuse to build an app with a route that declares no policy."""
    missing = [
        f"{','.join(sorted(getattr(route, 'methods', None) or []))} {getattr(route, 'path', route)}"
        for route in app.routes
        if policy_of(route) is None
    ]
    if missing:
        raise RuntimeError(f"routes without an `allow(...)` policy: {', '.join(missing)}")
