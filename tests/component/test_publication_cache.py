"""Published documents are kept until the warehouse changes: a repeat request with no new
event is served from memory, and a new event, a load of reference data or a rebuild of
the projections (replay applied, as after an erasure) gives a document built afresh. The
API's least-privilege role may read the version; a role that may not gets every document
built afresh."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from pipelines.reference import apply_reference
from pipelines.replay import replay
from schemas.envelope import Event
from streams.worker.unit_of_work import CurrentProjection, apply_batch
from tests.support.events import event
from warehouse.cohort_store import projection_settings
from warehouse.connection import connect
from warehouse.crosstab import crosstab_document
from warehouse.jsna import jsna_document
from warehouse.privileges import API_GROUP
from warehouse.publication_cache import (
    PUBLISHED,
    PublicationCache,
    version_readable_by,
    warehouse_version,
)
from warehouse.scorecard import scorecard_document

LOCALITIES = [(f"E0100000{n}", "Charnwood" if n % 2 else "Melton") for n in range(1, 10)]
POPULATION = [("2026", "all", "all", "150000"), ("2026", "locality", "Charnwood", "60000")]
AS_AT = dt.date(2026, 10, 31)

# what migration 0011 grants the API's role, so that it can read the version
GRANT = (
    "GRANT SELECT (sequence) ON events TO hub_api;"
    " GRANT SELECT (load_id) ON reference_loads TO hub_api"
)  # with 0014's grant of projection_rebuilds(rebuild_id), never revoked here


def children(first: int, count: int, issued: dt.date) -> list[Event]:
    """`count` children whose EHC plans were issued on `issued`, each with an address."""
    made: list[Event] = []
    for n in range(first, first + count):
        person = f"child-{n}"
        made.append(
            event(
                "EhcPlanIssued",
                issued,
                {
                    "request_date": (issued - dt.timedelta(days=100)).isoformat(),
                    "issue_date": issued.isoformat(),
                    "permitted_exception": False,
                    "primary_need": "ASD" if n % 3 else "SEMH",
                },
                nhs=person,
            )
        )
        made.append(
            event(
                "PersonDetailsRecorded",
                issued,
                {"month_of_birth": "2015-04", "sex": "MALE", "lsoa_code": LOCALITIES[n % 9][0]},
                nhs=person,
            )
        )
    return made


def store(conn: psycopg.Connection, events: list[Event]) -> None:
    apply_batch(conn, events, projection=CurrentProjection())


@pytest.fixture
def conn(warehouse_dsn: str) -> Iterator[psycopg.Connection]:
    """The warehouse with reference data and forty children with plans, as its owner."""
    with connect(warehouse_dsn) as conn:
        apply_reference(conn, LOCALITIES, POPULATION, loaded_by="test", dsn=warehouse_dsn)
        store(conn, children(0, 40, dt.date(2026, 6, 15)))
        yield conn


def test_a_repeat_is_served_from_memory_and_a_new_event_builds_afresh(
    conn: psycopg.Connection,
) -> None:
    scorecard, jsna = scorecard_document(conn), jsna_document(conn, AS_AT)
    crosstab = crosstab_document(conn, AS_AT, "primary_need", "locality")
    assert scorecard_document(conn) is scorecard
    assert jsna_document(conn, AS_AT) is jsna
    assert crosstab_document(conn, AS_AT, "primary_need", "locality") is crosstab
    assert jsna_document(conn, AS_AT - dt.timedelta(days=31)) is not jsna  # other arguments

    store(conn, children(40, 20, dt.date(2026, 9, 20)))

    fresh = scorecard_document(conn)
    assert fresh is not scorecard and fresh["as_at"] == "2026-09-20" != scorecard["as_at"]
    assert jsna_document(conn, AS_AT) != jsna
    assert crosstab_document(conn, AS_AT, "primary_need", "locality") is not crosstab
    assert scorecard_document(conn) is fresh


def test_a_load_of_reference_data_builds_afresh(
    warehouse_dsn: str, conn: psycopg.Connection
) -> None:
    jsna = jsna_document(conn, AS_AT)
    doubled = [(year, dim, value, str(int(people) * 2)) for year, dim, value, people in POPULATION]
    apply_reference(conn, LOCALITIES, doubled, loaded_by="test", dsn=warehouse_dsn)

    fresh = jsna_document(conn, AS_AT)
    assert fresh is not jsna

    def rate(document: dict[str, object]) -> object:
        cells = document["cells"]
        assert isinstance(cells, list)
        return next(
            cell["rate_per_1000"]
            for cell in cells
            if (cell["send_status"], cell["dimension"]) == ("EHC_PLAN", "all")
        )

    assert rate(fresh) != rate(jsna)


def test_a_rebuild_of_the_projections_builds_afresh(conn: psycopg.Connection) -> None:
    """A rebuild that stores no event and loads no reference data (here the live tables
    are changed behind the cache's back, then a replay puts them right) is seen at once,
    not when the entry ages out."""
    scorecard = scorecard_document(conn)
    conn.execute("DELETE FROM kpi_measures")  # what the next document must not show
    assert scorecard_document(conn) is scorecard  # nothing the version covers moved

    replay(conn, projection_settings(conn), apply=True)

    rebuilt = scorecard_document(conn)
    assert rebuilt is not scorecard and rebuilt == scorecard  # the rebuild restored them


def test_the_cache_is_bounded_and_forgets_old_versions_and_old_entries(
    conn: psycopg.Connection,
) -> None:
    now = [0.0]
    cache = PublicationCache(max_entries=3, max_age_s=60.0, clock=lambda: now[0])

    def build(n: int) -> Callable[[psycopg.Connection], dict[str, Any]]:
        return lambda _: {"n": n}

    first = [cache.document(conn, "test", n, build(n)) for n in range(5)]
    assert len(cache) == 3 and cache.builds == 5
    assert cache.document(conn, "test", 4, build(-1)) is first[4]
    assert cache.document(conn, "test", 0, build(0)) is not first[0]  # evicted
    now[0] = 61.0
    assert cache.document(conn, "test", 4, build(4)) is not first[4]  # too old
    store(conn, children(100, 1, dt.date(2026, 7, 1)))
    cache.document(conn, "test", 4, build(4))
    assert len(cache) == 1  # entries of the earlier version can never be asked for again


def test_the_api_role_reads_the_version_and_without_it_gets_documents_built_afresh(
    api_dsn: str, conn: psycopg.Connection
) -> None:
    assert version_readable_by(conn, API_GROUP)  # migration 0011 grants it
    with connect(api_dsn) as api:
        version = warehouse_version(api)
        assert version is not None and version == warehouse_version(conn)
        assert scorecard_document(api) is scorecard_document(api)
        conn.execute(
            "REVOKE SELECT (sequence) ON events FROM hub_api;"
            " REVOKE SELECT ON reference_loads FROM hub_api"
        )
        assert warehouse_version(api) is None
        builds = PUBLISHED.builds
        assert scorecard_document(api) is not scorecard_document(api)  # built afresh each time
        assert PUBLISHED.builds == builds
        conn.execute(GRANT)
        assert scorecard_document(api) is scorecard_document(api)
