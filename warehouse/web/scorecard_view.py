"""What the scorecard pages show, read from the published scorecard: tiles, a KPI's months
and comparators, and the "significantly worse than England and getting worse" rule.

Pure: the routes (`scorecard_pages.py`) read the document and the feeds' dates and hand
them here; every figure is the document's own, written as the dashboard writes it (a
published symbol stays a symbol: `c` is suppressed, and the page says so).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from warehouse.feeds import FeedDate
from warehouse.web.charts import Comparison, Trend, month_name, shown_as, trend_of

Figure = Mapping[str, Any]  # a published figure: {"value", "symbol", "status"}
KpiDocument = Mapping[str, Any]  # one KPI of the published scorecard

RAG_TEXT = {
    "red": ("Red", "govuk-tag--red"),
    "amber": ("Amber", "govuk-tag--orange"),
    "green": ("Green", "govuk-tag--green"),
    "no_data": ("No rating", "govuk-tag--grey"),
    "suppressed": ("Not rated: suppressed", "govuk-tag--grey"),
}
FEED_NAMES = {"socialcare": "social care"}  # how a feed (source system) reads in a sentence
COMPARED = ("better", "similar", "worse")  # a comparison the 95% interval decided
ENGLAND = "england"
EVENT_TYPE = re.compile(r"\b[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]+)+\b")  # EhcPlanIssued


def figure_text(figure: Figure, unit: str) -> str:
    """A published figure as written: its symbol (c, x, z, low), or the number."""
    if figure.get("value") is None:
        return str(figure.get("symbol") or "x")
    return shown_as(float(figure["value"]), unit)


def count_text(figure: Figure) -> str:
    """A published count (numerator or denominator): its symbol, or the number."""
    if figure.get("value") is None:
        return str(figure.get("symbol") or "x")
    return f"{float(figure['value']):,.0f}"


def target_text(kpi: KpiDocument) -> str:
    """The target as a sentence, read with the KPI's polarity (a count's is a change)."""
    target = float(kpi["target_percent"])
    higher = kpi["polarity"] == "higher_is_better"
    if kpi["unit"] == "count":
        return f"a change on a year of {target:+.1f}% {'or more' if higher else 'or less'}"
    return f"{shown_as(target, kpi['unit'])} {'or more' if higher else 'or less'}"


def change_text(kpi: KpiDocument) -> str:
    """The change on a year (the last 12 months against the 12 before), with whether it is
    for the better or the worse."""
    change = kpi["change_percent"]
    if change.get("value") is None:
        return f"{change.get('symbol') or 'x'} (no change on a year to show)"
    value = float(change["value"])
    if value == 0:
        return "no change on a year"
    better = (value > 0) == (kpi["polarity"] == "higher_is_better")
    return f"{value:+.1f}% on a year ({'better' if better else 'worse'})"


def getting_worse(kpi: KpiDocument) -> bool:
    """The change on a year is published and goes the way the KPI's polarity calls worse."""
    value = kpi["change_percent"].get("value")
    if value is None or value == 0:
        return False
    higher_is_better: bool = kpi["polarity"] == "higher_is_better"
    return (float(value) > 0) != higher_is_better


def latest_comparisons(kpi: KpiDocument) -> list[Mapping[str, Any]]:
    """The comparators of the latest year compared by the 95% interval (or, with none
    compared, of the latest year published), England first."""
    comparators: list[Mapping[str, Any]] = list(kpi.get("comparators") or [])
    compared = [c for c in comparators if c["comparison"] in COMPARED]
    pool = compared or comparators
    if not pool:
        return []
    year = max(int(c["year"]) for c in pool)
    return [c for c in pool if int(c["year"]) == year]


def worse_than_england(kpi: KpiDocument) -> bool:
    """Significantly worse than England in the latest year compared (95% interval)."""
    return any(c["kind"] == ENGLAND and c["comparison"] == "worse" for c in latest_comparisons(kpi))


def worse_and_worsening(kpi: KpiDocument) -> bool:
    """Fingertips' filter: significantly worse than England and getting worse."""
    return worse_than_england(kpi) and getting_worse(kpi)


