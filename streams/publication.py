"""What the hub publishes: the JSNA and the scorecard as they leave it, with every count protected.

The documents the API, the CLI and exports return are built here and nowhere else, from
the hub's own figures and the disclosure rule (`streams/disclosure.py`). Each comes with
its `Ledger`: every count it rests on, as shown, and the sums tying them, which is what
the disclosure audit (`streams/disclosure_audit.py`) attacks. Outputs and audit share
these functions, so what is audited is what is published.

The JSNA cells of one month end are protected as one table (each status's breakdowns
adding up to its total, and the sums over statuses the scorecard reads), the same way
wherever they appear: in the JSNA as at that date, as the year before of a later one,
or in the scorecard's monthly trend. Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from streams.disclosure import (
    NOT_APPLICABLE,
    NOT_AVAILABLE,
    Key,
    Protected,
    Rule,
    Shown,
    Status,
    Sum,
    change_percent,
    difference,
    exact,
    protect,
    ratio,
)
from streams.disclosure_audit import AtMost
from streams.jsna import DIMENSIONS
from streams.kpi import NO_YEAR_BEFORE, Figure, Kpi, KpiResult, Rag, Source, Unit
from streams.scorecard import CATALOGUE
from streams.scorecard_engine import YEAR, ScorecardInputs, months_between

CellKey = tuple[str, str, str]  # (send status, dimension, value)
PARTITIONS = tuple(d for d in DIMENSIONS if d not in ("all", "flag"))  # one value per person


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
    """Protect the JSNA cells of one month end as one table (see the module's docstring)."""
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
    protected = protect(true, sums, rule)
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


def _last_day(month: dt.date) -> dt.date:
    first_of_next = (month.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return first_of_next - dt.timedelta(days=1)


@dataclass
class ScorecardFigures:
    """A scorecard's counts as published, month by month and over spans."""

    inputs: ScorecardInputs
    tables: Mapping[dt.date, MonthTable]  # month end -> its protected JSNA table
    rule: Rule
    ledger: Ledger = field(default_factory=Ledger)
    _merged: set[dt.date] = field(default_factory=set)

    def month(self, kpi: Kpi, figure: Figure, month: dt.date) -> Shown:
        """One month's figure as published (a stock: as at the month end)."""
        true = self.inputs.figure(kpi, figure, month)
        if figure.source is Source.POPULATION:
            return exact(true)  # the ONS mid-year estimate, published already
        if figure.source is Source.COHORT:
            table = self.tables[_last_day(month)]
            if table.as_at not in self._merged:
                self.ledger.merge(table.ledger())
                self._merged.add(table.as_at)
            return table.shown(figure.statuses, figure.dimension, figure.value)
        key = ("measure", figure.kpi_id or kpi.id, figure.column, month.isoformat()[:7])
        shown = self.rule.count(true)
        self.ledger.record(key, true, shown)
        return shown

    def over(self, kpi: Kpi, figure: Figure, months: Sequence[dt.date]) -> Shown:
        """A flow over `months` (suppressed with any suppressed month); a stock at the last."""
        if not months:
            return exact(0)
        if figure.is_stock or len(months) == 1:
            return self.month(kpi, figure, months[-1])
        parts = [self.month(kpi, figure, month) for month in months]
        true = self.inputs.over(kpi, figure, months)
        shown = self.rule.total(true, parts)
        base = ("measure", figure.kpi_id or kpi.id, figure.column)
        key = ("span", *base, months[0].isoformat()[:7], months[-1].isoformat()[:7])
        if shown.status is Status.SUPPRESSED and true >= self.rule.suppress_below:
            self.ledger.secondary.add(key)  # suppressed with a suppressed month
        self.ledger.record(key, true, shown)
        self.ledger.sums.add(Sum(key, tuple((*base, m.isoformat()[:7]) for m in months)))
        return shown

    def pair(self, kpi: Kpi, months: Sequence[dt.date]) -> tuple[Shown, Shown]:
        numerator = self.over(kpi, kpi.numerator_from, months)
        if kpi.unit is Unit.COUNT:
            return numerator, NOT_APPLICABLE
        denominator = self.over(kpi, kpi.denominator_from, months)
        own = (kpi.numerator_from.source, kpi.denominator_from.source) == (Source.MEASURES,) * 2
        if kpi.unit is Unit.PERCENT and own and len(months) == 1:
            base = ("measure", kpi.numerator_from.kpi_id or kpi.id)
            month = months[0].isoformat()[:7]
            part, whole = (*base, "numerator", month), (*base, "denominator", month)
            if part in self.ledger.shown and whole in self.ledger.shown:
                self.ledger.at_most.add(AtMost(part, whole))
        return numerator, denominator


def kpi_value(kpi: Kpi, numerator: Shown, denominator: Shown) -> Shown:
    """The figure a reader sees: the count itself, or the ratio of protected figures."""
    if kpi.unit is Unit.COUNT:
        return numerator
    return ratio(numerator, denominator, kpi.unit.scale, 1)


def _rag(kpi: Kpi, judged: Shown) -> str:
    if judged.value is not None:
        return kpi.rag(judged.value).value
    if judged.status in (Status.SUPPRESSED, Status.LOW):
        return "suppressed"
    return Rag.NO_DATA.value


def _add_months(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def publish_kpi(figures: ScorecardFigures, result: KpiResult) -> dict[str, Any]:
    """One KPI of the scorecard as published (the shape of `KpiResult.as_dict`)."""
    kpi = result.kpi
    trend = []
    for month in result.trend:
        numerator, denominator = figures.pair(kpi, [month.period])
        trend.append(
            {
                "period": month.period.isoformat()[:7],
                "numerator": numerator.as_json(),
                "denominator": denominator.as_json(),
                "value": kpi_value(kpi, numerator, denominator).as_json(),
            }
        )
    if result.first_period is None or result.last_period is None:
        numerator = denominator = exact(0)
        value = NOT_AVAILABLE
        change = NOT_AVAILABLE
    else:
        headline = months_between(result.first_period, result.last_period)
        numerator, denominator = figures.pair(kpi, headline)
        if kpi.unit is Unit.COUNT:
            denominator = NOT_APPLICABLE
        value = kpi_value(kpi, numerator, denominator)
        change = NOT_AVAILABLE
        if result.last_year is not None and result.year_before is not None:
            last = result.last_period
            last_year = months_between(_add_months(last, 1 - YEAR), last)
            year_before = months_between(_add_months(last, 1 - 2 * YEAR), _add_months(last, -YEAR))
            change = change_percent(
                kpi_value(kpi, *figures.pair(kpi, last_year)),
                kpi_value(kpi, *figures.pair(kpi, year_before)),
            )
    rag = _rag(kpi, change if kpi.unit is Unit.COUNT else value)
    empty = result.empty
    return {
        "id": kpi.id,
        "name": kpi.name,
        "perspective": kpi.perspective,
        "unit": kpi.unit.value,
        "numerator": numerator.as_json(),
        "denominator": denominator.as_json(),
        "value": value.as_json(),
        "percentage": (value if kpi.unit is Unit.PERCENT else NOT_APPLICABLE).as_json(),
        "target_percent": kpi.target_percent,
        "polarity": kpi.polarity.value,
        "rag": rag,
        "change_percent": change.as_json(),
        "period_from": result.first_period.isoformat()[:7] if result.first_period else None,
        "period_to": result.last_period.isoformat()[:7] if result.last_period else None,
        "trend": trend,
        "comparators": dict(kpi.comparators),
        "definition": kpi.definition,
        "source": kpi.source,
        "owner": kpi.owner,
        "waiting_for": kpi.source if rag == Rag.NO_DATA.value and empty else None,
        "not_rated": NO_YEAR_BEFORE if rag == Rag.NO_DATA.value and not empty else None,
    }


def publish_scorecard(
    inputs: ScorecardInputs,
    results: Sequence[KpiResult],
    tables: Mapping[dt.date, MonthTable],
    as_at: dt.date | None,
    rule: Rule,
) -> Publication:
    """The balanced scorecard as published: every KPI's figures protected."""
    figures = ScorecardFigures(inputs, tables, rule)
    kpis = [publish_kpi(figures, result) for result in results]
    suppressed = sum(
        1
        for kpi in kpis
        for figure in (kpi["numerator"], kpi["denominator"])
        if figure["status"] == Status.SUPPRESSED
    )
    document = {
        "as_at": as_at.isoformat() if as_at else None,
        "disclosure": disclosure_note(rule, suppressed),
        "kpis": kpis,
    }
    return Publication(document, figures.ledger)


def needed_months(results: Sequence[KpiResult]) -> set[dt.date]:
    """The month ends whose JSNA tables a scorecard reads (its trend and years compared)."""
    months: set[dt.date] = set()
    for result in results:
        months |= {_last_day(m.period) for m in result.trend}
        if result.last_period is not None:
            last = result.last_period
            months |= {_last_day(m) for m in months_between(_add_months(last, 1 - 2 * YEAR), last)}
    return months
