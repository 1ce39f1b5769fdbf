"""Published documents are built before the request that reads them: the API builds the
landing pages' documents at start-up, before it answers, and its refresher rebuilds the
documents asked for lately once the warehouse moves, so the first request after an event
batch is served a document of the new version without building it. An API request that
comes before the refresher has built is never served the old document: it builds (or
waits for) the current one; a dashboard page may be served the one before the batch.
An entry past its age but of the current version is served until the refresher
replaces it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from pipelines.replay import replay
from tests.component.test_dashboard import signed_in as browser_signed_in
from tests.component.test_publication_cache import children, store
from tests.component.test_publication_cache import conn as conn
from tests.support.api import signed_in as api_signed_in
from warehouse.api import create_app
from warehouse.cohort_store import projection_settings
from warehouse.connection import connect
from warehouse.feeds import latest_events
from warehouse.jsna import jsna_document
from warehouse.publication_cache import PUBLISHED, PublicationCache, may_lag
from warehouse.publication_refresher import Refresher
from warehouse.scorecard import scorecard_document
from warehouse.web import charts
from warehouse.web.jsna_pages import latest_month_end


@pytest.fixture
def refresher(warehouse_dsn: str) -> Iterator[Refresher]:
    """A refresher of the process's cache, run a round at a time by the test (no thread)."""
    PUBLISHED.clear()

    def borrow() -> AbstractContextManager[psycopg.Connection]:
        return connect(warehouse_dsn)

    yield Refresher(borrow)
    PUBLISHED.clear()


def test_after_an_event_batch_the_refresher_has_built_the_document_asked_for_lately(
    conn: psycopg.Connection,
    refresher: Refresher,
) -> None:
    before = scorecard_document(conn)
    assert refresher.refresh_now() == 0  # nothing moved: nothing built

    store(conn, children(40, 20, dt.date(2026, 9, 20)))
    assert refresher.refresh_now() == 1
    builds = PUBLISHED.builds
    after = scorecard_document(conn)
    assert PUBLISHED.builds == builds  # served as the refresher built it
    assert after is not before and after["as_at"] == "2026-09-20" != before["as_at"]


def test_a_request_before_the_refresher_has_built_reads_every_event_stored_before_it(
    conn: psycopg.Connection,
    refresher: Refresher,
) -> None:
    before = scorecard_document(conn)
    PUBLISHED.refreshers += 1  # as while the API's refresher runs
    try:
        store(conn, children(40, 20, dt.date(2026, 9, 20)))
        builds = PUBLISHED.builds
        after = scorecard_document(conn)  # the refresher has not run: never the old one
        assert after is not before and after["as_at"] == "2026-09-20"
        assert PUBLISHED.builds == builds + 1
        assert refresher.refresh_now() == 0  # and the refresher finds it built

        store(conn, children(60, 5, dt.date(2026, 9, 25)))
        replay(conn, projection_settings(conn), apply=True)  # and a rebuild, as an erasure's
        rebuilt = scorecard_document(conn)
        assert rebuilt is not after and rebuilt["as_at"] == "2026-09-25"
    finally:
        PUBLISHED.refreshers -= 1


def test_a_dashboard_page_may_be_served_the_document_before_the_batch_never_the_api(
    conn: psycopg.Connection, warehouse_dsn: str, api_dsn: str
) -> None:
    PUBLISHED.clear()
    before = scorecard_document(conn)
    PUBLISHED.refreshers += 1  # as while the API's refresher runs
    try:
        store(conn, children(40, 20, dt.date(2026, 9, 20)))
        with may_lag():  # as for a dashboard page: the one before, while the refresher builds
            assert scorecard_document(conn) is before
        current = scorecard_document(conn)  # anyone else: the current one, built
        assert current is not before and current["as_at"] == "2026-09-20"

        store(conn, children(60, 5, dt.date(2026, 9, 25)))
        replay(conn, projection_settings(conn), apply=True)  # and a rebuild, as an erasure's
        with may_lag():  # never what was built before a rebuild
            assert scorecard_document(conn)["as_at"] == "2026-09-25"

        store(conn, children(70, 5, dt.date(2026, 9, 28)))  # through the app's middleware
        browser = browser_signed_in(warehouse_dsn, api_dsn, "commissioner")
        behind = PUBLISHED.served_behind
        assert browser.get("/dashboard/scorecard").status_code == 200
        assert PUBLISHED.served_behind == behind + 1  # the page: the document before the batch
        csv = browser.get("/dashboard/scorecard/download", params={"format": "csv"})
        assert csv.status_code == 200 and PUBLISHED.served_behind == behind + 1  # an export
        api = api_signed_in(warehouse_dsn, api_dsn, "commissioner")
        assert api.get("/scorecard").json()["as_at"] == "2026-09-28"  # the API: current
    finally:
        PUBLISHED.refreshers -= 1
        PUBLISHED.clear()


def test_an_old_entry_is_served_while_a_refresher_runs_and_then_replaced(
    conn: psycopg.Connection,
) -> None:
    now = [0.0]
    cache = PublicationCache(max_age_s=60.0, refresh_window_s=600.0, clock=lambda: now[0])
    made = iter(range(100))

    def build(_: psycopg.Connection) -> dict[str, Any]:
        return {"n": next(made)}

    first = cache.document(conn, "test", "asked", build)
    with cache.pinned():
        pinned = cache.document(conn, "test", "pinned", build)
    cache.refreshers = 1  # as while the API's refresher runs
    now[0] = 61.0
    assert cache.document(conn, "test", "asked", build) is first  # past its age, still served
    assert cache.refresh(conn) == 2  # both past their age
    renewed = cache.document(conn, "test", "asked", build)
    assert renewed is not first and renewed["n"] > first["n"]

    now[0] = 61.0 + 601.0  # nobody asked for "asked" within the window; "pinned" is pinned
    assert cache.refresh(conn) == 1
    assert cache.document(conn, "test", "pinned", build) is not pinned

    kept = cache.document(conn, "test", "kept", build)  # a refresher that never rebuilds it:
    now[0] += 3 * 60.0 - 1  # served past its age, but not for ever
    assert cache.document(conn, "test", "kept", build) is kept
    now[0] += 2
    assert cache.document(conn, "test", "kept", build) is not kept


def test_the_api_warms_up_before_it_answers_and_refreshes_while_it_runs(api_dsn: str) -> None:
    PUBLISHED.clear()
    app = create_app(api_dsn, keep_fresh=True)
    with TestClient(app) as client:  # the app's start-up has run
        assert client.get("/health").status_code == 200
        builds = PUBLISHED.builds
        assert builds >= 4 and charts._warm and PUBLISHED.refreshers == 1
        with connect(api_dsn) as api:  # what the landing pages read is built already
            month_end = latest_month_end(api, dt.date.today())
            scorecard_document(api), latest_events(api), jsna_document(api, month_end)
        assert PUBLISHED.builds == builds
    assert PUBLISHED.refreshers == 0  # stopped with the app
    PUBLISHED.clear()
