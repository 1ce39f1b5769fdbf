"""The retention rule: kept for 8 years after the later of the 25th birthday month and the
contract's end; a month of birth unknown keeps the events, and is counted.

The shipped contract ends on 2028-12-31, so its own part lets go on 2037-01-01. Someone
born in March 2010 turns 25 in March 2035: kept to the end of March 2043.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from contracts.loading import default_contract_path, load_checked
from streams.retention import Person, due_from, plan_retention

D = dt.date
SHIPPED = load_checked(default_contract_path())
CONTRACTS = {SHIPPED.contract_id: SHIPPED}


def person(month_of_birth: str | None, *, person_id: str | None = "p1", events: int = 2) -> Person:
    ids = tuple(uuid.uuid4() for _ in range(events))
    return Person(person_id, month_of_birth, {SHIPPED.contract_id: ids})


def due_ids(people: list[Person], today: dt.date) -> set[uuid.UUID]:
    plan = plan_retention(people, CONTRACTS, today)
    return {event_id for due in plan.due for event_id in due.event_ids}


@pytest.mark.parametrize(
    ("today", "due"),
    [
        (D(2043, 3, 31), False),  # the last day of the month 8 years after the 25th birthday month
        (D(2043, 4, 1), True),
    ],
)
def test_events_go_the_month_after_the_25th_birthday_month_plus_8_years(
    today: dt.date, due: bool
) -> None:
    someone = person("2010-03")
    assert bool(due_ids([someone], today)) is due
    assert due_from(SHIPPED, someone) == D(2043, 4, 1)


def test_a_december_birth_runs_into_the_next_year() -> None:
    assert due_from(SHIPPED, person("2010-12")) == D(2044, 1, 1)


def test_the_contracts_end_keeps_them_when_it_is_later() -> None:
    older = person("1990-06")  # 25 in 2015, plus 8: 2023, before the contract ends
    assert due_from(SHIPPED, older) == D(2037, 1, 1)
    assert not due_ids([older], D(2036, 12, 31))
    assert due_ids([older], D(2037, 1, 1)) == set(older.events_by_contract[SHIPPED.contract_id])


def test_a_longer_retention_counts_from_both_ends() -> None:
    longer = SHIPPED.model_copy(
        update={"retention": SHIPPED.retention.model_copy(update={"years": 10})}
    )
    assert due_from(longer, person("2010-03")) == D(2045, 4, 1)
    assert due_from(longer, person("1990-06")) == D(2039, 1, 1)


def test_an_unknown_month_of_birth_keeps_the_events_and_is_counted() -> None:
    unknown = person(None, person_id="p2")
    known = person("1990-06")
    plan = plan_retention([unknown, known], CONTRACTS, D(2090, 1, 1))
    assert {i for due in plan.due for i in due.event_ids} == set(
        known.events_by_contract[SHIPPED.contract_id]
    )
    assert plan.kept_birth_month_unknown == 1
    # before the contract's own part lets go, nobody is kept for want of a birth month
    assert plan_retention([unknown], CONTRACTS, D(2030, 1, 1)).kept_birth_month_unknown == 0


def test_events_naming_nobody_wait_for_the_contract_only() -> None:
    nobody = person(None, person_id=None)
    assert not due_ids([nobody], D(2036, 12, 31))
    assert due_ids([nobody], D(2037, 1, 1))


def test_events_of_a_contract_not_loaded_are_kept_and_counted() -> None:
    plan = plan_retention([person("1990-06")], {}, D(2090, 1, 1))
    assert plan.due == ()
    assert plan.kept_contract_unknown == 2


def test_the_plan_names_the_contracts_rule_in_one_line() -> None:
    [due] = plan_retention([person("1990-06")], CONTRACTS, D(2090, 1, 1)).due
    assert due.contract_id == SHIPPED.contract_id
    assert due.rule.startswith("Events are kept for 8 years") and "\n" not in due.rule
