"""The HTTP API over a real PostgreSQL, as its least-privilege role, signed in by role."""

import datetime as dt
import uuid
from http import HTTPStatus

from fastapi.testclient import TestClient

from streams.worker.unit_of_work import apply_batch
from tests.support.api import issue, signed_in
from tests.support.events import plan_event
from warehouse.api import create_app
from warehouse.connection import connect
from warehouse.quarantine import quarantine
from warehouse.scorecard import scorecard_document

REQUEST = dt.date(2025, 1, 6)
PROBLEM = "application/problem+json"


def test_get_scorecard_returns_the_same_document_as_the_cli(
    warehouse_dsn: str, api_dsn: str
) -> None:
    with connect(warehouse_dsn) as conn:
        apply_batch(
            conn,
            [plan_event(REQUEST, dt.date(2025, 5, 1)), plan_event(REQUEST, dt.date(2025, 8, 1))],
        )
        expected = scorecard_document(conn)
    response = signed_in(warehouse_dsn, api_dsn, "commissioner").get("/scorecard")
    assert response.status_code == 200
    assert response.json() == expected
    assert "ehcp_20_weeks_excl_exceptions" in {kpi["id"] for kpi in response.json()["kpis"]}


def test_scorecard_for_a_span_of_months_and_refused_parameters(
    warehouse_dsn: str, api_dsn: str
) -> None:
    with connect(warehouse_dsn) as conn:
        apply_batch(
            conn,
            [plan_event(REQUEST, dt.date(2025, 5, 1)), plan_event(REQUEST, dt.date(2025, 8, 1))],
        )
        august = scorecard_document(conn, dt.date(2025, 8, 1), dt.date(2025, 8, 1))
    client = signed_in(warehouse_dsn, api_dsn, "commissioner")
    span = client.get("/scorecard", params={"from": "2025-08", "to": "2025-08"}).json()
    assert span == august and span != client.get("/scorecard").json()
    for params in (
        {"from": "August"},
        {"from": "2025-13"},
        {"from": "0000-01"},
        {"from": "2025-09", "to": "2025-08"},
        {"from": "2000-01", "to": "2099-12"},
        {"form": "2025-01"},
    ):
        refused = client.get("/scorecard", params=params)
        assert refused.status_code == 422, params
        assert refused.headers["content-type"] == PROBLEM
        problem = refused.json()
        assert problem["status"] == 422 and problem["title"] == HTTPStatus(422).phrase
        assert "from" in problem["detail"], problem


def test_jsna_dates_out_of_range_are_refused_with_a_reason(
    warehouse_dsn: str, api_dsn: str
) -> None:
    client = signed_in(warehouse_dsn, api_dsn, "public_health")
    assert client.get("/jsna", params={"as_at": "2025-03-31"}).status_code == 200
    for as_at in ("0001-01-01", "2025-02-30", "yesterday"):
        refused = client.get("/jsna", params={"as_at": as_at})
        assert refused.status_code == 422 and "as_at" in refused.json()["detail"], as_at


def test_health_says_ok_to_anyone_and_an_unreachable_warehouse_is_a_plain_503(
    warehouse_dsn: str, api_dsn: str, caplog: object
) -> None:
    health = TestClient(create_app(api_dsn)).get("/health")
    assert health.json() == {"status": "ok"}
    unreachable = "host=127.0.0.1 port=1 user=hub_api_login dbname=hub_secret_db"
    for path in ("/health", "/scorecard"):
        response = TestClient(create_app(unreachable)).get(
            path, headers={"Authorization": "Bearer x"}
        )
        assert response.status_code == 503
        assert response.headers["content-type"] == PROBLEM
        text = response.text
        for secret in ("127.0.0.1", "port", "hub_secret_db", "hub_api_login", "postgres"):
            assert secret not in text, (secret, text)
        assert "not available" in response.json()["detail"]


