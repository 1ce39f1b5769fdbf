"""The scorecard as it leaves the hub: every KPI's figures protected, month by month and
over the spans it totals.

A KPI's cohort figures are read from the JSNA month tables (`streams/publication.py`),
shown there and here alike; its own measures are protected as one series per KPI, months
and their totals over the publication periods together (`measure_series`), so every
scorecard on the same data shows each the same way. Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from streams.comparators import COMPARISON_TEXT, Comparison, published_comparators
from streams.disclosure import (
    HIDDEN,
    NOT_APPLICABLE,
    NOT_AVAILABLE,
    SUPPRESSED,
    Key,
    Protected,
    Rule,
    Shown,
    Status,
    Sum,
    change_percent,
    exact,
    protect,
    ratio,
)
from streams.disclosure_audit import AtMost, audit
from streams.kpi import NO_YEAR_BEFORE, Figure, Kpi, KpiResult, Rag, Source, Unit
from streams.publication import Ledger, MonthTable, Publication, disclosure_note
from streams.scorecard import CATALOGUE
from streams.scorecard_engine import YEAR, ScorecardInputs, add_months, months_between
from streams.secondary_suppression import secured


def _last_day(month: dt.date) -> dt.date:
    first_of_next = (month.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return first_of_next - dt.timedelta(days=1)


Period = tuple[dt.date, dt.date]  # the first and last month of a span (first days)


def publication_periods(as_at: dt.date) -> tuple[Period, ...]:
    """The spans a scorecard as at `as_at` publishes totals over, whatever it is asked for.

    The 12 months to the month of `as_at` (the headline), to the last complete month and
    to the month before it (the month ends `hub disclosure audit` covers, and last month's
    headline), each with the 12 months before it. Fixed for the data held, so every
    scorecard shows each month and each of these totals the same way (`measure_series`).
    """
    complete = as_at.replace(day=1)
    if _last_day(as_at) != as_at:
        complete = add_months(complete, -1)
    ends = sorted({as_at.replace(day=1), complete, add_months(complete, -1)})
    return tuple(
        (add_months(end, 1 - YEAR - back), add_months(end, -back))
        for end in ends
        for back in (0, YEAR)
    )


def month_key(kpi_id: str, column: str, month: dt.date) -> tuple[str, ...]:
    return ("measure", kpi_id, column, month.isoformat()[:7])


def span_key(kpi_id: str, column: str, first: dt.date, last: dt.date) -> tuple[str, ...]:
    return ("span", "measure", kpi_id, column, first.isoformat()[:7], last.isoformat()[:7])


def _ordered(kpi_id: str) -> bool:
    """Whether a share KPI reads this KPI's measures as its part and its whole."""
    return any(
        kpi.unit is Unit.PERCENT
        and (kpi.numerator_from.source, kpi.denominator_from.source) == (Source.MEASURES,) * 2
        and (kpi.numerator_from.kpi_id or kpi.id) == kpi_id
        for kpi in CATALOGUE
    )


@dataclass(frozen=True)
class MeasureSeries:
    """One KPI's monthly measures and their totals over the publication periods, protected
    as one table: each total is the sum of its months, so no suppressed month can be worked
    out from a total and the months beside it, nor from two totals a month apart."""

    protected: Protected
    sums: tuple[Sum, ...]
    at_most: tuple[AtMost, ...]


def measure_series(
    kpi_id: str,
    measures: Mapping[tuple[str, dt.date], tuple[int, int]],
    periods: Sequence[Period],
    rule: Rule,
) -> MeasureSeries:
    """A KPI's months and totals over `periods`, protected (`_protected_series`); the same
    data protect alike, so a second scorecard on unchanged data reuses the first's table."""
    months = sorted({m for first, last in periods for m in months_between(first, last)})
    held = tuple((m, *measures.get((kpi_id, m), (0, 0))) for m in months)
    return _protected_series(kpi_id, held, tuple(periods), rule)


