"""The cohort register and JSNA cells in real PostgreSQL equal the in-memory batch reference."""

from __future__ import annotations

import random
from collections import Counter

import psycopg
import pytest

from streams.jsna import Cell
from tests.unit.test_cohort_projection import SETTINGS, random_history, reference
from warehouse.cohort_store import PostgresProjectionStore, register_counts
from warehouse.event_store import apply_batch


def _stored_cells(conn: psycopg.Connection) -> Counter[Cell]:
    rows = conn.execute("SELECT as_at, send_status, dimension, value, people FROM jsna_cells")
    return Counter({(a, s, d, v): int(n) for a, s, d, v, n in rows.fetchall()})


def test_shuffled_duplicated_batches_give_the_reference_register_and_cells(
    warehouse_dsn: str,
) -> None:
    history = random_history(seed=99, people=40, events=600, days=300)
    r = random.Random(5)
    delivered = history + r.sample(history, 150)
    r.shuffle(delivered)
    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        for start in range(0, len(delivered), 70):
            apply_batch(conn, delivered[start : start + 70], projection=SETTINGS)

        expected_people, expected_cells = reference(history)
        store = PostgresProjectionStore(conn)
        assert store.histories(expected_people) == expected_people
        persons = conn.execute("SELECT count(DISTINCT person_id) FROM cohort_history").fetchone()
        assert persons == (len(expected_people),)
        assert _stored_cells(conn) == expected_cells
        current = Counter(spans[-1].state.send_status for spans in expected_people.values())
        assert register_counts(conn) == dict(current)
        links = conn.execute("SELECT count(*) FROM person_links").fetchone()
        assert links is not None and links[0] > 0


def test_replay_rebuilds_equal_projections_finds_drift_and_applies_a_new_kpi_rule(
    warehouse_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import streams.measures
    from warehouse.replay import replay

    history = random_history(seed=7, people=25, events=300, days=400)
    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        for start in range(0, len(history), 45):
            apply_batch(conn, history[start : start + 45], projection=SETTINGS)

        first = replay(conn, SETTINGS, batch_events=64)
        assert first.events == len(history)
        assert first.equal, first.tables
        assert {t.table: t.live_rows > 0 for t in first.tables} == {
            "kpi_measures": True,
            "person_links": True,
            "cohort_history": True,
            "jsna_cell_changes": True,
        }
        # people shared out between three processes give the same projections
        shared = replay(conn, SETTINGS, dsn=warehouse_dsn, workers=3)
        assert shared.events == len(history)
        assert shared.equal, shared.tables

        conn.execute("UPDATE jsna_cell_changes SET change = change + 1 WHERE dimension = 'sex'")
        in_two = replay(conn, SETTINGS, dsn=warehouse_dsn, workers=2)
        for drifted in (replay(conn, SETTINGS), in_two):
            assert not drifted.equal
            assert {t.table for t in drifted.tables if not t.equal} == {"jsna_cell_changes"}

        before = _kpi(conn, "ehcp_20_weeks_incl_exceptions")
        monkeypatch.setattr(streams.measures, "STATUTORY_DAYS", 0)  # a stricter definition
        applied = replay(conn, SETTINGS, apply=True)
        assert applied.applied
        after = _kpi(conn, "ehcp_20_weeks_incl_exceptions")
        assert after[1] == before[1] > 0  # same plans counted...
        assert after[0] == 0 < before[0]  # ...none within a 0-day deadline, in every period
        assert replay(conn, SETTINGS).equal  # drift gone too


def _kpi(conn: psycopg.Connection, kpi_id: str) -> tuple[int, int]:
    row = conn.execute(
        "SELECT sum(numerator), sum(denominator) FROM kpi_measures WHERE kpi_id = %s", (kpi_id,)
    ).fetchone()
    assert row is not None
    return int(row[0] or 0), int(row[1] or 0)


def test_the_jsna_horizon_is_fixed_in_the_warehouse_once(warehouse_dsn: str) -> None:
    import datetime as dt

    from warehouse.cohort_store import jsna_horizon, projection_settings

    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        first = jsna_horizon(conn, today=dt.date(2026, 11, 25))
        later = jsna_horizon(conn, today=dt.date(2031, 1, 1))  # months later: the same span
        assert first == later == (dt.date(2019, 1, 1), dt.date(2027, 12, 1))
        settings = projection_settings(conn)
        assert settings.month_ends()[-1] == dt.date(2027, 12, 31)
