"""Corrections and withdrawals: the revision in effect, supersessions, and the views.

The rule (`streams/revisions.py`) is checked on its own, then through the projection:
any delivery order of records, their corrections (which may move a record to another
person or to another date) and withdrawals, in any batches, gives the register, the
JSNA cells and the person measures that a batch reference computes from the revisions
in effect alone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import uuid
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.envelope import Event
from streams.cohort import timeline
from streams.jsna import cells_from_changes
from streams.linkage import people_of
from streams.person_measures import person_contributions
from streams.projection import InMemoryStore, project
from streams.revisions import (
    WITHDRAWAL,
    Revision,
    in_effect,
    newest,
    revision_change,
    supersessions,
)
from tests.support.events import plan_event
from tests.unit.test_cohort_projection import SETTINGS, naive_cells, random_history

RECORD = uuid.UUID(int=1)
DAY = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)


def revision(
    issue: dt.date, recorded: dt.datetime, *, record: uuid.UUID = RECORD, pseudonym: str = "p" * 64
) -> Event:
    plan = plan_event(dt.date(2025, 1, 6), issue, pseudonym=pseudonym)
    return dataclasses.replace(plan, record_id=record, recorded_at=recorded)


def withdrawal(recorded: dt.datetime, *, record: uuid.UUID = RECORD) -> Event:
    plan = plan_event(dt.date(2025, 1, 6), dt.date(2025, 5, 1), pseudonym=None)
    return dataclasses.replace(
        plan,
        event_type=WITHDRAWAL,
        record_id=record,
        recorded_at=recorded,
        payload={"withdrawn_event_type": "EhcPlanIssued"},
    )


def test_the_newest_revision_by_recorded_time_is_in_effect_whatever_the_arrival_order() -> None:
    first = revision(dt.date(2025, 5, 1), DAY)
    corrected = revision(dt.date(2025, 6, 2), DAY + dt.timedelta(days=1))
    assert in_effect([first, corrected]) == corrected
    assert in_effect([corrected, first]) == corrected
    assert in_effect([]) is None


def test_a_withdrawal_takes_the_record_out_unless_a_newer_revision_follows() -> None:
    first = revision(dt.date(2025, 5, 1), DAY)
    withdrawn = withdrawal(DAY + dt.timedelta(days=1))
    assert newest([first, withdrawn]) == withdrawn
    assert in_effect([first, withdrawn]) is None
    sent_again = revision(dt.date(2025, 5, 2), DAY + dt.timedelta(days=2))
    assert in_effect([withdrawn, first, sent_again]) == sent_again


def test_a_version_1_event_is_its_own_record() -> None:
    old = plan_event(dt.date(2025, 1, 6), dt.date(2025, 5, 1))
    assert old.record_id is None and old.record_key == old.event_id
    correction = dataclasses.replace(
        plan_event(dt.date(2025, 1, 6), dt.date(2025, 6, 1)),
        record_id=old.event_id,
        recorded_at=old.recorded_at + dt.timedelta(days=1),
    )
    assert correction.record_key == old.record_key
    assert in_effect([old, correction]) == correction


def test_a_correction_retracts_the_old_revision_and_applies_the_new() -> None:
    first = revision(dt.date(2025, 5, 1), DAY)
    corrected = revision(dt.date(2025, 6, 2), DAY + dt.timedelta(days=1))
    change = revision_change([first, corrected], [corrected])  # the store holds both
    assert (change.applied, change.retracted) == ((corrected,), (first,))


def test_a_stale_revision_arriving_late_changes_nothing() -> None:
    first = revision(dt.date(2025, 5, 1), DAY)
    corrected = revision(dt.date(2025, 6, 2), DAY + dt.timedelta(days=1))
    change = revision_change([corrected], [first])
    assert (change.applied, change.retracted) == ((), ())


def test_a_withdrawal_retracts_and_applies_nothing() -> None:
    first = revision(dt.date(2025, 5, 1), DAY)
    withdrawn = withdrawal(DAY + dt.timedelta(days=1))
    change = revision_change([first], [withdrawn])
    assert (change.applied, change.retracted) == ((), (first,))
    assert revision_change([], [withdrawn]) == revision_change([], [])


def test_a_record_sent_once_is_applied_and_retracts_nothing() -> None:
    first = revision(dt.date(2025, 5, 1), DAY)
    other = revision(dt.date(2025, 5, 1), DAY, record=uuid.UUID(int=2))
    change = revision_change([], [first, other])
    assert (change.applied, change.retracted) == ((first, other), ())


def test_supersessions_say_by_whom_and_from_which_sequence() -> None:
    first = revision(dt.date(2025, 5, 1), DAY)
    corrected = revision(dt.date(2025, 6, 2), DAY + dt.timedelta(days=2))
    stale = revision(dt.date(2025, 5, 9), DAY + dt.timedelta(days=1))
    withdrawn = withdrawal(DAY + dt.timedelta(days=3))
    found = supersessions(
        [Revision(10, first), Revision(20, corrected), Revision(30, stale), Revision(40, withdrawn)]
    )
    assert {(s.event_id, s.superseded_by, s.sequence) for s in found} == {
        (first.event_id, corrected.event_id, 20),  # when the correction arrived
        (stale.event_id, corrected.event_id, 30),  # on its own arrival: already out of date
        (corrected.event_id, withdrawn.event_id, 40),
    }
    assert {s.record_key for s in found} == {RECORD}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 5), st.booleans()), min_size=1, max_size=8),
    st.randoms(use_true_random=False),
)
def test_supersessions_recorded_so_far_are_what_the_revisions_so_far_imply(
    revisions: list[tuple[int, bool]], r: random.Random
) -> None:
    """Whatever order revisions arrive in, the event superseded as at any sequence is
    exactly every revision arrived by then but the newest."""
    events = [
        withdrawal(DAY + dt.timedelta(hours=h))
        if withdrawn
        else revision(dt.date(2025, 5, 1) + dt.timedelta(days=h), DAY + dt.timedelta(hours=h))
        for h, withdrawn in revisions
    ]
    r.shuffle(events)
    arrived = [Revision(sequence, e) for sequence, e in enumerate(events, start=1)]
    found = supersessions(arrived)
    for upto in range(1, len(arrived) + 1):
        so_far = [a.event for a in arrived[:upto]]
        latest = newest(so_far)
        assert latest is not None
        expected = {e.event_id for e in so_far} - {latest.event_id}
        assert {s.event_id for s in found if s.sequence <= upto} == expected


def revised_history(seed: int, people: int, events: int) -> list[Event]:
    """A history and, for some of its records, corrections (any other event: another
    date, type or person), stale revisions sent before them, and withdrawals."""
    history = random_history(seed, people, events, days=400)
    others = random_history(seed + 7, people, events, days=400)
    r = random.Random(f"revisions {seed}")  # not the histories' stream: ids must not repeat
    sent = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
    revised = []
    for original in history:
        record = original.event_id
        base = dataclasses.replace(original, record_id=record, recorded_at=sent)
        revised.append(base)
        for _ in range(r.choice([0, 0, 0, 1, 2])):
            kind = r.random()
            when = sent + dt.timedelta(hours=r.randint(-48, 48))
            if kind < 0.25:
                revised.append(
                    dataclasses.replace(
                        withdrawal(when, record=record), event_id=uuid.UUID(int=r.getrandbits(128))
                    )
                )
            else:
                replacement = r.choice(others)
                revised.append(
                    dataclasses.replace(
                        replacement,
                        event_id=uuid.UUID(int=r.getrandbits(128)),
                        record_id=record,
                        recorded_at=when,
                    )
                )
    return revised


def reference_in_effect(events: list[Event]) -> tuple[dict[str, object], Counter[object]]:
    """People linked from every revision (a link, once seen, stays), each folded from the
    revisions in effect only."""
    records: dict[uuid.UUID, list[Event]] = {}
    for event in events:
        records.setdefault(event.record_key, []).append(event)
    effective = {e.event_id for e in (in_effect(r) for r in records.values()) if e is not None}
    histories = {
        pid: timeline([e for e in person_events if e.event_id in effective])
        for pid, person_events in people_of(events).items()
    }
    return histories, naive_cells(histories.values())


def measures_in_effect(events: list[Event]) -> Counter[tuple[str, dt.date, str]]:
    records: dict[uuid.UUID, list[Event]] = {}
    for event in events:
        records.setdefault(event.record_key, []).append(event)
    effective = {e.event_id for e in (in_effect(r) for r in records.values()) if e is not None}
    measures: Counter[tuple[str, dt.date, str]] = Counter()
    for person_events in people_of(events).values():
        mine = [e for e in person_events if e.event_id in effective]
        for delta in person_contributions(mine, timeline(mine)):
            measures[(delta.kpi_id, delta.period, "numerator")] += delta.numerator
            measures[(delta.kpi_id, delta.period, "denominator")] += delta.denominator
    return Counter({key: n for key, n in measures.items() if n})


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    people=st.integers(1, 6),
    events=st.integers(1, 40),
    batch=st.integers(1, 12),
)
def test_corrections_and_withdrawals_in_any_order_give_the_reference_over_what_is_in_effect(
    seed: int, people: int, events: int, batch: int
) -> None:
    revised = revised_history(seed, people, events)
    delivered = list(revised)
    random.Random(seed + 3).shuffle(delivered)
    store = InMemoryStore()
    for start in range(0, len(delivered), batch):
        project(store, store.append(delivered[start : start + batch]), SETTINGS)

    expected_people, expected_cells = reference_in_effect(revised)
    assert {pid: spans for pid, spans in store.people.items() if spans} == {
        pid: spans for pid, spans in expected_people.items() if spans
    }
    assert cells_from_changes(store.cells, SETTINGS.month_ends()) == expected_cells
    assert store.measures == measures_in_effect(revised)
