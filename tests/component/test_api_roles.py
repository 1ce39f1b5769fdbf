"""Every route, every caller: exactly the roles a route allows get through.

The matrix below is written out by hand, not read from the app: the app's own route
table must match it, so a new route fails here until someone decides who may call it.
"""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.support.api import bearer, issue
from warehouse.api import create_app
from warehouse.api.policy import check_policies
from warehouse.connection import connect
from warehouse.web.app import ROUTERS as DASHBOARD_ROUTERS

ROLES = ("partner", "commissioner", "public_health", "ig_auditor", "admin")
ANYONE = "anyone"

WHO_MAY_CALL = {
    ("GET", "/health"): {ANYONE},
    ("GET", "/scorecard"): {"commissioner"},
    ("GET", "/jsna"): {"public_health"},
    ("GET", "/jsna/crosstab"): {"public_health"},
    ("GET", "/exports/scorecard"): {"commissioner"},
    ("GET", "/exports/scorecard/metadata"): {"commissioner"},
    ("GET", "/exports/jsna"): {"public_health"},
    ("GET", "/exports/jsna/metadata"): {"public_health"},
    ("POST", "/receipts"): {"partner"},
    ("POST", "/submissions/events"): {"partner"},
    ("GET", "/partner/submissions"): {"partner"},
    ("GET", "/partner/refusals"): {"partner"},
    ("GET", "/audit/access"): {"ig_auditor"},
    ("GET", "/audit/report"): {"ig_auditor"},
    ("GET", "/audit/chain"): {"ig_auditor"},
    ("GET", "/tokens"): {"admin"},
    ("GET", "/openapi.json"): set(ROLES),
    ("GET", "/docs"): set(ROLES),
}
BODIES: dict[tuple[str, str], dict[str, list[str]]] = {
    ("POST", "/receipts"): {"event_ids": []},
    ("POST", "/submissions/events"): {"events": []},  # nothing to publish: no broker needed
}
SUCCESS = {("POST", "/submissions/events"): 202}  # what an allowed caller gets, if not 200
PARAMETERS = {  # what a route needs to answer 200 to an allowed caller
    ("GET", "/jsna/crosstab"): {"by": "primary_need,locality"},
    ("GET", "/exports/jsna"): {"by": "sex,age_band", "format": "xlsx"},
    ("GET", "/audit/report"): {"contract": "leics-send-sharing-2026", "month": "2026-11"},
}
NOT_SIGNED_IN = ("no token", "wrong token", "revoked token", "expired token")


def routes_of_the_app() -> set[tuple[str, str]]:
    """The API's routes; the dashboard's pages (sessions, not tokens) are
    tests/component/test_dashboard.py's."""
    app = create_app("host=unused")
    pages = {route.path for router in DASHBOARD_ROUTERS for route in router.routes}  # type: ignore[attr-defined]
    return {
        (method, route.path)
        for route in app.routes
        if isinstance(route, APIRoute) and route.path not in pages
        for method in route.methods or ()
    }


def test_every_route_of_the_app_is_in_the_matrix() -> None:
    assert routes_of_the_app() == set(WHO_MAY_CALL)


def test_a_route_without_a_policy_stops_the_app_being_built() -> None:
    app = create_app("host=unused")
    app.add_api_route("/everything", lambda: {"all": "of it"})
    with pytest.raises(RuntimeError, match="/everything"):
        check_policies(app)


@pytest.fixture
def callers(warehouse_dsn: str) -> dict[str, dict[str, str]]:
    """Authorization headers for each kind of caller, from the real token store."""
    yesterday = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    headers = {
        "no token": {},
        "wrong token": bearer("jch_" + "x" * 43),
        "revoked token": bearer(issue(warehouse_dsn, "commissioner", revoked=True)),
        "expired token": bearer(issue(warehouse_dsn, "commissioner", expires_at=yesterday)),
    }
    for role in ROLES:
        headers[role] = bearer(
            issue(warehouse_dsn, role, "education" if role == "partner" else None)
        )
    return headers


@pytest.mark.parametrize(("method", "path"), sorted(WHO_MAY_CALL))
def test_exactly_the_allowed_callers_get_through(
    method: str,
    path: str,
    warehouse_dsn: str,
    api_dsn: str,
    callers: dict[str, dict[str, str]],
) -> None:
    client = TestClient(create_app(api_dsn))
    allowed = WHO_MAY_CALL[(method, path)]
    outcomes = {}
    for caller, headers in callers.items():
        response = client.request(
            method,
            path,
            headers=headers,
            params=PARAMETERS.get((method, path)),
            json=BODIES.get((method, path)),
        )
        outcomes[caller] = response.status_code
        if ANYONE in allowed or caller in allowed:
            assert response.status_code == SUCCESS.get((method, path), 200), (caller, response.text)
        elif caller in NOT_SIGNED_IN:
            assert response.status_code == 401, caller
            assert response.headers["www-authenticate"].startswith("Bearer"), caller
        else:
            assert response.status_code == 403, (caller, response.text)
        if response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json"

    # Every signed-in caller's call is in the access log, allowed or not; no one else's.
    with connect(warehouse_dsn) as conn:
        logged: dict[str, int] = dict(
            conn.execute(
                "SELECT role, status FROM access_log WHERE route = %s AND method = %s",
                (path, method),
            ).fetchall()
        )
    expected = {} if ANYONE in allowed else {role: outcomes[role] for role in ROLES}
    assert logged == expected
