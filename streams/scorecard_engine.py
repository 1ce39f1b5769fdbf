"""The scorecard engine: every KPI declaration evaluated over a span of months. Pure.

Given what the catalogue reads (`ScorecardInputs`: KPI measures by month, cohort
counts as at each month end, the reference population), each KPI's numerator and
denominator are taken month by month from where its declaration says, added up over
the span (flow) or taken at its last month (stock), with the monthly trend and the
last twelve months against the twelve before. The queries that load the inputs are
storage's (`warehouse/scorecard.py`); this module does no I/O, so every rule of the
engine is tested without a database.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from streams.comparators import Comparator
from streams.jsna import month_ends
from streams.kpi import Figure, Kpi, KpiResult, MonthFigure, Source
from streams.scorecard import CATALOGUE

YEAR = 12


def add_months(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    return [end.replace(day=1) for end in month_ends(first, last)]


@dataclass(frozen=True)
class ScorecardInputs:
    """Everything the catalogue reads, loaded once: measures, cohort counts, population,
    and the comparators published for its KPIs."""

    measures: dict[tuple[str, dt.date], tuple[int, int]]
    cohort: dict[tuple[dt.date, str, str, str], int]  # (month, status, dimension, value)
    population: dict[int, int]  # year -> people aged 0-25
    comparators: tuple[Comparator, ...] = ()  # published figures to compare with

    def figure(self, kpi: Kpi, figure: Figure, month: dt.date) -> int:
        if figure.source is Source.MEASURES:
            row = self.measures.get((figure.kpi_id or kpi.id, month), (0, 0))
            return row[0] if figure.column == "numerator" else row[1]
        if figure.source is Source.COHORT:
            return sum(
                self.cohort.get((month, status, figure.dimension, figure.value), 0)
                for status in figure.statuses
            )
        if not self.population:
            return 0
        earlier = [year for year in self.population if year <= month.year]
        return self.population[max(earlier) if earlier else min(self.population)]

    def over(self, kpi: Kpi, figure: Figure, months: Sequence[dt.date]) -> int:
        """A flow figure added up over `months`; a stock figure as at the last of them."""
        if not months:
            return 0
        if figure.is_stock:
            return self.figure(kpi, figure, months[-1])
        return sum(self.figure(kpi, figure, month) for month in months)

    @cached_property
    def _periods(self) -> dict[str, list[dt.date]]:
        """Each KPI id's months with measures, ascending."""
        periods: dict[str, list[dt.date]] = defaultdict(list)
        for kpi_id, period in sorted(self.measures):
            periods[kpi_id].append(period)
        return periods

    def measured_months(self, kpi: Kpi) -> list[dt.date] | None:
        """The months the KPI's own measures have figures (None if it reads no measures)."""
        own = {
            figure.kpi_id or kpi.id
            for figure in (kpi.numerator_from, kpi.denominator_from)
            if figure.source is Source.MEASURES
        }
        if not own:
            return None
        return sorted(month for kpi_id in own for month in self._periods.get(kpi_id, []))

    def _figures(self, kpi: Kpi, months: Sequence[dt.date]) -> tuple[int, int]:
        return (
            self.over(kpi, kpi.numerator_from, months),
            self.over(kpi, kpi.denominator_from, months),
        )

    def result(self, kpi: Kpi, months: Sequence[dt.date]) -> KpiResult:
        """The KPI over `months`. A flow over a stock (appeals per plan held) is a yearly
        rate, so its headline takes the last 12 months of the span; year on year needs
        measures from the first month of the year before."""
        trend = tuple(
            MonthFigure(
                month,
                self.figure(kpi, kpi.numerator_from, month),
                self.figure(kpi, kpi.denominator_from, month),
            )
            for month in months
        )
        measured_months = self.measured_months(kpi)
        if measured_months is None:  # stocks only: measured if the cohort holds anyone
            measured = any(m.numerator or m.denominator for m in trend)
        else:
            measured = any(months[0] <= month <= months[-1] for month in measured_months)
        if not measured:
            return KpiResult(kpi, 0, 0, None, None, trend)
        last = months[-1]
        last_year = months_between(add_months(last, 1 - YEAR), last)
        year_before = months_between(add_months(last, 1 - 2 * YEAR), add_months(last, -YEAR))
        headline = months[-YEAR:] if kpi.yearly else months
        compared = not measured_months or measured_months[0] <= year_before[0]
        numerator, denominator = self._figures(kpi, headline)
        return KpiResult(
            kpi,
            numerator,
            denominator,
            headline[0],
            last,
            trend,
            last_year=self._figures(kpi, last_year) if compared else None,
            year_before=self._figures(kpi, year_before) if compared else None,
        )


def cohort_keys() -> set[tuple[str, str]]:
    """The (dimension, value) cohort counts some KPI of the catalogue reads."""
    return {
        (figure.dimension, figure.value)
        for kpi in CATALOGUE
        for figure in (kpi.numerator_from, kpi.denominator_from)
        if figure.source is Source.COHORT
    }


def evaluate(
    inputs: ScorecardInputs,
    period_from: dt.date | None = None,
    period_to: dt.date | None = None,
    as_at: dt.date | None = None,
) -> list[KpiResult]:
    """Every KPI of the catalogue over the months in [period_from, period_to].

    Without `period_from` the span starts at the first month with any measure; without
    `period_to` it ends at the month of `as_at` (the latest event) or the last measure.
    """
    periods = sorted(period for _, period in inputs.measures)
    first = period_from or (periods[0] if periods else None)
    latest = max(
        filter(None, [as_at.replace(day=1) if as_at else None, *periods[-1:]]), default=None
    )
    last = period_to or latest
    if first is None or last is None or first > last:
        return [KpiResult(kpi, 0, 0, None, None) for kpi in CATALOGUE]
    months = months_between(first.replace(day=1), last.replace(day=1))
    return [inputs.result(kpi, months) for kpi in CATALOGUE]
