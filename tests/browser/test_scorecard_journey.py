"""A commissioner follows a KPI from its scorecard tile to its page and on to a download.

The tiles are the KPIs of the published scorecard, each showing the value the document
publishes (or its symbol); the KPI's page shows its numerator and denominator as
published; the scorecard downloaded from that page holds the KPI's rows.
"""

from __future__ import annotations

import csv
from typing import Any

from playwright.sync_api import Browser

from tests.browser.conftest import Site
from warehouse.connection import connect
from warehouse.scorecard import scorecard_document
from warehouse.tokens import Role


def as_written(figure: dict[str, Any], unit: str) -> str:
    """A published KPI value as the scorecard writes it: 51.2%, 3.4 per 1,000, 1,234 or c."""
    value = figure["value"]
    if value is None:
        return str(figure["symbol"])
    if unit == "percent":
        return f"{value:,.1f}%"
    if unit == "per_1000":
        return f"{value:,.1f} per 1,000"
    return f"{value:,.0f}"


def count(figure: dict[str, Any]) -> str:
    return str(figure["symbol"]) if figure["value"] is None else f"{figure['value']:,.0f}"


def test_a_kpi_from_its_tile_to_its_page_to_a_download(site: Site, browser: Browser) -> None:
    page = site.page(browser, Role.COMMISSIONER)
    page.goto("/dashboard/scorecard")
    with connect(site.dsn) as conn:
        document = scorecard_document(conn)

    tiles = page.locator("[data-kpi]")
    assert sorted(tiles.evaluate_all("ts => ts.map(t => t.dataset.kpi)")) == sorted(
        kpi["id"] for kpi in document["kpis"]
    )
    for kpi in document["kpis"]:
        shown = page.locator(f'[data-kpi="{kpi["id"]}"] [data-field="value"]').inner_text()
        assert shown.strip() == as_written(kpi["value"], kpi["unit"]), kpi["id"]

    kpi = next(k for k in document["kpis"] if k["value"]["value"] is not None)
    page.locator(f'[data-kpi="{kpi["id"]}"] a').first.click()
    page.wait_for_url(f"**/dashboard/scorecard/{kpi['id']}")
    assert page.locator("h1").inner_text().strip() == kpi["name"]
    counts = page.locator('[data-field="counts"]').inner_text()
    assert counts == f"numerator {count(kpi['numerator'])}, denominator {count(kpi['denominator'])}"

    with page.expect_download() as downloading:
        page.get_by_role("link", name="Scorecard as CSV").click()
    with open(downloading.value.path(), encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row for row in rows if row["kpi_id"] == kpi["id"]], "the KPI is in the download"
    page.context.close()
