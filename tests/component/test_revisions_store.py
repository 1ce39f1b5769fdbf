"""Corrections and withdrawals in real PostgreSQL: every revision kept, every supersession
recorded, the views equal to the reference over what is in effect, and a replay equal.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import uuid
from collections import Counter

import psycopg

from pipelines.reconciliation import gather_counts, reconcile
from pipelines.replay import replay
from schemas.envelope import Event
from streams.measures import sum_contributions
from streams.revisions import in_effect
from streams.scorecard import EHCP_WITHIN_20_WEEKS_EXCL_EXCEPTIONS
from streams.worker.unit_of_work import apply_batch
from tests.component.test_cohort_store import _stored_cells
from tests.support.events import plan_event
from tests.unit.test_cohort_projection import SETTINGS
from tests.unit.test_revisions import (
    measures_in_effect,
    reference_in_effect,
    revised_history,
    withdrawal,
)
from warehouse.cohort_store import PostgresProjectionStore
from warehouse.event_store import ChainBreak, verify_chain

REQUEST = dt.date(2025, 2, 3)


def _measures(conn: psycopg.Connection) -> dict[tuple[str, dt.date], tuple[int, int]]:
    rows = conn.execute("SELECT kpi_id, period, numerator, denominator FROM kpi_measures")
    return {(k, p): (int(n), int(d)) for k, p, n, d in rows.fetchall()}


def test_a_corrected_plan_moves_between_months_and_both_revisions_are_kept(
    warehouse_dsn: str,
) -> None:
    # sent in 2025 before revisions existed (version 1: its event id is its record id),
    # issued on 2 June, on time; the case system had the wrong date: it was 30 July, late
    sent = plan_event(REQUEST, dt.date(2025, 6, 2))
    corrected = dataclasses.replace(
        plan_event(REQUEST, dt.date(2025, 7, 30)),
        record_id=sent.event_id,
        recorded_at=sent.recorded_at + dt.timedelta(days=30),
    )
    other = plan_event(REQUEST, dt.date(2025, 6, 3))
    withdrawn = withdrawal(other.recorded_at + dt.timedelta(days=1), record=other.event_id)
    kpi = EHCP_WITHIN_20_WEEKS_EXCL_EXCEPTIONS.id
    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        apply_batch(conn, [sent, other], projection=SETTINGS)
        assert _measures(conn)[(kpi, dt.date(2025, 6, 1))] == (2, 2)

        apply_batch(conn, [corrected, withdrawn], projection=SETTINGS)
        measures = _measures(conn)
        assert (kpi, dt.date(2025, 6, 1)) not in measures  # both June plans came out
        assert measures[(kpi, dt.date(2025, 7, 1))] == (0, 1)  # the corrected one is late

        stored = conn.execute("SELECT count(*) FROM events").fetchone()
        assert stored == (4,)  # every revision and the withdrawal are kept
        supersessions = conn.execute(
            "SELECT event_id, superseded_by FROM event_supersessions ORDER BY sequence, event_id"
        ).fetchall()
        assert set(supersessions) == {
            (sent.event_id, corrected.event_id),
            (other.event_id, withdrawn.event_id),
        }
        assert verify_chain(conn) is None
        # reconciliation counts the plans in effect, as the KPI does
        checks = reconcile(gather_counts(conn))
        assert [(c.check, c.subject) for c in checks if not c.passed] == []
        assert any(c.check == "kpi_denominator_matches_store" for c in checks)

        # the original arriving again (an outbox retry) changes nothing
        apply_batch(conn, [sent], projection=SETTINGS)
        assert _measures(conn) == measures
        assert replay(conn, SETTINGS, batch_events=2).equal


def test_a_changed_record_id_in_the_store_breaks_the_chain(warehouse_dsn: str) -> None:
    from tests.component.test_event_store_tampering import tampering

    first = plan_event(REQUEST, dt.date(2025, 6, 2))
    corrected = dataclasses.replace(
        plan_event(REQUEST, dt.date(2025, 7, 30)),
        record_id=first.event_id,
        recorded_at=first.recorded_at + dt.timedelta(days=1),
    )
    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        apply_batch(conn, [first, corrected])
        assert verify_chain(conn) is None
        with tampering(conn):  # detach the correction from the record it corrects
            conn.execute(
                "UPDATE events SET record_id = %s WHERE event_id = %s",
                (uuid.uuid4(), corrected.event_id),
            )
        assert verify_chain(conn) == ChainBreak(2, "content_changed")


def test_revisions_in_any_order_give_the_reference_and_a_replay_equal_to_live(
    warehouse_dsn: str,
) -> None:
    revised = revised_history(seed=41, people=30, events=400)
    delivered = list(revised)
    random.Random(2).shuffle(delivered)
    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        for start in range(0, len(delivered), 37):
            apply_batch(conn, delivered[start : start + 37], projection=SETTINGS)

        expected_people, expected_cells = reference_in_effect(revised)
        histories = PostgresProjectionStore(conn).histories(expected_people)
        assert histories == {pid: spans for pid, spans in expected_people.items() if spans}
        assert _stored_cells(conn) == expected_cells

        records: dict[uuid.UUID, list[Event]] = {}
        for event in revised:
            records.setdefault(event.record_key, []).append(event)
        effective = [e for e in (in_effect(r) for r in records.values()) if e is not None]
        expected: Counter[tuple[str, dt.date, str]] = measures_in_effect(revised)
        for delta in sum_contributions(effective):
            expected[(delta.kpi_id, delta.period, "numerator")] += delta.numerator
            expected[(delta.kpi_id, delta.period, "denominator")] += delta.denominator
        stored: Counter[tuple[str, dt.date, str]] = Counter()
        for (kpi, period), (numerator, denominator) in _measures(conn).items():
            stored[(kpi, period, "numerator")] = numerator
            stored[(kpi, period, "denominator")] = denominator
        assert +stored == +expected
        superseded = conn.execute("SELECT count(*) FROM event_supersessions").fetchone()
        assert superseded is not None and superseded[0] == len(revised) - len(records)

        report = replay(conn, SETTINGS, batch_events=50)
        assert report.equal, report.tables
        parallel = replay(conn, SETTINGS, dsn=warehouse_dsn, workers=2)
        assert parallel.equal, parallel.tables
