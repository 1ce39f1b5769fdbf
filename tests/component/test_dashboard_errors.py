"""The dashboard's errors are pages a person can read: a refused address on a page or a
download is an HTML page in the layout naming the field, an unknown address under
/dashboard is the layout's 404 page, signed in or not; the API's routes keep their
problem details."""

from __future__ import annotations

import re

from tests.component.test_dashboard import AREA, client_of, navigation, signed_in
from tests.support.api import bearer, issue
from warehouse.connection import connect

PROBLEM = "application/problem+json"
LONG = "2026-08-31" + "9" * 290  # 300 characters


def error_summary(html: str) -> list[str]:
    summary = re.search(r'class="govuk-error-summary".*?</ul>', html, re.S)
    assert summary is not None, html[-800:]
    items = re.findall(r"<li>(.*?)</li>", summary[0], re.S)
    return [re.sub(r"<[^>]+>", "", item).strip() for item in items]


def test_a_refused_address_on_a_page_or_a_download_is_a_page_naming_the_field(
    warehouse_dsn: str, api_dsn: str
) -> None:
    analyst = signed_in(warehouse_dsn, api_dsn, "public_health")
    for address, field, status in (
        (f"/dashboard/jsna?as_at={LONG}", "as_at", 422),
        ("/dashboard/jsna/download?format=pdf", "format", 422),
        ("/dashboard/jsna/download?format=csv&by=%20", "by", 422),
        ("/dashboard/data-quality?colour=red", "colour", 422),
    ):
        page = analyst.get(address)
        assert page.status_code == status, address
        assert page.headers["content-type"].startswith("text/html"), address
        assert AREA in page.text and "<title>Error: " in page.text, address
        assert navigation(page) == {"/dashboard/jsna", "/dashboard/data-quality"}, address
        reasons = error_summary(page.text)
        assert any(field in reason.lower() for reason in reasons), (address, reasons)
        assert "9" * 40 not in page.text, address  # the long value is not echoed back
    with connect(warehouse_dsn) as conn:
        logged = conn.execute(
            "SELECT route, status FROM access_log WHERE route LIKE '/dashboard/jsna%%' ORDER BY id"
        ).fetchall()
    assert logged == [
        ("/dashboard/jsna", 422),
        ("/dashboard/jsna/download", 422),
        ("/dashboard/jsna/download", 422),
    ]

    api = client_of(api_dsn)
    token = bearer(issue(warehouse_dsn, "public_health"))
    for address in (f"/jsna?as_at={LONG}", "/exports/jsna?format=pdf", "/jsna?colour=red"):
        refused = api.get(address, headers=token)
        assert refused.status_code == 422 and refused.headers["content-type"] == PROBLEM


def test_an_unknown_address_under_the_dashboard_is_the_layouts_404_page_signed_in_or_not(
    warehouse_dsn: str, api_dsn: str
) -> None:
    anonymous = client_of(api_dsn).get("/dashboard/no-such-page")
    assert anonymous.status_code == 404 and anonymous.headers["content-type"].startswith(
        "text/html"
    )
    assert "Page not found" in anonymous.text and AREA in anonymous.text
    assert 'href="/sign-in"' in anonymous.text and not navigation(anonymous)

    commissioner = signed_in(warehouse_dsn, api_dsn, "commissioner")
    page = commissioner.get("/dashboard/scorecard/download/extra")
    assert page.status_code == 404 and "Page not found" in page.text
    assert navigation(page) == {"/dashboard/scorecard", "/dashboard/data-quality"}

    elsewhere = client_of(api_dsn).get("/no-such-route")
    assert elsewhere.status_code == 404 and elsewhere.headers["content-type"] == PROBLEM
