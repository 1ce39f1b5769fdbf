"""`GET /jsna/crosstab`: the cross-tab `hub jsna --by` prints, to a public health analyst.

On the smoke synthetic area the API answers the very document the CLI prints, protected
the same way, and the access log counts what left: the table's rows, every figure (cells
and both margins) and the suppressed ones among them. Anything but two different known
breakdowns is refused with the reason.
"""

from __future__ import annotations

import json
from http import HTTPStatus

import pytest
from typer.testing import CliRunner

from hub.cli import app
from tests.component.test_disclosure_audit import AS_AT, area  # noqa: F401 (the fixture)
from tests.support.api import signed_in
from warehouse.access_log import read_access
from warehouse.connection import connect

PROBLEM = "application/problem+json"


def test_the_cross_tab_is_the_document_hub_jsna_by_prints_and_the_log_counts_it(
    area: str,  # noqa: F811
    api_dsn: str,
) -> None:
    asked = {"by": "primary_need,locality", "as_at": "2026-09-05"}
    printed = CliRunner().invoke(
        app, ["jsna", "--by", asked["by"], "--as-at", asked["as_at"], "--format", "json"]
    )
    assert printed.exit_code == 0, printed.output

    response = signed_in(area, api_dsn, "public_health").get("/jsna/crosstab", params=asked)

    assert response.status_code == 200, response.text
    document = response.json()
    assert document == json.loads(printed.output)
    assert (document["as_at"], document["rows"], document["columns"]) == (
        AS_AT.isoformat(),
        "primary_need",
        "locality",
    )
    figures = [
        entry["people"]
        for part in ("cells", "row_totals", "column_totals")
        for entry in document[part]
    ]
    suppressed = [f for f in figures if f["status"] == "suppressed"]
    assert suppressed and all(
        f == {"value": None, "symbol": "c", "status": "suppressed"} for f in suppressed
    )
    with connect(area) as conn:
        (logged,) = read_access(conn)
    assert (logged.route, logged.status, dict(logged.parameters)) == ("/jsna/crosstab", 200, asked)
    assert logged.rows_returned == len(document["row_totals"])
    assert logged.cells_returned == len(figures)
    assert logged.cells_suppressed == len(suppressed) == document["disclosure"]["suppressed_cells"]


@pytest.mark.parametrize(
    ("by", "reason"),
    [
        ("sex", "takes two breakdowns"),
        ("sex,age_band,locality", "takes two breakdowns"),
        ("sex,sex", "two different breakdowns"),
        ("sex,shoe_size", "no breakdown 'shoe_size'; choose from send_status, primary_need"),
        (",", "no breakdown ''"),
    ],
)
def test_anything_but_two_different_known_breakdowns_is_refused_with_the_reason(
    warehouse_dsn: str, api_dsn: str, by: str, reason: str
) -> None:
    client = signed_in(warehouse_dsn, api_dsn, "public_health")
    refused = client.get("/jsna/crosstab", params={"by": by, "as_at": "2026-08-31"})
    assert refused.status_code == 422
    assert refused.headers["content-type"] == PROBLEM
    problem = refused.json()
    assert problem["title"] == HTTPStatus(422).phrase
    assert problem["detail"].startswith("by: ") and reason in problem["detail"], problem


def test_a_cross_tab_needs_its_breakdowns_and_a_real_date(warehouse_dsn: str, api_dsn: str) -> None:
    client = signed_in(warehouse_dsn, api_dsn, "public_health")
    assert client.get("/jsna/crosstab", params={"by": " sex , age_band "}).status_code == 200
    for params in (
        {},
        {"by": "sex,age_band", "as_at": "0001-01-01"},
        {"by": "sex,age_band", "as_at": "2026-02-30"},
        {"by": "sex,age_band", "dimension": "sex"},
    ):
        refused = client.get("/jsna/crosstab", params=params)
        assert refused.status_code == 422, params
        assert refused.headers["content-type"] == PROBLEM
