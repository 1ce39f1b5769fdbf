"""What the hub publishes: the JSNA as it leaves the hub, and the protected month tables
and ledgers that every published document rests on.

The documents the API, the CLI and exports return are built in three modules and nowhere
else: the JSNA here, the scorecard in `streams/scorecard_publication.py` and the cross-tab
in `streams/crosstab_publication.py`, from the hub's own figures and the disclosure rule
(`streams/disclosure.py`). Each comes with its `Ledger`: every count it rests on, as
shown, and the sums tying them, which is what the disclosure audit
(`streams/disclosure_audit.py`) attacks. Outputs and audit share these functions, so what
is audited is what is published.

The JSNA cells of one month end are protected as one table (each status's breakdowns
adding up to its total, and the sums over statuses the scorecard reads), the same way
wherever they appear: in the JSNA as at that date, as the year before of a later one,
or in the scorecard's monthly trend. Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from streams.disclosure import (
    NOT_AVAILABLE,
    Key,
    Protected,
    Rule,
    Shown,
    Status,
    Sum,
    difference,
    exact,
    protect,
    ratio,
)
from streams.disclosure_audit import AtMost
from streams.jsna import DIMENSIONS
from streams.kpi import Source
from streams.scorecard import CATALOGUE
from streams.secondary_suppression import secured

CellKey = tuple[str, str, str]  # (send status, dimension, value)
PARTITIONS = tuple(d for d in DIMENSIONS if d not in ("all", "flag"))  # one value per person
MONTH_TABLES = 256  # protected month tables remembered (`month_table`)


@dataclass
class Ledger:
    """Every count a publication rests on: true and shown, and the sums that tie them."""

    true: dict[Key, int] = field(default_factory=dict)
    shown: dict[Key, Shown] = field(default_factory=dict)
    sums: set[Sum] = field(default_factory=set)
    at_most: set[AtMost] = field(default_factory=set)
    primary: set[Key] = field(default_factory=set)
    secondary: set[Key] = field(default_factory=set)
    inconsistent: set[Key] = field(default_factory=set)
    unpublished: set[Key] = field(default_factory=set)  # in a sum, shown nowhere

    def record(self, key: Key, true: int, shown: Shown) -> None:
        if key in self.shown and self.shown[key] != shown:
            self.inconsistent.add(key)
        self.true[key], self.shown[key] = true, shown
        if shown.status is Status.SUPPRESSED and key not in self.secondary:
            self.primary.add(key)

    def merge(self, other: Ledger) -> None:
        self.secondary |= other.secondary
        for key, shown in other.shown.items():
            self.record(key, other.true[key], shown)
        self.primary -= self.secondary
        self.sums |= other.sums
        self.at_most |= other.at_most
        self.inconsistent |= other.inconsistent
        self.unpublished |= other.unpublished


def combined_cells() -> set[tuple[tuple[str, ...], str, str]]:
    """The sums over SEND statuses the scorecard publishes: (statuses, dimension, value)."""
    return {
        (figure.statuses, figure.dimension, figure.value)
        for kpi in CATALOGUE
        for figure in (kpi.numerator_from, kpi.denominator_from)
        if figure.source is Source.COHORT and len(figure.statuses) > 1
    }


def cell_key(
    as_at: dt.date, statuses: Sequence[str], dimension: str, value: str
) -> tuple[str, ...]:
    return ("jsna", as_at.isoformat(), "+".join(statuses), dimension, value)


@dataclass(frozen=True)
class MonthTable:
    """The JSNA cells of one month end, protected together, and what ties them."""

    as_at: dt.date
    protected: Protected
    true: dict[Key, int]
    sums: tuple[Sum, ...]
    at_most: tuple[AtMost, ...]
    statuses: tuple[str, ...] = ()  # every SEND status with someone in it, sorted

    def shown(self, statuses: Sequence[str], dimension: str, value: str) -> Shown:
        return self.protected.shown.get(cell_key(self.as_at, statuses, dimension, value), exact(0))

    def everyone(self, dimension: str, value: str) -> tuple[str, ...]:
        """A cell summed over every SEND status: a cross-tab's margin, not published."""
        return cell_key(self.as_at, ("*",), dimension, value)

    def everyone_sum(self, dimension: str, value: str) -> Sum:
        """What the statuses' one-way cells add up to (the attacker sums them too)."""
        parts = (cell_key(self.as_at, (s,), dimension, value) for s in self.statuses)
        return Sum(self.everyone(dimension, value), tuple(p for p in parts if p in self.true))

    def ledger(self) -> Ledger:
        ledger = Ledger(sums=set(self.sums), at_most=set(self.at_most))
        ledger.secondary = set(self.protected.secondary)
        for key, shown in self.protected.shown.items():
            ledger.record(key, self.true.get(key, 0), shown)
        return ledger


