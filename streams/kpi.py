"""What a scorecard KPI is, as data: its target and RAG rule, and where its figures come from.

A KPI's numerator and denominator are each a `Figure`: the KPI's own monthly
measures (added up by the stream rules), another KPI's measures, a count of the
cohort as at a month end (the JSNA cells), or the reference population. A flow
figure adds up over the months of a span; a stock figure is read as at its last
month. One small engine (`warehouse/scorecard.py`) evaluates every declaration.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Polarity(StrEnum):
    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"


class Rag(StrEnum):
    RED = "red"
    AMBER = "amber"
    GREEN = "green"
    NO_DATA = "no_data"


class Unit(StrEnum):
    """How a KPI's value reads: a percentage, a rate per 1,000, or a plain count.

    A count's RAG is judged on its change (in %) over the last twelve months of the
    span against the twelve before, so its thresholds (and target) are changes.
    """

    PERCENT = "percent"
    PER_1000 = "per_1000"
    COUNT = "count"

    @property
    def scale(self) -> int:
        return 1000 if self is Unit.PER_1000 else 100


class Source(StrEnum):
    MEASURES = "measures"  # monthly numerator/denominator rows in kpi_measures (flow)
    COHORT = "cohort"  # people in JSNA cells as at the month end (stock)
    POPULATION = "population"  # reference population aged 0-25 for the year (stock)


SEND_STATUSES = ("EHC_PLAN", "SEN_SUPPORT")


@dataclass(frozen=True)
class Figure:
    """Where a numerator or denominator comes from (by default: the KPI's own measures)."""

    source: Source = Source.MEASURES
    kpi_id: str | None = None  # MEASURES: whose rows (None: the KPI's own)
    column: str = "numerator"  # MEASURES: "numerator" or "denominator"
    statuses: tuple[str, ...] = SEND_STATUSES  # COHORT: which SEND statuses
    dimension: str = "all"  # COHORT: JSNA dimension and value
    value: str = "all"

    @property
    def is_stock(self) -> bool:
        return self.source is not Source.MEASURES


OWN_NUMERATOR = Figure()
OWN_DENOMINATOR = Figure(column="denominator")


def measured(kpi_id: str, column: str = "numerator") -> Figure:
    return Figure(Source.MEASURES, kpi_id=kpi_id, column=column)


def cohort(
    dimension: str = "all", value: str = "all", statuses: tuple[str, ...] = SEND_STATUSES
) -> Figure:
    return Figure(Source.COHORT, statuses=statuses, dimension=dimension, value=value)


POPULATION_0_25 = Figure(Source.POPULATION)


@dataclass(frozen=True)
class Kpi:
    """One scorecard KPI. Thresholds are read with the KPI's polarity (and unit, for counts)."""

    id: str
    name: str
    perspective: str
    definition: str
    numerator: str
    denominator: str
    period: str
    target_percent: float
    polarity: Polarity
    green_from: float
    amber_from: float
    owner: str
    source: str
    seeds: str
    unit: Unit = Unit.PERCENT
    numerator_from: Figure = OWN_NUMERATOR
    denominator_from: Figure = OWN_DENOMINATOR

    @property
    def yearly(self) -> bool:
        """A flow over a stock (appeals per plan held): measured over 12 months."""
        return not self.numerator_from.is_stock and self.denominator_from.is_stock

    def rag(self, value: float | None) -> Rag:
        if value is None:
            return Rag.NO_DATA
        if self.polarity is Polarity.HIGHER_IS_BETTER:
            if value >= self.green_from:
                return Rag.GREEN
            return Rag.AMBER if value >= self.amber_from else Rag.RED
        if value <= self.green_from:
            return Rag.GREEN
        return Rag.AMBER if value <= self.amber_from else Rag.RED

    def value(self, numerator: int, denominator: int) -> float | None:
        """The figure a reader sees: the count, or the ratio on the KPI's scale."""
        if self.unit is Unit.COUNT:
            return float(numerator)
        if denominator == 0:
            return None
        return round(self.unit.scale * numerator / denominator, 1)


@dataclass(frozen=True)
class MonthFigure:
    period: dt.date
    numerator: int
    denominator: int


NO_YEAR_BEFORE = "no figure for the 12 months before to compare the change with"


@dataclass(frozen=True)
class KpiResult:
    """A KPI measured over a span of months, with its monthly trend and year on year."""

    kpi: Kpi
    numerator: int
    denominator: int
    first_period: dt.date | None
    last_period: dt.date | None
    trend: tuple[MonthFigure, ...] = field(default=())
    last_year: tuple[int, int] | None = None  # the span's last 12 months (num, den)
    year_before: tuple[int, int] | None = None  # the 12 months before those

    @property
    def value(self) -> float | None:
        return self.kpi.value(self.numerator, self.denominator)

    @property
    def percentage(self) -> float | None:
        return self.value if self.kpi.unit is Unit.PERCENT else None

    @property
    def change_percent(self) -> float | None:
        """The value over the last 12 months against the 12 before, as a % change."""
        if self.last_year is None or self.year_before is None:
            return None
        now, before = self.kpi.value(*self.last_year), self.kpi.value(*self.year_before)
        if before is None or before == 0.0 or now is None:
            return None
        return round(100.0 * (now - before) / before, 1)

    @property
    def rag(self) -> Rag:
        if self.kpi.unit is Unit.COUNT:
            return self.kpi.rag(self.change_percent)
        return self.kpi.rag(self.value)

    def as_dict(self) -> dict[str, Any]:
        kpi = self.kpi
        return {
            "id": kpi.id,
            "name": kpi.name,
            "perspective": kpi.perspective,
            "unit": kpi.unit.value,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "value": self.value,
            "percentage": self.percentage,
            "target_percent": kpi.target_percent,
            "polarity": kpi.polarity.value,
            "rag": self.rag.value,
            "change_percent": self.change_percent,
            "period_from": self.first_period.isoformat()[:7] if self.first_period else None,
            "period_to": self.last_period.isoformat()[:7] if self.last_period else None,
            "trend": [
                {
                    "period": month.period.isoformat()[:7],
                    "numerator": month.numerator,
                    "denominator": month.denominator,
                    "value": kpi.value(month.numerator, month.denominator),
                }
                for month in self.trend
            ],
            "definition": kpi.definition,
            "source": kpi.source,
            "owner": kpi.owner,
            # with no data in the period, the feed the KPI is waiting for
            "waiting_for": kpi.source if self.rag is Rag.NO_DATA and self.empty else None,
            # with data but no RAG: a count with no year before to compare its change with
            "not_rated": (NO_YEAR_BEFORE if self.rag is Rag.NO_DATA and not self.empty else None),
        }

    @property
    def empty(self) -> bool:
        """No event counted in the span: the KPI's feed has not arrived for it."""
        return self.numerator == 0 and self.denominator == 0


def share(
    kpi_id: str,
    name: str,
    perspective: str,
    definition: str,
    target: float,
    owner: str,
    source: str,
    seeds: str,
    period: str,
) -> Kpi:
    """A KPI of the form "those that met the standard / all of them", higher is better."""
    return Kpi(
        id=kpi_id,
        name=name,
        perspective=perspective,
        definition=definition,
        numerator="those that met the standard the definition states",
        denominator="all of them in the period",
        period=period,
        target_percent=target,
        polarity=Polarity.HIGHER_IS_BETTER,
        green_from=target,
        amber_from=target - 10,
        owner=owner,
        source=source,
        seeds=seeds,
    )


def declare(**fields: Any) -> Kpi:
    """A KPI declared in full (its comparators are reference data: `streams/comparators.py`)."""
    return Kpi(**fields)