@lru_cache(maxsize=256)
def _protected_series(
    kpi_id: str, held: tuple[tuple[dt.date, int, int], ...], periods: tuple[Period, ...], rule: Rule
) -> MeasureSeries:
    """Protect a KPI's numerator and denominator months with their totals over `periods`:
    the heuristic (`protect`, intervals propagated through every sum), then the attacker's
    programme until it narrows no suppressed count too far (`secured`).

    Two totals a month apart differ by the month that joins and the one that leaves: the
    heuristic sees it through an unpublished count both add up to, and so suppresses the
    earlier total (last month's headline) rather than the months of the later one."""
    months = [month for month, _, _ in held]
    measures = {(kpi_id, month): (numerator, denominator) for month, numerator, denominator in held}
    true: dict[Key, int] = {}
    sums: list[Sum] = []
    apart: list[Sum] = []  # earlier total + the month joining = later + the month leaving
    for index, column in enumerate(("numerator", "denominator")):
        for month in months:
            true[month_key(kpi_id, column, month)] = measures.get((kpi_id, month), (0, 0))[index]
        for first, last in periods:
            parts = tuple(month_key(kpi_id, column, m) for m in months_between(first, last))
            true[span_key(kpi_id, column, first, last)] = sum(true[part] for part in parts)
            sums.append(Sum(span_key(kpi_id, column, first, last), parts))
            if (add_months(first, 1), add_months(last, 1)) in periods:
                both = ("months apart", kpi_id, column, last.isoformat()[:7])
                later = span_key(kpi_id, column, add_months(first, 1), add_months(last, 1))
                apart.append(Sum(both, (later, month_key(kpi_id, column, first))))
                joins = month_key(kpi_id, column, add_months(last, 1))
                apart.append(Sum(both, (span_key(kpi_id, column, first, last), joins)))
    pairs = [
        (month_key(kpi_id, "numerator", m), month_key(kpi_id, "denominator", m)) for m in months
    ]
    at_most = tuple(
        AtMost(part, whole)
        for part, whole in pairs
        if _ordered(kpi_id) and true[part] <= true[whole]
    )
    unpublished = {relation.total: NOT_AVAILABLE for relation in apart}
    heuristic = protect(
        true, [*apart, *sums], rule, unpublished, propagate=True, free=unpublished.keys()
    )
    for key in unpublished:
        del heuristic.shown[key]
    protected = secured(true, heuristic, sums, rule, at_most)
    return MeasureSeries(protected, tuple(sums), at_most)


