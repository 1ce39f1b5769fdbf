"""The cohort register and JSNA cells in real PostgreSQL equal the in-memory batch reference."""

from __future__ import annotations

import random
from collections import Counter

import psycopg
import pytest

from streams.jsna import Cell
from streams.worker.unit_of_work import apply_batch
from tests.unit.test_cohort_projection import SETTINGS, random_history, reference
from warehouse.cohort_store import PostgresProjectionStore, register_counts


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
    from pipelines.replay import replay

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
        phases = dict(shared.phases)
        assert list(phases) == ["linking", "folding", "comparing"]
        assert 0 < sum(phases.values()) <= shared.seconds

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


def test_each_table_is_compared_on_its_primary_key(warehouse_dsn: str) -> None:
    """The comparison counts exactly only while its keys are the tables' primary keys."""
    from pipelines.replay_tables import COMPARED_COLUMNS

    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        for table, (keys, _) in COMPARED_COLUMNS.items():
            rows = conn.execute(
                """
                SELECT a.attname FROM pg_index i
                JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
                WHERE i.indrelid = %s::regclass AND i.indisprimary
                """,
                (f"public.{table}",),
            ).fetchall()
            assert {name for (name,) in rows} == set(keys), table


def test_the_comparison_counts_what_except_all_counts(warehouse_dsn: str) -> None:
    """Missing, extra and changed rows, a NULL against a date and a changed JSON state:
    the key join gives the counts of the plain set difference, table by table."""
    from pipelines.replay_tables import COMPARED_COLUMNS, compare

    history = random_history(seed=11, people=12, events=150, days=400)
    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        apply_batch(conn, history, projection=SETTINGS)
        conn.execute("CREATE SCHEMA compared")
        for table in COMPARED_COLUMNS:
            conn.execute(f"CREATE TABLE compared.{table} (LIKE public.{table} INCLUDING ALL)")
            conn.execute(f"INSERT INTO compared.{table} SELECT * FROM public.{table}")
        assert all(compare(conn, "compared", t).equal for t in COMPARED_COLUMNS)

        spans = conn.execute(
            "SELECT person_id, valid_from FROM compared.cohort_history ORDER BY 1, 2 LIMIT 4"
        ).fetchall()
        conn.execute(
            "DELETE FROM compared.cohort_history WHERE (person_id, valid_from) = (%s, %s)",
            spans[0],
        )
        conn.execute(
            'UPDATE compared.cohort_history SET state = state || \'{"sex": "X"}\''
            " WHERE (person_id, valid_from) = (%s, %s)",
            spans[1],
        )
        conn.execute(
            "UPDATE compared.cohort_history SET valid_to = CASE WHEN valid_to IS NULL"
            " THEN DATE '2030-01-01' END WHERE (person_id, valid_from) = (%s, %s)",
            spans[2],
        )
        conn.execute(
            "INSERT INTO compared.cohort_history SELECT person_id, DATE '1999-01-01',"
            " valid_to, state, caused_by FROM public.cohort_history"
            " WHERE (person_id, valid_from) = (%s, %s)",
            spans[3],
        )
        conn.execute("UPDATE compared.kpi_measures SET numerator = numerator + 1")
        for table, (keys, values) in COMPARED_COLUMNS.items():
            columns = ", ".join((*keys, *values))
            live, rebuilt = f"public.{table}", f"compared.{table}"
            row = conn.execute(
                f"""
                SELECT (SELECT count(*) FROM {live}), (SELECT count(*) FROM {rebuilt}),
                       (SELECT count(*) FROM (SELECT {columns} FROM {live}
                                              EXCEPT ALL SELECT {columns} FROM {rebuilt}) a),
                       (SELECT count(*) FROM (SELECT {columns} FROM {rebuilt}
                                              EXCEPT ALL SELECT {columns} FROM {live}) b)
                """
            ).fetchone()
            assert row is not None
            compared = compare(conn, "compared", table)
            expected = tuple(int(n) for n in row)
            assert (
                compared.live_rows,
                compared.replayed_rows,
                compared.only_live,
                compared.only_replayed,
            ) == expected
        history_counts = compare(conn, "compared", "cohort_history")
        assert (history_counts.only_live, history_counts.only_replayed) == (3, 3)
        assert not compare(conn, "compared", "kpi_measures").equal
        assert compare(conn, "compared", "person_links").equal
        conn.execute("DROP SCHEMA compared CASCADE")


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
