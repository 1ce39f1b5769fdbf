"""Reference data is an input like any other (issue 10, point 3): loading localities after
events are stored puts every past JSNA cell in its locality at once, as if the figures had
been there from the start; a worker already running uses them from its next batch; and each
load is recorded: what, when and by whom."""

from __future__ import annotations

import datetime as dt

import psycopg

from pipelines.reference import apply_reference
from pipelines.replay import replay
from schemas.envelope import Event
from streams.worker.unit_of_work import CurrentProjection, apply_batch
from tests.support.events import event
from warehouse.cohort_store import projection_settings
from warehouse.connection import connect
from warehouse.reference import reference_loads

LOCALITIES = [("E01000001", "Charnwood"), ("E01000002", "Melton")]
POPULATION = [("2024", "all", "all", "150000"), ("2025", "all", "all", "151000")]


def _child(person: str, lsoa: str, issued: dt.date) -> list[Event]:
    return [
        event(
            "EhcPlanIssued",
            issued,
            {
                "request_date": (issued - dt.timedelta(days=100)).isoformat(),
                "issue_date": issued.isoformat(),
                "permitted_exception": False,
                "primary_need": "ASD",
            },
            nhs=person,
        ),
        event(
            "PersonDetailsRecorded",
            dt.date(2026, 11, 2),
            {"month_of_birth": "2015-04", "sex": "MALE", "lsoa_code": lsoa},
            nhs=person,
        ),
    ]


def _by_locality(conn: psycopg.Connection, as_at: dt.date) -> dict[str, int]:
    rows = conn.execute(
        "SELECT value, people FROM jsna_cells WHERE as_at = %s AND dimension = 'locality'"
        " AND send_status = 'EHC_PLAN'",
        (as_at,),
    ).fetchall()
    return {str(value): int(people) for value, people in rows}


def test_localities_loaded_later_reach_every_past_cell_and_the_running_worker(
    warehouse_dsn: str,
) -> None:
    worker = CurrentProjection()  # what a running batch writer holds
    with connect(warehouse_dsn) as conn:
        apply_batch(conn, _child("a", "E01000001", dt.date(2024, 3, 4)), projection=worker)
        apply_batch(conn, _child("b", "E01000002", dt.date(2024, 5, 6)), projection=worker)
        assert _by_locality(conn, dt.date(2024, 6, 30)) == {"UNKNOWN": 2}

        applied = apply_reference(
            conn, LOCALITIES, POPULATION, loaded_by="public-health-analyst", dsn=warehouse_dsn
        )
        assert applied.rebuild.applied and applied.rebuild.events == 4
        # every past month end, not only from the load on
        assert _by_locality(conn, dt.date(2024, 6, 30)) == {"Charnwood": 1, "Melton": 1}
        assert _by_locality(conn, dt.date(2024, 3, 31)) == {"Charnwood": 1}

        # the worker, started before the load, projects its next batch with the new figures
        apply_batch(conn, _child("c", "E01000002", dt.date(2025, 1, 7)), projection=worker)
        assert _by_locality(conn, dt.date(2025, 1, 31)) == {"Charnwood": 1, "Melton": 2}
        check = replay(conn, projection_settings(conn))
        assert check.equal, check.tables  # live is what a rebuild from the start gives

        [load] = reference_loads(conn)
        assert (load.load_id, load.loaded_by) == (applied.load_id, "public-health-analyst")
        assert (load.localities, load.population_rows) == (2, 2)
        assert len(load.digest) == 64


def test_a_changed_locality_moves_past_cells_and_each_load_is_recorded(
    warehouse_dsn: str,
) -> None:
    with connect(warehouse_dsn) as conn:
        apply_reference(conn, LOCALITIES, POPULATION, loaded_by="first", dsn=warehouse_dsn)
        apply_batch(
            conn, _child("a", "E01000001", dt.date(2024, 3, 4)), projection=CurrentProjection()
        )
        assert _by_locality(conn, dt.date(2024, 12, 31)) == {"Charnwood": 1}

        moved = [("E01000001", "Melton"), ("E01000002", "Melton")]
        apply_reference(conn, moved, POPULATION, loaded_by="second", dsn=warehouse_dsn)
        assert _by_locality(conn, dt.date(2024, 12, 31)) == {"Melton": 1}
        loads = reference_loads(conn)
        assert [load.loaded_by for load in loads] == ["first", "second"]
        assert loads[0].digest != loads[1].digest