@dataclass
class ScorecardFigures:
    """A scorecard's counts as published, month by month and over spans.

    A KPI's own measures are published from its `measure_series`: the months and the totals
    over the publication periods as that table shows them, the same in every scorecard
    built on the same data. A total over any other span (a `--from` asked for) is shown only
    if no month in it is suppressed and, beside that table, it narrows no suppressed count.
    """

    inputs: ScorecardInputs
    tables: Mapping[dt.date, MonthTable]  # month end -> its protected JSNA table
    rule: Rule
    ledger: Ledger = field(default_factory=Ledger)
    periods: tuple[Period, ...] = ()  # `publication_periods` of the data held
    yearly_headline: bool = False  # a headline over the 12 months to the last, not the span
    _merged: set[dt.date] = field(default_factory=set)
    _series: dict[str, MeasureSeries] = field(default_factory=dict)
    _beyond: dict[Key, Shown] = field(default_factory=dict)

    def series(self, kpi_id: str) -> MeasureSeries:
        if kpi_id not in self._series:
            measures = self.inputs.measures
            self._series[kpi_id] = measure_series(kpi_id, measures, self.periods, self.rule)
        return self._series[kpi_id]

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
        key = month_key(figure.kpi_id or kpi.id, figure.column, month)
        return self._record(figure.kpi_id or kpi.id, key, true, self.rule.count(true))

    def _record(self, kpi_id: str, key: Key, true: int, otherwise: Shown) -> Shown:
        """Record a count as its series shows it (`otherwise` if the series lacks it)."""
        protected = self.series(kpi_id).protected
        shown = protected.shown.get(key, otherwise)
        if key in protected.secondary or (
            shown.status is Status.SUPPRESSED and true >= self.rule.suppress_below
        ):
            self.ledger.secondary.add(key)
        self.ledger.record(key, true, shown)
        return shown

    def over(self, kpi: Kpi, figure: Figure, months: Sequence[dt.date]) -> Shown:
        """A flow over `months` as its series shows it; a stock at the last month."""
        if not months:
            return exact(0)
        if figure.is_stock or len(months) == 1:
            return self.month(kpi, figure, months[-1])
        parts = [self.month(kpi, figure, month) for month in months]
        kpi_id = figure.kpi_id or kpi.id
        tie = Sum(
            span_key(kpi_id, figure.column, months[0], months[-1]),
            tuple(month_key(kpi_id, figure.column, month) for month in months),
        )
        true = self.inputs.over(kpi, figure, months)
        if tie.total in self.series(kpi_id).protected.shown:
            shown = self._record(kpi_id, tie.total, true, SUPPRESSED)
        else:
            shown = self._record(kpi_id, tie.total, true, self.beyond(kpi_id, tie, true, parts))
        self.ledger.sums.add(tie)
        return shown

    def beyond(self, kpi_id: str, tie: Sum, true: int, parts: Sequence[Shown]) -> Shown:
        """A total over a span outside the publication periods: suppressed with any
        suppressed month in it, or if beside the series' table it narrows a suppressed count
        (the attack, on this span alone: each such span is shown the same in every request)."""
        shown = self.rule.count(true)
        if not self.rule.secondary_suppression or not shown.is_number:
            return shown
        if any(part.status in HIDDEN for part in parts):
            return SUPPRESSED
        series = self.series(kpi_id)
        if tie.total not in self._beyond and set(tie.parts) & series.protected.shown.keys():
            cells = series.protected.shown | dict(zip(tie.parts, parts, strict=True))
            attack = audit(
                self.rule, cells | {tie.total: shown}, [*series.sums, tie], series.at_most
            )
            narrowed = {i.key for i in attack.failures} - series.protected.exposed
            self._beyond[tie.total] = SUPPRESSED if narrowed else shown
        return self._beyond.get(tie.total, shown)

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
    headline: list[dt.date] = []
    if result.first_period is None or result.last_period is None:
        numerator = denominator = exact(0)
        value = NOT_AVAILABLE
        change = NOT_AVAILABLE
    else:
        headline = months_between(result.first_period, result.last_period)
        if figures.yearly_headline:
            headline = months_between(add_months(result.last_period, 1 - YEAR), result.last_period)
        numerator, denominator = figures.pair(kpi, headline)
        if kpi.unit is Unit.COUNT:
            denominator = NOT_APPLICABLE
        value = kpi_value(kpi, numerator, denominator)
        change = NOT_AVAILABLE
        if result.last_year is not None and result.year_before is not None:
            last = result.last_period
            last_year = months_between(add_months(last, 1 - YEAR), last)
            year_before = months_between(add_months(last, 1 - 2 * YEAR), add_months(last, -YEAR))
            change = change_percent(
                kpi_value(kpi, *figures.pair(kpi, last_year)),
                kpi_value(kpi, *figures.pair(kpi, year_before)),
            )
    rag = _rag(kpi, change if kpi.unit is Unit.COUNT else value)
    empty = result.empty
    shown = [month.period for month in result.trend]
    comparators = published_comparators(kpi, figures.inputs.comparators, shown, figures.pair)
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
        "period_from": headline[0].isoformat()[:7] if headline else None,
        "period_to": result.last_period.isoformat()[:7] if result.last_period else None,
        "trend": trend,
        # England's, the region's and neighbours' published figures, each year beside ours
        "comparators": comparators,
        "comparators_note": None if comparators else COMPARISON_TEXT[Comparison.NO_COMPARATOR],
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
    periods: Sequence[Period] = (),
    yearly_headline: bool = False,
) -> Publication:
    """The balanced scorecard as published: every KPI's figures protected, its own measures
    with their totals over `periods` (`publication_periods`); with `yearly_headline`, each
    flow's headline is the 12 months to the last month rather than the whole span."""
    figures = ScorecardFigures(
        inputs, tables, rule, periods=tuple(periods), yearly_headline=yearly_headline
    )
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
            months |= {_last_day(m) for m in months_between(add_months(last, 1 - 2 * YEAR), last)}
    return months
