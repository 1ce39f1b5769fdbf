"""The retention rule: whose events are past their contract's retention on a given day.

A contract keeps a young person's events for `retention.years` after the later of their
25th birthday month and the contract's end. This module is that rule as pure functions:
people in (month of birth, event ids by contract), events due for erasure out, by
contract. A person whose month of birth is unknown is kept, and counted. The shell that
reads people from the register and erases is `warehouse/retention.py`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from contracts.models import Contract

AGE_OF_RULE = 25  # the young person's 25th birthday month starts the count


@dataclass(frozen=True)
class Person:
    """One person's live events, by contract; `person_id` None for events naming nobody."""

    person_id: str | None
    month_of_birth: str | None  # YYYY-MM, as the register holds it
    events_by_contract: Mapping[str, tuple[uuid.UUID, ...]]


@dataclass(frozen=True)
class Due:
    """Events of one contract due for erasure, under that contract's rule."""

    contract_id: str
    rule: str
    event_ids: tuple[uuid.UUID, ...]


@dataclass(frozen=True)
class RetentionPlan:
    due: tuple[Due, ...]
    kept_birth_month_unknown: int  # people kept only because their month of birth is unknown
    kept_contract_unknown: int  # events kept because no loaded contract has their id


def _years_later(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


def _first_of_next_month(year: int, month: int) -> dt.date:
    return dt.date(year + month // 12, month % 12 + 1, 1)


def contract_due_from(contract: Contract) -> dt.date:
    """The first day the contract's own part of the rule no longer keeps anything."""
    return _years_later(contract.valid_to, contract.retention.years) + dt.timedelta(days=1)


def person_due_from(month_of_birth: str, years: int) -> dt.date:
    """The first day after the month `years` past the 25th birthday month."""
    year, month = (int(part) for part in month_of_birth.split("-"))
    return _first_of_next_month(year + AGE_OF_RULE + years, month)


def due_from(contract: Contract, person: Person) -> dt.date | None:
    """The first day this person's events under this contract may be erased; None when
    their month of birth is unknown. Events naming nobody wait for the contract only."""
    if person.person_id is None:
        return contract_due_from(contract)
    if not person.month_of_birth:
        return None
    return max(
        contract_due_from(contract),
        person_due_from(person.month_of_birth, contract.retention.years),
    )


def plan_retention(
    people: Iterable[Person], contracts: Mapping[str, Contract], today: dt.date
) -> RetentionPlan:
    """Which events are due on `today`, grouped by contract (in contract id order)."""
    due: dict[str, list[uuid.UUID]] = {}
    unknown_birth: set[str] = set()
    unknown_contract = 0
    for person in people:
        for contract_id, event_ids in person.events_by_contract.items():
            contract = contracts.get(contract_id)
            if contract is None:
                unknown_contract += len(event_ids)
                continue
            first_day = due_from(contract, person)
            if first_day is None:
                if today >= contract_due_from(contract) and person.person_id is not None:
                    unknown_birth.add(person.person_id)
            elif today >= first_day:
                due.setdefault(contract_id, []).extend(event_ids)
    return RetentionPlan(
        due=tuple(
            Due(contract_id, " ".join(contracts[contract_id].retention.rule.split()), tuple(ids))
            for contract_id, ids in sorted(due.items())
            if ids
        ),
        kept_birth_month_unknown=len(unknown_birth),
        kept_contract_unknown=unknown_contract,
    )