def event_types_of(kpi: KpiDocument) -> list[str]:
    """The event types a KPI's declared source names ("EhcPlanIssued events from ...")."""
    return list(dict.fromkeys(EVENT_TYPE.findall(str(kpi.get("source") or ""))))


def day_text(day: str | dt.date | None) -> str | None:
    """A day as the pages write it: 30 Nov 2026."""
    if day is None:
        return None
    if isinstance(day, str):
        day = dt.date.fromisoformat(day)
    return f"{day.day} {day:%b %Y}"


def feed_ages(kpi: KpiDocument, latest: Sequence[FeedDate]) -> list[str]:
    """How old the data behind a KPI is, per partner feed: "health data to 30 Nov 2026"."""
    wanted = set(event_types_of(kpi))
    to: dict[str, dt.date] = {}
    for row in latest:
        if row.event_type in wanted:
            to[row.feed] = max(to.get(row.feed, row.occurred_to), row.occurred_to)
    if not to:
        return ["no data received yet for this KPI"]
    return [
        f"{FEED_NAMES.get(feed, feed)} data to {day_text(day)}" for feed, day in sorted(to.items())
    ]


@dataclass(frozen=True)
class Compared:
    """One comparator as a tile or a KPI page writes it."""

    geography: str
    kind: str
    year: int
    value: str
    comparison: str  # better, similar, worse or why not compared (a machine's word)
    text: str  # the comparison in words
    area_value: str
    area_interval: str
    source: str
    url: str
    note: str


def compared(kpi: KpiDocument, comparator: Mapping[str, Any]) -> Compared:
    unit = kpi["unit"]
    interval = comparator.get("area_interval")
    return Compared(
        geography=str(comparator["geography_name"]),
        kind=str(comparator["kind"]),
        year=int(comparator["year"]),
        value=shown_as(float(comparator["value"]), unit),
        comparison=str(comparator["comparison"]),
        text=str(comparator["comparison_text"]),
        area_value=figure_text(comparator["area_value"], unit),
        area_interval=(
            f"{shown_as(interval[0], unit)} to {shown_as(interval[1], unit)}" if interval else ""
        ),
        source=str(comparator.get("source") or ""),
        url=str(comparator.get("url") or ""),
        note=str(comparator.get("note") or ""),
    )


SPARKLINE_MONTHS = 24  # a tile's sparkline: the last two years
PAGE_MONTHS = 36  # a KPI page's chart and table, unless every month is asked for


def last_months(kpi: KpiDocument, months: int | None) -> list[Mapping[str, Any]]:
    """The KPI's last `months` months as published (every month: None)."""
    series: list[Mapping[str, Any]] = list(kpi["trend"])
    return series if months is None else series[-months:]


def trend(kpi: KpiDocument, months: int | None = None) -> Trend:
    """A KPI's last `months` months as its charts draw them: the target on the value's
    scale (a count's target is a change, so none is drawn) and, for a percentage, each
    comparator over the months its year covers."""
    unit = kpi["unit"]
    comparisons = []
    if unit == "percent":
        for comparator in kpi.get("comparators") or []:
            year = int(comparator["year"])
            last = "01" if comparator.get("period") == "as_at_january" else "12"
            comparisons.append(
                Comparison(
                    str(comparator["geography_name"]),
                    f"{year}-01",
                    f"{year}-{last}",
                    float(comparator["value"]),
                )
            )
    return trend_of(
        str(kpi["id"]),
        str(kpi["name"]),
        unit,
        [(m["period"], m["value"].get("value")) for m in last_months(kpi, months)],
        None if unit == "count" else float(kpi["target_percent"]),
        comparisons,
    )


def period_text(kpi: KpiDocument) -> str:
    first, last = kpi.get("period_from"), kpi.get("period_to")
    if not first or not last:
        return "no months with data"
    if first == last:
        return month_name(last)
    return f"{month_name(first)} to {month_name(last)}"


