"""A public health analyst explores the JSNA in the browser, as a person would.

She signs in, picks a date and a breakdown, and sees the JSNA the hub publishes: each
count as the published document has it (`c` where it is suppressed), each rate with a
95% confidence interval, a legend saying what the symbols mean, and charts with a text
description. With two breakdowns she sees the cross-tab, and its CSV download holds the
very figures the table shows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from typing import Any

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import AS_AT, Site
from warehouse.connection import connect
from warehouse.crosstab import crosstab_document
from warehouse.jsna import jsna_document
from warehouse.tokens import Role

A_YEAR_BEFORE = dt.date(2025, 8, 31)
Z = 1.959964


def as_text(figure: dict[str, Any], digits: int = 0) -> str:
    """A published figure as a table shows it: the number, or its symbol."""
    value = figure["value"]
    return str(figure["symbol"]) if value is None else f"{value:,.{digits}f}"


def wilson_per_1000(people: int, population: int) -> str:
    """The 95% Wilson score interval per 1,000, worked out here from its textbook formula."""
    p, n = people / population, population
    middle = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z / (1 + Z * Z / n) * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return f"{(middle - half) * 1000:.2f} to {(middle + half) * 1000:.2f}"


def explore(page: Page, as_at: str, first: str, second: str = "") -> None:
    page.goto("/dashboard/jsna")
    page.get_by_label("As at", exact=True).fill(as_at)
    page.get_by_label("Breakdown", exact=True).select_option(first)
    page.get_by_label("Second breakdown").select_option(second)
    page.get_by_role("button", name="Show figures").click()
    page.wait_for_load_state()


def cell(page: Page, labels: tuple[str, ...], measure: str) -> str:
    found = page.locator(f'tr[data-labels="{"|".join(labels)}"] [data-measure="{measure}"]')
    return found.inner_text().strip()


def test_one_breakdown_shows_the_published_jsna_with_rates_and_intervals(
    site: Site, browser: Browser
) -> None:
    page = site.page(browser, Role.PUBLIC_HEALTH)
    explore(page, "2026-09-05", "age_band")

    with connect(site.dsn) as conn:
        document = jsna_document(conn, AS_AT)
        population = dict(
            conn.execute(
                "SELECT value, people FROM reference_population "
                "WHERE year = 2026 AND dimension = 'age_band'"
            ).fetchall()
        )
    cells = [c for c in document["cells"] if c["dimension"] == "age_band"]
    assert len(page.locator("#jsna-table tbody tr").all()) == len(cells)
    for published in cells:
        labels = (published["value"], published["send_status"])
        assert cell(page, labels, "people") == as_text(published["people"]), labels
        assert cell(page, labels, "rate") == as_text(published["rate_per_1000"], 2), labels
        assert cell(page, labels, "people_a_year_before") == as_text(
            published["people_a_year_before"]
        )
        people = published["people"]["value"]
        expected = wilson_per_1000(people, population[labels[0]]) if people else "x"
        assert cell(page, labels, "interval") == expected, labels
    assert any(c["people"]["symbol"] == "c" for c in cells)  # the legend has work to do
    legend = page.locator("#legend")
    expect(legend).to_contain_text("c")
    expect(legend).to_contain_text("Suppressed")
    expect(legend).to_contain_text("Not available")
    for chart in ("#people-chart svg[role=img]", "#rates-chart svg[role=img]"):
        expect(page.locator(chart)).to_have_count(1)
        assert page.locator(f"{chart} > desc").text_content()
    page.context.close()


def test_two_breakdowns_show_the_cross_tab_and_its_csv_holds_the_same_figures(
    site: Site, browser: Browser
) -> None:
    page = site.page(browser, Role.PUBLIC_HEALTH)
    explore(page, "2026-09-05", "sex", "age_band")

    with connect(site.dsn) as conn:
        now = crosstab_document(conn, AS_AT, "age_band", "sex")
        before = crosstab_document(conn, A_YEAR_BEFORE, "age_band", "sex")
    earlier = {(c["row"], c["column"]): c["people"] for c in before["cells"]}
    headings = page.locator("#jsna-table thead th").all_inner_texts()
    assert headings[:2] == ["Age band", "Sex"] and "Rate per 1,000" not in headings
    for published in now["cells"]:
        labels = (published["row"], published["column"])
        assert cell(page, labels, "people") == as_text(published["people"]), labels
        assert cell(page, labels, "people_a_year_before") == as_text(earlier[labels]), labels
    expect(page.locator("#rates-chart")).to_have_count(0)  # no population for a pair
    expect(page.locator("#people-chart svg title")).to_contain_text("age band and sex")

    with page.expect_download() as downloading:
        page.get_by_role("link", name="Download as CSV").click()
    download = downloading.value
    assert download.suggested_filename == "jsna-age_band-by-sex-2026-08-31.csv"
    with open(download.path(), encoding="utf-8") as handle:
        rows = list(csv.DictReader(io.StringIO(handle.read())))
    for row in rows:
        if "Total" in (row["age_band"], row["sex"]):
            continue
        assert row["people"] == cell(page, (row["age_band"], row["sex"]), "people")
    assert len([r for r in rows if "Total" not in (r["age_band"], r["sex"])]) == len(now["cells"])
    page.context.close()
