"""The cohort register and JSNA cells in real PostgreSQL equal the in-memory batch reference."""

from __future__ import annotations

import random
from collections import Counter

import psycopg

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
