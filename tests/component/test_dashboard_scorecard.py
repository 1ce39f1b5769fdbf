"""The commissioner's scorecard pages over a real warehouse: the smoke area as the worker
applies it, the comparators the hub ships and a few made up for the test, and the API's
app signed in by session cookie, as a browser is after signing in.

Every figure a page shows is checked against the published scorecard document (what
`GET /scorecard` sends), read here through the owner's connection.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hub.stack.postgres import EmbeddedPostgres
from streams.comparators import Comparator, GeographyKind
from tests.conftest import API_LOGIN, TEMPLATE_DATABASE
from tests.support.api import bearer, issue
from tests.support.dashboard import load_smoke_area, session_client, shipped_comparators
from tests.support.page_tree import Element, parse
from warehouse.api import create_app
from warehouse.connection import connect
from warehouse.scorecard import scorecard_document
from warehouse.tokens import Role

RAG_WORDS = {
    "red": "Red",
    "amber": "Amber",
    "green": "Green",
    "no_data": "No rating",
    "suppressed": "Not rated: suppressed",
}
FEED = r"(education|health|social care|voice) data to \d{1,2} [A-Z][a-z]{2} \d{4}"
FEED_AGE = re.compile(rf"^{FEED}(; {FEED})*$")


def made_up(kpi_id: str, kind: GeographyKind, name: str, value: float) -> Comparator:
    """A comparator for 2025, a year the smoke area's months cover (synthetic figures)."""
    code = {GeographyKind.ENGLAND: "E92000001", GeographyKind.REGION: "E12000004"}[kind]
    return Comparator(
        code, name, kind, kpi_id, 2025, "calendar_year", value, None, None,
        "Made up for this test", "https://example.org/made-up",
    )  # fmt: skip


# England far better than the area in 2025 on two absence rates (lower is better), far
# worse on the third: with the area's changes on a year, exactly one KPI is significantly
# worse than England and getting worse (`test_the_filter_...` checks the premises).
MADE_UP = (
    made_up("absence_rate_sen_support", GeographyKind.ENGLAND, "England", 1.0),
    made_up("absence_rate_sen_support", GeographyKind.REGION, "East Midlands", 9.0),
    made_up("absence_rate_ehc_plan", GeographyKind.ENGLAND, "England", 1.0),
    made_up("absence_rate_none", GeographyKind.ENGLAND, "England", 60.0),
)


@dataclass(frozen=True)
class Area:
    owner_dsn: str
    app: FastAPI
    document: dict[str, Any]

    def client(self, role: Role, party: str | None = None) -> TestClient:
        api_dsn = self.owner_dsn.replace("user=postgres", f"user={API_LOGIN}")
        return session_client(self.owner_dsn, api_dsn, role, party, self.app)


@pytest.fixture(scope="module")
def area(
    postgres_server: EmbeddedPostgres, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Area]:
    name = f"hub_scorecard_pages_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server.dsn("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DATABASE}"')
    dsn = postgres_server.dsn(name)
    scratch = tmp_path_factory.mktemp("area")
    load_smoke_area(dsn, Path(scratch), [*shipped_comparators(), *MADE_UP])
    with connect(dsn) as conn:
        document = scorecard_document(conn)
    yield Area(dsn, create_app(dsn.replace("user=postgres", f"user={API_LOGIN}")), document)


def tiles_of(page: Element) -> dict[str, Element]:
    return {tile.attrs["data-kpi"]: tile for tile in page.find_all("li", class_="hub-tile")}


def field(tile: Element, name: str) -> str:
    return tile.find(data_field=name).text()


def written(figure: dict[str, Any], unit: str) -> str:
    """A published figure as the page must write it."""
    value = figure["value"]
    if value is None:
        return str(figure["symbol"])
    return {"percent": f"{value:.1f}%", "per_1000": f"{value:.1f} per 1,000"}.get(
        unit, f"{value:,.0f}"
    )


def test_the_scorecard_shows_every_kpi_as_published_grouped_by_perspective(area: Area) -> None:
    response = area.client(Role.COMMISSIONER).get("/dashboard/scorecard")
    assert response.status_code == 200
    page = parse(response.text)
    tiles = tiles_of(page)
    kpis = area.document["kpis"]
    assert len(kpis) == 30 and list(tiles) == [kpi["id"] for kpi in kpis]
    sections = page.find_all("section", class_="hub-perspective")
    assert [s.find("h2").text().lower() for s in sections] == list(
        dict.fromkeys(kpi["perspective"] for kpi in kpis)
    )
    for section in sections:
        perspective = section.find("h2").text().lower()
        assert {t.attrs["data-kpi"] for t in section.find_all("li", class_="hub-tile")} == {
            kpi["id"] for kpi in kpis if kpi["perspective"] == perspective
        }
    for kpi in kpis:
        tile = tiles[kpi["id"]]
        assert tile.find("a").attrs["href"] == f"/dashboard/scorecard/{kpi['id']}"
        assert field(tile, "value") == written(kpi["value"], kpi["unit"]), kpi["id"]
        assert field(tile, "rag") == RAG_WORDS[kpi["rag"]], kpi["id"]
        assert "hub-tile--" + kpi["rag"] in tile.attrs["class"]
        sparkline = tile.find("svg")
        assert sparkline.find("title").text() and sparkline.find("desc").text()
        change = kpi["change_percent"]["value"]
        if change:
            assert f"{change:+.1f}% on a year" in field(tile, "change"), kpi["id"]
        elif change == 0:
            assert field(tile, "change") == "no change on a year"
        if not kpi["comparators"]:
            assert field(tile, "comparators") == "no comparator published"
        assert FEED_AGE.match(field(tile, "feeds")), field(tile, "feeds")
    suppressed = [kpi["id"] for kpi in kpis if kpi["value"]["symbol"] == "c"]
    assert suppressed, "the smoke area has suppressed figures"
    for kpi_id in suppressed:
        assert "c: suppressed" in tiles[kpi_id].find("p", class_="hub-tile__value").text()
    with connect(area.owner_dsn) as conn:
        row = conn.execute(
            "SELECT source_system, max(occurred_at) FROM events"
            " WHERE event_type = 'EhcPlanIssued' GROUP BY source_system"
        ).fetchone()
    assert row is not None
    latest: dt.date = row[1].date()
    assert field(tiles["ehcp_20_weeks_excl_exceptions"], "feeds") == (
        f"{row[0]} data to {latest.day} {latest:%b %Y}"
    )
    compared = field(tiles["absence_rate_sen_support"], "comparators")
    assert "England 2025: 1.0%, worse" in compared and "East Midlands 2025: 9.0%" in compared


