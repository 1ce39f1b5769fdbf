"""A commissioner follows a KPI from its scorecard tile to its page and on to a download.

The tiles are the KPIs of the published scorecard, each showing the value the document
publishes (or its symbol); the KPI's page shows its numerator and denominator as
published; the scorecard downloaded from that page holds the KPI's rows. And issue 13's
"done when": two clicks from the sign-in page, every KPI's trend and comparators are in
sight, the comparators those the reference table holds.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
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


COMPARED = re.compile(r"^(?P<geography>.+) (?P<year>\d{4}): (?P<value>[\d,.]+)")


def test_a_new_user_finds_any_kpis_trend_and_comparator_in_two_clicks(
    site: Site, browser: Browser
) -> None:
    with connect(site.dsn) as conn:
        names = {kpi["id"]: kpi["name"] for kpi in scorecard_document(conn)["kpis"]}
        rows = conn.execute(
            "SELECT kpi_id, geography_name, year, value FROM reference_comparators"
        ).fetchall()
    published: dict[str, dict[tuple[str, int], float]] = defaultdict(dict)
    for kpi_id, geography, year, value in rows:
        published[kpi_id][(geography, year)] = value
    page = browser.new_context(base_url=site.url).new_page()
    page.goto("/sign-in")
    page.get_by_label("Token").fill(site.tokens[Role.COMMISSIONER])

    page.get_by_role("button", name="Sign in").click()  # click 1: a commissioner's own page
    page.wait_for_load_state()

    assert page.url == f"{site.url}/dashboard/scorecard"  # each tile: its trend, comparators
    for kpi_id, name in names.items():
        tile = page.locator(f'[data-kpi="{kpi_id}"]')
        trend = tile.locator("svg[role=img] > title").all_text_contents()
        assert trend == [f"{name}: trend by month"], kpi_id
        compared = tile.locator('[data-field="comparators"]')
        if not published[kpi_id]:
            assert compared.inner_text().strip() == "no comparator published", kpi_id
            continue
        shown = [COMPARED.match(item) for item in compared.locator("li").all_inner_texts()]
        assert shown, f"{kpi_id}: its comparators are not shown"
        for found in shown:
            assert found is not None, kpi_id
            key = (found["geography"], int(found["year"]))
            assert float(found["value"].replace(",", "")) == round(published[kpi_id][key], 1)
    excluding = page.locator('[data-kpi="ehcp_20_weeks_excl_exceptions"]')
    assert "England 2024: 46.4%" in excluding.inner_text()  # DfE's, as issue 13 quotes it

    excluding.get_by_role("link").click()  # click 2: the KPI's whole chart and comparators
    page.wait_for_url("**/dashboard/scorecard/ehcp_20_weeks_excl_exceptions")
    charts = page.locator("main svg[role=img] > title").all_text_contents()
    assert f"{names['ehcp_20_weeks_excl_exceptions']}: monthly trend" in charts
    comparators = page.locator("#comparators tbody tr").all_inner_texts()
    assert any(row.split("\t")[:3] == ["2024", "England", "46.4%"] for row in comparators)
    page.context.close()
