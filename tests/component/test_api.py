"""The HTTP API over a real PostgreSQL: the scorecard JSON and the health check."""

import datetime as dt

from fastapi.testclient import TestClient

from streams.worker.unit_of_work import apply_batch
from tests.support.events import plan_event
from warehouse.api import create_app
from warehouse.connection import connect
from warehouse.scorecard import scorecard_document

REQUEST = dt.date(2025, 1, 6)


def test_get_scorecard_returns_the_same_document_as_the_cli(warehouse_dsn: str) -> None:
    with connect(warehouse_dsn) as conn:
        apply_batch(
            conn,
            [plan_event(REQUEST, dt.date(2025, 5, 1)), plan_event(REQUEST, dt.date(2025, 8, 1))],
        )
        expected = scorecard_document(conn)
    client = TestClient(create_app(warehouse_dsn))
    response = client.get("/scorecard")
    assert response.status_code == 200
    assert response.json() == expected
    [excl] = [k for k in response.json()["kpis"] if k["id"] == "ehcp_20_weeks_excl_exceptions"]
    assert (excl["numerator"], excl["denominator"]) == (1, 2)


def test_scorecard_for_a_span_of_months(warehouse_dsn: str) -> None:
    with connect(warehouse_dsn) as conn:
        apply_batch(
            conn,
            [plan_event(REQUEST, dt.date(2025, 5, 1)), plan_event(REQUEST, dt.date(2025, 8, 1))],
        )
    client = TestClient(create_app(warehouse_dsn))
    kpis = client.get("/scorecard", params={"from": "2025-08", "to": "2025-08"}).json()["kpis"]
    assert {k["denominator"] for k in kpis if k["id"].startswith("ehcp_20_weeks")} == {1}
    assert client.get("/scorecard", params={"from": "August"}).status_code == 422
    assert client.get("/scorecard", params={"from": "2025-13"}).status_code == 422


def test_health_and_an_unreachable_warehouse(warehouse_dsn: str) -> None:
    assert TestClient(create_app(warehouse_dsn)).get("/health").json() == {"status": "ok"}
    unreachable = "host=127.0.0.1 port=1 user=postgres dbname=hub"
    response = TestClient(create_app(unreachable)).get("/scorecard")
    assert response.status_code == 503
    assert "cannot reach the warehouse" in response.json()["detail"]


def test_receipts_say_which_events_the_hub_recorded(warehouse_dsn: str) -> None:
    recorded = plan_event(REQUEST, dt.date(2025, 5, 1))
    with connect(warehouse_dsn) as conn:
        apply_batch(conn, [recorded])
    client = TestClient(create_app(warehouse_dsn))
    unknown = "00000000-0000-5000-8000-000000000000"
    response = client.post("/receipts", json={"event_ids": [str(recorded.event_id), unknown]})
    assert response.json() == {"recorded": [str(recorded.event_id)]}
    assert client.post("/receipts", json={"event_ids": ["not-a-uuid"]}).status_code == 422
