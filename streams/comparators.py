"""Comparators: the figures England, the region and statistical neighbours published for a
KPI, and whether the area is better, similar or worse than each. Pure.

The figures are reference data (`streams/kpis/comparators.csv`, loaded by `hub reference
load`), never constants in a KPI declaration. A proportion is compared as Fingertips does
(OHID's "Confidence intervals" technical guide): the 95% Wilson score interval of the
area's figure against the comparator's value, read with the KPI's polarity. Counts and
rates per 1,000 are not compared (decision 0021 says why). The area's figures are the
published (protected) ones, so a comparison tells no more than they do.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from streams.disclosure import NOT_AVAILABLE, Shown, Status, ratio
from streams.kpi import Kpi, Polarity, Unit

SHIPPED = Path(__file__).parent / "kpis" / "comparators.csv"  # the published figures we ship

COLUMNS = (
    *("geography_code", "geography_name", "geography_kind", "kpi_id", "year", "period"),
    *("value", "numerator", "denominator", "source", "url", "note"),
)

Z_95 = 1.959964  # the standard normal's 97.5th percentile: a two-sided 95% interval


class GeographyKind(StrEnum):
    ENGLAND = "england"
    REGION = "region"
    STATISTICAL_NEIGHBOUR = "statistical_neighbour"


class Comparison(StrEnum):
    """What a comparison of the area with one comparator says, for a machine reading it."""

    BETTER = "better"
    SIMILAR = "similar"
    WORSE = "worse"
    NO_COMPARATOR = "no_comparator"
    NO_AREA_FIGURE = "no_area_figure"  # the span shown does not cover the comparator's year
    SUPPRESSED = "not_compared_suppressed"
    NOT_A_PROPORTION = "not_compared_not_a_proportion"


COMPARISON_TEXT = {
    Comparison.BETTER: "better (95% confidence interval clear of the comparator)",
    Comparison.SIMILAR: "similar (the comparator is inside the 95% confidence interval)",
    Comparison.WORSE: "worse (95% confidence interval clear of the comparator)",
    Comparison.NO_COMPARATOR: "no comparator published",
    Comparison.NO_AREA_FIGURE: "not compared: the span shown does not cover this year",
    Comparison.SUPPRESSED: "not compared (suppressed)",
    Comparison.NOT_A_PROPORTION: "not compared: not a proportion (context only)",
}


@dataclass(frozen=True)
class Comparator:
    """One published figure for a KPI, a geography and a year (value on the KPI's scale)."""

    geography_code: str
    geography_name: str
    geography_kind: GeographyKind
    kpi_id: str
    year: int
    period: str  # what the year means: "calendar_year" or "as_at_january"
    value: float
    numerator: int | None
    denominator: int | None
    source: str
    url: str
    note: str = ""

    def row(self) -> tuple[object, ...]:
        return (
            *(self.geography_code, self.geography_name, self.geography_kind.value, self.kpi_id),
            *(self.year, self.period, self.value, self.numerator, self.denominator),
            *(self.source, self.url, self.note),
        )


PERIODS = ("calendar_year", "as_at_january")


def parse_comparators(rows: Iterable[Mapping[str, str]], kpi_ids: set[str]) -> list[Comparator]:
    """Comparators from CSV rows (a header of `COLUMNS`); a ValueError names the bad line."""
    parsed = []
    for line, row in enumerate(rows, start=2):
        try:
            comparator = Comparator(
                geography_code=row["geography_code"].strip(),
                geography_name=row["geography_name"].strip(),
                geography_kind=GeographyKind(row["geography_kind"]),
                kpi_id=row["kpi_id"],
                year=int(row["year"]),
                period=row["period"],
                value=float(row["value"]),
                numerator=int(row["numerator"]) if row["numerator"] else None,
                denominator=int(row["denominator"]) if row["denominator"] else None,
                source=row["source"].strip(),
                url=row["url"].strip(),
                note=(row.get("note") or "").strip(),
            )
        except (KeyError, ValueError) as error:
            raise ValueError(f"line {line}: {error}") from None
        problem = _problem(comparator, kpi_ids)
        if problem:
            raise ValueError(f"line {line}: {problem}")
        parsed.append(comparator)
    keys = [(c.geography_code, c.kpi_id, c.year) for c in parsed]
    if len(set(keys)) != len(keys):
        raise ValueError("a geography, KPI and year appear twice")
    return parsed


def _problem(comparator: Comparator, kpi_ids: set[str]) -> str | None:
    if comparator.kpi_id not in kpi_ids:
        return f"unknown KPI {comparator.kpi_id!r}"
    if comparator.period not in PERIODS:
        return f"period must be one of {', '.join(PERIODS)}"
    if not comparator.url.startswith("https://"):
        return "the source URL must be https"
    if not (comparator.geography_code and comparator.geography_name and comparator.source):
        return "a geography code, name and source are required"
    return None


def wilson_interval(successes: float, trials: float, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a proportion, as fractions (Wilson 1927; Newcombe 1998)."""
    if trials <= 0 or not 0 <= successes <= trials:
        raise ValueError("a proportion needs 0 <= successes <= trials and trials > 0")
    p = successes / trials
    z2 = z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z / (1 + z2 / trials) * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    return max(0.0, centre - half), min(1.0, centre + half)


def compare(
    numerator: float,
    denominator: float,
    comparator: float | None,
    polarity: Polarity,
    scale: int = 100,
) -> Comparison:
    """The area's proportion against a comparator's value (on `scale`, e.g. percent).

    Similar when the comparator lies inside the area's 95% Wilson interval (ends included);
    otherwise better or worse by the side the interval lies on, read with the polarity.
    """
    if comparator is None:
        return Comparison.NO_COMPARATOR
    if denominator <= 0:
        return Comparison.NO_AREA_FIGURE
    if not 0 <= numerator <= denominator:
        return Comparison.NOT_A_PROPORTION
    low, high = wilson_interval(numerator, denominator)
    target = comparator / scale
    if low <= target <= high:
        return Comparison.SIMILAR
    higher = low > target
    if higher == (polarity is Polarity.HIGHER_IS_BETTER):
        return Comparison.BETTER
    return Comparison.WORSE


def compare_published(
    kpi: Kpi, numerator: Shown, denominator: Shown, comparator: float | None
) -> Comparison:
    """`compare` on the area's figures as published: a suppressed count is not compared."""
    if comparator is None:
        return Comparison.NO_COMPARATOR
    if kpi.unit is not Unit.PERCENT:
        return Comparison.NOT_A_PROPORTION
    statuses = {numerator.status, denominator.status}
    if statuses & {Status.SUPPRESSED, Status.LOW}:
        return Comparison.SUPPRESSED
    if numerator.value is None or denominator.value is None:
        return Comparison.NO_AREA_FIGURE
    return compare(numerator.value, denominator.value, comparator, kpi.polarity, kpi.unit.scale)


def published_interval(kpi: Kpi, numerator: Shown, denominator: Shown) -> list[float] | None:
    """The 95% Wilson interval of a published proportion on the KPI's scale, 1 decimal."""
    if kpi.unit is not Unit.PERCENT or numerator.value is None or denominator.value is None:
        return None
    if denominator.value <= 0 or not 0 <= numerator.value <= denominator.value:
        return None
    low, high = wilson_interval(numerator.value, denominator.value)
    return [round(low * kpi.unit.scale, 1), round(high * kpi.unit.scale, 1)]


KIND_ORDER = {kind: index for index, kind in enumerate(GeographyKind)}


def for_kpi(comparators: Iterable[Comparator], kpi_id: str) -> list[Comparator]:
    """A KPI's comparators, by year, then England, the region, the neighbours."""
    return sorted(
        (c for c in comparators if c.kpi_id == kpi_id),
        key=lambda c: (c.year, KIND_ORDER[c.geography_kind], c.geography_name),
    )


Pair = Callable[[Kpi, Sequence[dt.date]], tuple[Shown, Shown]]  # a span's published figures


def published_comparators(
    kpi: Kpi, comparators: Iterable[Comparator], months: Sequence[dt.date], pair: Pair
) -> list[dict[str, Any]]:
    """A KPI's comparators as the scorecard publishes them, each beside the area's figures
    for the same calendar year (`pair`: as published) when the months shown cover it."""
    shown = set(months)
    entries = []
    for comparator in for_kpi(comparators, kpi.id):
        year = [dt.date(comparator.year, month, 1) for month in range(1, 13)]
        numerator = denominator = NOT_AVAILABLE
        if kpi.unit is Unit.PERCENT and shown.issuperset(year):
            numerator, denominator = pair(kpi, year)
        comparison = compare_published(kpi, numerator, denominator, comparator.value)
        entries.append(
            {
                "geography_code": comparator.geography_code,
                "geography_name": comparator.geography_name,
                "kind": comparator.geography_kind.value,
                "year": comparator.year,
                "period": comparator.period,
                "value": comparator.value,
                "source": comparator.source,
                "url": comparator.url,
                "note": comparator.note,
                "area_numerator": numerator.as_json(),
                "area_denominator": denominator.as_json(),
                "area_value": ratio(numerator, denominator, kpi.unit.scale, 1).as_json(),
                "area_interval": published_interval(kpi, numerator, denominator),
                "comparison": comparison.value,
                "comparison_text": COMPARISON_TEXT[comparison],
            }
        )
    return entries
