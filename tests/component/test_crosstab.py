"""JSNA cross-tabulations from the register: every margin is the one-way JSNA cell."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import psycopg
import pytest

from streams.crosstab import BREAKDOWNS, SEND_STATUS, UnknownBreakdown
from streams.crosstab_publication import OutOfStep, every_pair
from streams.worker.unit_of_work import apply_batch
from tests.component.test_cohort_store import _stored_cells
from tests.support.api import signed_in
from tests.unit.test_cohort_projection import SETTINGS, random_history
from warehouse.crosstab import cross_tab, published_crosstab, published_crosstabs
from warehouse.reference import load_reference

MONTH_ENDS = (dt.date(2024, 3, 31), dt.date(2024, 10, 31), dt.date(2025, 1, 31))
SINGLE_VALUED = [b for b in BREAKDOWNS if b != "flag"]


def test_every_two_way_table_adds_up_to_the_one_way_cells(warehouse_dsn: str) -> None:
    history = random_history(seed=12, people=60, events=700, days=420)
    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        for start in range(0, len(history), 90):
            apply_batch(conn, history[start : start + 90], projection=SETTINGS)
        cells = _stored_cells(conn)

        for day in MONTH_ENDS:
            one_way = {
                (status, dimension, value): n
                for (as_at, status, dimension, value), n in cells.items()
                if as_at == day
            }
            assert one_way, day
            for other in BREAKDOWNS:
                if other == SEND_STATUS:
                    continue
                # by SEND status: exactly the cells, which are kept by SEND status
                table = cross_tab(conn, day, SEND_STATUS, other, SETTINGS.locality_of)
                assert {(s, other, v): n for (s, v), n in table.counts.items()} == {
                    key: n for key, n in one_way.items() if key[1] == other
                }
            people = Counter({status: n for (status, d, _), n in one_way.items() if d == "all"})
            for rows in BREAKDOWNS:
                for columns in SINGLE_VALUED:
                    if rows == columns:
                        continue
                    table = cross_tab(conn, day, rows, columns, SETTINGS.locality_of)
                    # summed over a single-valued breakdown, each row is the one-way count
                    margin: Counter[str] = Counter()
                    for (row, _), n in table.counts.items():
                        margin[row] += n
                    if rows == SEND_STATUS:
                        assert margin == people
                    else:
                        expected: Counter[str] = Counter()
                        for (_, dimension, value), n in one_way.items():
                            if dimension == rows:
                                expected[value] += n
                        assert margin == expected, (day, rows, columns)


def test_an_any_date_reads_the_month_end_on_or_before_it(warehouse_dsn: str) -> None:
    history = random_history(seed=3, people=10, events=120, days=300)
    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        apply_batch(conn, history, projection=SETTINGS)
        mid_month = cross_tab(conn, dt.date(2024, 6, 17), "sex", "age_band", SETTINGS.locality_of)
        month_end = cross_tab(conn, dt.date(2024, 5, 31), "sex", "age_band", SETTINGS.locality_of)
        assert mid_month.as_at == dt.date(2024, 5, 31)
        assert mid_month.counts == month_end.counts


@pytest.mark.parametrize(("rows", "columns"), [("sex", "sex"), ("sex", "shoe_size")])
def test_an_unknown_or_repeated_breakdown_is_refused_with_the_choices(
    warehouse_dsn: str, rows: str, columns: str
) -> None:
    with psycopg.connect(warehouse_dsn, autocommit=True) as conn, pytest.raises(UnknownBreakdown):
        cross_tab(conn, dt.date(2024, 5, 31), rows, columns)


def test_every_pair_publishes_at_month_ends_within_and_past_the_horizon(
    warehouse_dsn: str, api_dsn: str
) -> None:
    history = random_history(seed=5, people=40, events=400, days=420)
    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        load_reference(conn, sorted(SETTINGS.locality_of.items()), [], "test")
        apply_batch(conn, history, projection=SETTINGS)
        past_horizon = dt.date(SETTINGS.last_month.year + 1, 11, 30)
        for day in (dt.date(2025, 12, 31), past_horizon):
            published = published_crosstabs(conn, day, every_pair())
            assert len(published) == len(every_pair())
        nobody = published_crosstab(conn, past_horizon, "primary_need", "flag").document
        assert {cell["people"]["status"] for cell in nobody["cells"]} <= {"exact"}


def test_a_register_out_of_step_with_the_jsna_is_refused_not_published(
    warehouse_dsn: str, api_dsn: str
) -> None:
    # the JSNA counted by localities the warehouse's reference data does not hold (as
    # between a reference load and the rebuild that follows it): the cross-tab's lines
    # cannot add up to the one-way cells, so it is refused rather than published
    history = random_history(seed=5, people=40, events=400, days=420)
    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        apply_batch(conn, history, projection=SETTINGS)
        with pytest.raises(OutOfStep, match="being rebuilt"):
            published_crosstab(conn, dt.date(2025, 12, 31), "sex", "locality")
    client = signed_in(warehouse_dsn, api_dsn, "public_health")
    answer = client.get("/jsna/crosstab", params={"by": "sex,locality", "as_at": "2025-12-31"})
    assert answer.status_code == 503
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "being rebuilt" in answer.json()["detail"]