def test_an_unknown_route_and_method_are_problems_too(warehouse_dsn: str, api_dsn: str) -> None:
    client = signed_in(warehouse_dsn, api_dsn, "commissioner")
    missing = client.get("/no-such-thing")
    assert (missing.status_code, missing.headers["content-type"]) == (404, PROBLEM)
    wrong_method = client.delete("/scorecard")
    assert (wrong_method.status_code, wrong_method.headers["content-type"]) == (405, PROBLEM)


def test_receipts_confirm_the_partners_own_events_only(warehouse_dsn: str, api_dsn: str) -> None:
    recorded = plan_event(REQUEST, dt.date(2025, 5, 1))  # published by education
    with connect(warehouse_dsn) as conn:
        apply_batch(conn, [recorded])
    unknown = "00000000-0000-5000-8000-000000000000"
    asked = {"event_ids": [str(recorded.event_id), unknown]}
    education = signed_in(warehouse_dsn, api_dsn, "partner", "education")
    assert education.post("/receipts", json=asked).json() == {"recorded": [str(recorded.event_id)]}
    health = signed_in(warehouse_dsn, api_dsn, "partner", "health")
    assert health.post("/receipts", json=asked).json() == {"recorded": []}
    refused = education.post("/receipts", json={"event_ids": ["not-a-uuid"]})
    assert refused.status_code == 422 and refused.headers["content-type"] == PROBLEM


def test_a_partner_sees_its_own_submissions_and_refusals_and_nobody_elses(
    warehouse_dsn: str, api_dsn: str
) -> None:
    plan = plan_event(REQUEST, dt.date(2025, 5, 1), extract_id=uuid.uuid4())
    with connect(warehouse_dsn) as conn:
        apply_batch(conn, [plan])
        for source, extract_id in (("education", plan.extract_id), ("health", uuid.uuid4())):
            conn.execute(
                "INSERT INTO extract_manifests (extract_id, event_type, source_system,"
                " contract_id, area_code, published_at, rows_read, rows_sent, rows_refused)"
                " VALUES (%s, 'EhcPlanIssued', %s, 'c', 'E10000018', now(), 3, 2, 1)"
                " ON CONFLICT DO NOTHING",
                (extract_id, source),
            )
        quarantine(
            conn,
            [
                ("p.education.events", 0, 1, "not_in_contract", "field x", b"\x00"),
                ("p.health.events", 0, 1, "unknown_type", "type y", b"\x00"),
            ],
        )
    education = signed_in(warehouse_dsn, api_dsn, "partner", "education", topic_prefix="p.")
    submissions = education.get("/partner/submissions").json()
    assert submissions["party"] == "education"
    assert [e["extract_id"] for e in submissions["extracts"]] == [str(plan.extract_id)]
    assert submissions["extracts"][0]["events_recorded"] == 1
    assert submissions["events_by_type"] == {"EhcPlanIssued": 1}
    refusals = education.get("/partner/refusals").json()
    assert refusals["held_by_reason"] == {"not_in_contract": 1}
    assert [m["topic"] for m in refusals["messages"]] == ["p.education.events"]
    assert "message" not in refusals["messages"][0]  # the refused bytes never leave

    health = signed_in(warehouse_dsn, api_dsn, "partner", "health", topic_prefix="p.")
    assert health.get("/partner/submissions").json()["events_by_type"] == {}
    assert health.get("/partner/refusals").json()["held_by_reason"] == {"unknown_type": 1}


def test_the_openapi_document_and_docs_are_for_signed_in_callers(
    warehouse_dsn: str, api_dsn: str
) -> None:
    anonymous = TestClient(create_app(api_dsn))
    assert anonymous.get("/openapi.json").status_code == 401
    assert anonymous.get("/docs").status_code == 401
    partner = TestClient(create_app(api_dsn))
    partner.headers["Authorization"] = f"Bearer {issue(warehouse_dsn, 'partner', 'voice')}"
    spec = partner.get("/openapi.json").json()
    assert "/scorecard" in spec["paths"] and "/openapi.json" not in spec["paths"]
    problem = spec["paths"]["/scorecard"]["get"]["responses"]["401"]["content"]
    assert list(problem) == [PROBLEM]
    assert "swagger" in partner.get("/docs").text.lower()