@dataclass(frozen=True)
class Tile:
    """One KPI on the scorecard page."""

    id: str
    name: str
    perspective: str
    unit: str
    value: str
    symbol: str | None  # the value's disclosure symbol, if it is one
    period: str
    target: str
    rag: str
    rag_text: str
    rag_class: str
    rag_reason: str | None
    change: str
    trend: Trend
    comparators: tuple[Compared, ...]
    comparators_note: str | None
    feeds: tuple[str, ...]
    worse_than_england: bool
    getting_worse: bool


def tile(kpi: KpiDocument, latest: Sequence[FeedDate]) -> Tile:
    rag = str(kpi["rag"])
    rag_text, rag_class = RAG_TEXT.get(rag, (rag.replace("_", " ").capitalize(), "govuk-tag--grey"))
    reason = kpi.get("waiting_for") and f"waiting for {kpi['waiting_for']}"
    chosen = latest_comparisons(kpi)
    return Tile(
        id=str(kpi["id"]),
        name=str(kpi["name"]),
        perspective=str(kpi["perspective"]),
        unit=str(kpi["unit"]),
        value=figure_text(kpi["value"], kpi["unit"]),
        symbol=kpi["value"].get("symbol") if kpi["value"].get("value") is None else None,
        period=period_text(kpi),
        target=target_text(kpi),
        rag=rag,
        rag_text=rag_text,
        rag_class=rag_class,
        rag_reason=reason or kpi.get("not_rated"),
        change=change_text(kpi),
        trend=trend(kpi, SPARKLINE_MONTHS),
        comparators=tuple(compared(kpi, c) for c in chosen),
        comparators_note=kpi.get("comparators_note") or (None if chosen else NO_COMPARATOR),
        feeds=tuple(feed_ages(kpi, latest)),
        worse_than_england=worse_than_england(kpi),
        getting_worse=getting_worse(kpi),
    )


NO_COMPARATOR = "no comparator published"


@dataclass(frozen=True)
class Perspective:
    name: str
    tiles: tuple[Tile, ...]


def perspectives(tiles: Iterable[Tile]) -> list[Perspective]:
    """Tiles grouped by perspective, in the catalogue's order."""
    grouped: dict[str, list[Tile]] = {}
    for one in tiles:
        grouped.setdefault(one.perspective, []).append(one)
    return [Perspective(name, tuple(group)) for name, group in grouped.items()]


def scorecard_tiles(
    document: Mapping[str, Any], latest: Sequence[FeedDate], worse_only: bool = False
) -> list[Tile]:
    """Every KPI of the published scorecard as a tile; with `worse_only`, only those
    significantly worse than England and getting worse."""
    kpis = document["kpis"]
    return [tile(kpi, latest) for kpi in kpis if not worse_only or worse_and_worsening(kpi)]


def symbols_used(document: Mapping[str, Any]) -> dict[str, str]:
    """The disclosure symbols the document explains, as it explains them."""
    symbols: dict[str, str] = dict(document.get("disclosure", {}).get("symbols", {}))
    return symbols


@dataclass(frozen=True)
class MonthRow:
    period: str  # YYYY-MM
    month: str  # Nov 2026
    numerator: str
    denominator: str
    value: str


def month_rows(kpi: KpiDocument, months: int | None = None) -> list[MonthRow]:
    """A KPI's last `months` months as its table shows them: the figures its chart draws."""
    unit = kpi["unit"]
    return [
        MonthRow(
            period=m["period"],
            month=month_name(m["period"]),
            numerator=count_text(m["numerator"]),
            denominator=count_text(m["denominator"]),
            value=figure_text(m["value"], unit),
        )
        for m in last_months(kpi, months)
    ]


def suppressed_among(figures: Iterable[Figure]) -> int:
    """How many of these published figures are suppressed (for the access log)."""
    return sum(1 for figure in figures if figure.get("status") == "suppressed")


def find_kpi(document: Mapping[str, Any], kpi_id: str) -> KpiDocument | None:
    for kpi in document["kpis"]:
        if kpi["id"] == kpi_id:
            found: KpiDocument = kpi
            return found
    return None
