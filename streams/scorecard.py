"""The balanced scorecard's KPIs as data, and the pure rules that measure them.

A KPI is a declaration (target, polarity, RAG thresholds, comparators); each event
contributes numerator and denominator deltas to a KPI's month. Adding a KPI means
adding a declaration and its contribution rule, with a test.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from schemas.envelope import Event

STATUTORY_WEEKS = 20
STATUTORY_DAYS = STATUTORY_WEEKS * 7


class Polarity(StrEnum):
    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"


class Rag(StrEnum):
    RED = "red"
    AMBER = "amber"
    GREEN = "green"
    NO_DATA = "no_data"


@dataclass(frozen=True)
class Kpi:
    """One scorecard KPI. Percentages are 0-100; thresholds read with the KPI's polarity."""

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
    comparators: tuple[tuple[str, float], ...]
    owner: str
    source: str
    seeds: str

    def rag(self, percentage: float | None) -> Rag:
        if percentage is None:
            return Rag.NO_DATA
        if self.polarity is Polarity.HIGHER_IS_BETTER:
            if percentage >= self.green_from:
                return Rag.GREEN
            return Rag.AMBER if percentage >= self.amber_from else Rag.RED
        if percentage <= self.green_from:
            return Rag.GREEN
        return Rag.AMBER if percentage <= self.amber_from else Rag.RED


_EHCP_COMMON: dict[str, Any] = dict(
    perspective="process and timeliness",
    period="month the plan was issued",
    target_percent=90.0,
    polarity=Polarity.HIGHER_IS_BETTER,
    green_from=90.0,
    amber_from=80.0,
    owner="Council SEN team",
    source="EhcPlanIssued events from the council's SEN case management system",
)

EHCP_WITHIN_20_WEEKS_EXCL_EXCEPTIONS = Kpi(
    id="ehcp_20_weeks_excl_exceptions",
    name="New EHC plans issued within 20 weeks, excluding permitted exceptions",
    definition=(
        "Plans issued in the period within 20 weeks (140 days) of the request for "
        "assessment, divided by all plans issued in the period; plans where a permitted "
        "exception applied are removed from both."
    ),
    numerator="plans without a permitted exception issued within 140 days of request",
    denominator="plans without a permitted exception issued in the period",
    comparators=(),
    seeds="001, 003 (split inferred)",
    **_EHCP_COMMON,
)

EHCP_WITHIN_20_WEEKS_INCL_EXCEPTIONS = Kpi(
    id="ehcp_20_weeks_incl_exceptions",
    name="New EHC plans issued within 20 weeks, including exception cases",
    definition=(
        "Plans issued in the period within 20 weeks (140 days) of the request for "
        "assessment, divided by all plans issued in the period."
    ),
    numerator="plans issued within 140 days of request",
    denominator="plans issued in the period",
    comparators=(("regional_2020", 67.8), ("national_2020", 58.7)),
    seeds="001, 002, 003",
    **_EHCP_COMMON,
)

CATALOGUE: tuple[Kpi, ...] = (
    EHCP_WITHIN_20_WEEKS_EXCL_EXCEPTIONS,
    EHCP_WITHIN_20_WEEKS_INCL_EXCEPTIONS,
)


def kpi_by_id(kpi_id: str) -> Kpi:
    for kpi in CATALOGUE:
        if kpi.id == kpi_id:
            return kpi
    raise KeyError(f"unknown KPI {kpi_id!r}")


@dataclass(frozen=True)
class MeasureDelta:
    kpi_id: str
    period: dt.date
    numerator: int
    denominator: int


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def issued_within_20_weeks(request_date: dt.date, issue_date: dt.date) -> bool:
    return (issue_date - request_date).days <= STATUTORY_DAYS


def contributions(event: Event) -> list[MeasureDelta]:
    """What one event adds to each KPI's month. Events no KPI reads contribute nothing."""
    if event.event_type != "EhcPlanIssued":
        return []
    request_date = dt.date.fromisoformat(event.payload["request_date"])
    issue_date = dt.date.fromisoformat(event.payload["issue_date"])
    on_time = int(issued_within_20_weeks(request_date, issue_date))
    period = month_of(issue_date)
    deltas = [MeasureDelta(EHCP_WITHIN_20_WEEKS_INCL_EXCEPTIONS.id, period, on_time, 1)]
    if not event.payload["permitted_exception"]:
        deltas.append(MeasureDelta(EHCP_WITHIN_20_WEEKS_EXCL_EXCEPTIONS.id, period, on_time, 1))
    return deltas


def sum_contributions(events: Iterable[Event]) -> list[MeasureDelta]:
    """All events' deltas added up per (KPI, month), in a stable order."""
    totals: dict[tuple[str, dt.date], list[int]] = defaultdict(lambda: [0, 0])
    for event in events:
        for delta in contributions(event):
            total = totals[(delta.kpi_id, delta.period)]
            total[0] += delta.numerator
            total[1] += delta.denominator
    return [MeasureDelta(k, p, n, d) for (k, p), (n, d) in sorted(totals.items())]


@dataclass(frozen=True)
class KpiResult:
    """A KPI measured over a span of months."""

    kpi: Kpi
    numerator: int
    denominator: int
    first_period: dt.date | None
    last_period: dt.date | None

    @property
    def percentage(self) -> float | None:
        if self.denominator == 0:
            return None
        return round(100.0 * self.numerator / self.denominator, 1)

    @property
    def rag(self) -> Rag:
        return self.kpi.rag(self.percentage)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.kpi.id,
            "name": self.kpi.name,
            "perspective": self.kpi.perspective,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "percentage": self.percentage,
            "target_percent": self.kpi.target_percent,
            "polarity": self.kpi.polarity.value,
            "rag": self.rag.value,
            "period_from": self.first_period.isoformat()[:7] if self.first_period else None,
            "period_to": self.last_period.isoformat()[:7] if self.last_period else None,
            "comparators": dict(self.kpi.comparators),
            "definition": self.kpi.definition,
            "source": self.kpi.source,
            "owner": self.kpi.owner,
        }