def test_a_kpi_page_shows_its_months_as_a_described_chart_and_the_same_table(
    area: Area,
) -> None:
    client = area.client(Role.COMMISSIONER)
    kpi = next(k for k in area.document["kpis"] if k["id"] == "absence_rate_sen_support")
    page = parse(client.get("/dashboard/scorecard/absence_rate_sen_support?months=all").text)
    rows = page.find("table", id="monthly").find("tbody").find_all("tr")
    assert [
        (row.attrs["data-period"], *(cell.text() for cell in row.find_all("td"))) for row in rows
    ] == [
        (
            month["period"],
            written(month["numerator"], "count"),
            written(month["denominator"], "count"),
            written(month["value"], "percent"),
        )
        for month in kpi["trend"]
    ]
    chart = page.find("figure", class_="hub-chart").find("svg")
    assert chart.attrs["role"] == "img"
    assert chart.find("title").text() == f"{kpi['name']}: monthly trend"
    description = chart.find("desc").text()
    assert description.startswith(("Rose from", "Fell from", "Unchanged at"))
    assert "target 5.6%" in description and "England 1.0% in 2025" in description
    assert page.find(data_field="value").text() == written(kpi["value"], "percent")
    assert page.find(data_field="counts").text() == (
        f"numerator {written(kpi['numerator'], 'count')},"
        f" denominator {written(kpi['denominator'], 'count')}"
    )
    about = page.find("dl", id="about").text()
    for words in ("Definition", "Numerator", "Denominator", kpi["source"], kpi["owner"]):
        assert words in about
    comparators = page.find("table", id="comparators").find("tbody").find_all("tr")
    assert len(comparators) == len(kpi["comparators"]) == 2

    recent = parse(client.get("/dashboard/scorecard/absence_rate_sen_support").text)
    table = recent.find("table", id="monthly").find("tbody")
    periods = [row.attrs["data-period"] for row in table.find_all("tr")]
    assert periods == [month["period"] for month in kpi["trend"][-36:]]

    links = [a.attrs["href"] for a in page.find("ul", id="downloads").find_all("a")]
    assert all(client.get(href).status_code == 200 for href in links), links  # none broken
    link = links[0]
    download = client.get(link)
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    token = issue(area.owner_dsn, "commissioner")
    assert download.content == client.get("/exports/scorecard", headers=bearer(token)).content
    missing = client.get("/dashboard/scorecard/no_such_kpi")
    assert missing.status_code == 404 and "No KPI of the scorecard" in missing.text


def test_the_filter_shows_the_kpis_significantly_worse_than_england_and_getting_worse(
    area: Area,
) -> None:
    by_id = {kpi["id"]: kpi for kpi in area.document["kpis"]}

    def england_2025(kpi_id: str) -> str:
        entries = by_id[kpi_id]["comparators"]
        return next(c["comparison"] for c in entries if (c["kind"], c["year"]) == ("england", 2025))

    # the premises, from the published document: lower is better for all three
    assert england_2025("absence_rate_sen_support") == "worse"
    assert by_id["absence_rate_sen_support"]["change_percent"]["value"] > 0  # getting worse
    assert england_2025("absence_rate_ehc_plan") == "worse"
    assert by_id["absence_rate_ehc_plan"]["change_percent"]["value"] < 0  # getting better
    assert england_2025("absence_rate_none") == "better"

    client = area.client(Role.COMMISSIONER)
    filtered = parse(client.get("/dashboard/scorecard?filter=worse-and-worsening").text)
    assert list(tiles_of(filtered)) == ["absence_rate_sen_support"]
    assert filtered.find(id="filter").attrs.get("checked") is not None
    assert filtered.find(id="filter-result").attrs["data-shown"] == "1"
    everything = parse(client.get("/dashboard/scorecard").text)
    assert len(tiles_of(everything)) == 30
    assert everything.find(id="filter").attrs.get("checked") is None


def test_only_a_commissioner_may_open_the_scorecard_pages(area: Area) -> None:
    paths = (
        "/dashboard/scorecard",
        "/dashboard/scorecard/ehcp_20_weeks_excl_exceptions",
        "/dashboard/scorecard/download?format=csv",
    )
    for role, party in (
        (Role.PUBLIC_HEALTH, None),
        (Role.IG_AUDITOR, None),
        (Role.PARTNER, "education"),
    ):
        client = area.client(role, party)
        for path in paths:
            assert client.get(path).status_code == 403, (role, path)
    anonymous = TestClient(area.app)
    for path in paths:
        answer = anonymous.get(path, follow_redirects=False)
        assert answer.status_code == 303, path
        assert answer.headers["location"] == "/sign-in?" + urlencode({"next": path}), path