def month_table(as_at: dt.date, cells: Mapping[CellKey, int], rule: Rule) -> MonthTable:
    """Protect the JSNA cells of one month end as one table (see the module's docstring).

    A pure function of its arguments, remembered for the last MONTH_TABLES tables asked
    for (a scorecard reads some 36 of them on every request): the table returned is
    shared, so callers only read it."""
    return _month_table(as_at, frozenset(cells.items()), rule)


@lru_cache(maxsize=MONTH_TABLES)
def _month_table(as_at: dt.date, given: frozenset[tuple[CellKey, int]], rule: Rule) -> MonthTable:
    cells = dict(sorted(given))  # one order whatever the caller's, for one outcome
    true: dict[Key, int] = {
        cell_key(as_at, (status,), d, v): n for (status, d, v), n in cells.items() if n
    }
    sums: list[Sum] = []
    at_most: list[AtMost] = []
    statuses = sorted({status for status, _, _ in cells})
    for status in statuses:
        total = cell_key(as_at, (status,), "all", "all")
        for dimension in PARTITIONS:
            parts = sorted(
                cell_key(as_at, (status,), d, v)
                for (s, d, v), n in cells.items()
                if s == status and d == dimension and n
            )
            if parts:
                sums.append(Sum(total, tuple(parts)))
        at_most += [
            AtMost(cell_key(as_at, (status,), d, v), total)
            for (s, d, v), n in sorted(cells.items())
            if s == status and d == "flag" and n
        ]
    for group, dimension, value in sorted(combined_cells()):
        by_status = [cell_key(as_at, (s,), dimension, value) for s in group]
        people = sum(true.get(part, 0) for part in by_status)
        if people:
            key = cell_key(as_at, group, dimension, value)
            true[key] = people
            sums.append(Sum(key, tuple(p for p in by_status if p in true)))
    # the heuristic first, then the attacker's programme until it narrows nothing too far
    protected = secured(true, protect(true, sums, rule), sums, rule, at_most)
    return MonthTable(as_at, protected, true, tuple(sums), tuple(at_most), tuple(statuses))


def disclosure_note(rule: Rule, suppressed: int) -> dict[str, Any]:
    """What a published document says about its own protection."""
    return {
        "rule": (
            f"counts from 1 to {rule.suppress_below - 1} suppressed, every other count rounded "
            f"to the nearest {rule.round_to}; rates and changes from the protected counts"
            + ("; secondary suppression" if rule.secondary_suppression else "")
        ),
        "suppressed_cells": suppressed,
        "symbols": {
            "c": "suppressed",
            "low": "rounds to zero but is not zero",
            "x": "not available",
            "z": "not applicable",
        },
    }


@dataclass(frozen=True)
class Publication:
    document: dict[str, Any]
    ledger: Ledger


def publish_jsna(
    now: MonthTable,
    before: MonthTable,
    cells: Mapping[CellKey, int],
    population: Mapping[tuple[str, str], int],
    rule: Rule,
) -> Publication:
    """The JSNA as at `now`: each cell's count, rate per 1,000 and change on a year, protected."""
    rows: list[dict[str, Any]] = []
    for status, dimension, value in sorted(cells, key=lambda c: (c[1], c[2], c[0])):
        if not cells[(status, dimension, value)]:
            continue
        people = now.shown((status,), dimension, value)
        earlier = before.shown((status,), dimension, value)
        known = population.get((dimension, value))
        rows.append(
            {
                "send_status": status,
                "dimension": dimension,
                "value": value,
                "people": people.as_json(),
                "rate_per_1000": ratio(
                    people, exact(known) if known else NOT_AVAILABLE, 1000, 2
                ).as_json(),
                "people_a_year_before": earlier.as_json(),
                "change_on_year": difference(people, earlier).as_json(),
            }
        )
    ledger = now.ledger()
    ledger.merge(before.ledger())
    suppressed = sum(1 for row in rows if row["people"]["status"] == Status.SUPPRESSED)
    document = {
        "as_at": now.as_at.isoformat(),
        "compared_with": before.as_at.isoformat(),
        "disclosure": disclosure_note(rule, suppressed),
        "cells": rows,
    }
    return Publication(document, ledger)
