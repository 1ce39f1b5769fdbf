"""The dashboard's charts, drawn on the server as SVG: no script, each with a title and a text
description, and the caller shows the same figures as a table (issue 13, point 7).

A KPI's monthly trend is a Vega-Lite spec built with `altair` and rendered by
`vl-convert-python` (decision 0022): some 50 ms each once its engine has started, so each
SVG is kept by what it draws (`trend_svg`'s cache). A tile's sparkline is a plain SVG path
drawn here: thirty of them through vl-convert took over a second, thirty paths take less
than a millisecond. Colours are the GOV.UK palette's, each with at least 3:1 contrast on
white; the figures they stand for are always written out beside them.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import altair as alt
import vl_convert

VEGA_LITE = "6.4"  # the Vega-Lite version vl-convert renders altair's specs with
FONT = "Arial, Helvetica, sans-serif"  # a system font stack: no web font is fetched
BLUE = "#1d70b8"  # the area's own figures
BLACK = "#0b0c0c"  # the target, and text
DARK_GREY = "#505a5f"  # comparators
GRID = "#b1b4b6"
COMPARATOR_DASHES = ((2, 2), (8, 3), (8, 3, 2, 3), (1, 4))  # told apart by dash and name too


@dataclass(frozen=True)
class Month:
    """One month of a KPI's trend: its value as published (None: suppressed or not
    available, so no point is drawn and the table shows its symbol)."""

    period: str  # YYYY-MM
    value: float | None


@dataclass(frozen=True)
class Comparison:
    """A published comparator's value over the months its year covers."""

    label: str  # "England", the region's name, "Statistical neighbours"
    first: str  # YYYY-MM
    last: str  # YYYY-MM
    value: float


@dataclass(frozen=True)
class Trend:
    """What a KPI's charts draw. `key` makes the SVG's element ids unique on a page."""

    key: str
    name: str
    unit: str  # "percent", "per_1000" or "count" (streams.kpi.Unit)
    months: tuple[Month, ...]
    target: float | None = None  # on the value's own scale (None: none to draw)
    comparisons: tuple[Comparison, ...] = ()


def shown_as(value: float | None, unit: str) -> str:
    """A value as the dashboard writes it: 51.2%, 3.4 per 1,000, 1,234."""
    if value is None:
        return "no figure"
    if unit == "percent":
        return f"{value:,.1f}%"
    if unit == "per_1000":
        return f"{value:,.1f} per 1,000"
    return f"{value:,.0f}"


def month_name(period: str) -> str:
    """2026-11 as "Nov 2026"."""
    return dt.date.fromisoformat(period + "-01").strftime("%b %Y")


def describe(trend: Trend) -> str:
    """The chart in words: how the value moved over the months shown, the target and the
    comparators of the years it reaches, e.g. "Rose from 42.0% in Dec 2025 to 51.0% in
    Nov 2026; target 60.0%"."""
    shown = [month for month in trend.months if month.value is not None]
    if not shown:
        words = f"No figure published for the {len(trend.months)} months shown"
    elif len(shown) == 1:
        words = f"{shown_as(shown[0].value, trend.unit)} in {month_name(shown[0].period)}"
    else:
        first, last = shown[0], shown[-1]
        assert first.value is not None and last.value is not None
        verb = "Rose" if last.value > first.value else "Fell" if last.value < first.value else ""
        start = f"{shown_as(first.value, trend.unit)} in {month_name(first.period)}"
        end = f"{shown_as(last.value, trend.unit)} in {month_name(last.period)}"
        words = f"{verb} from {start} to {end}" if verb else f"Unchanged at {start} and {end}"
        hidden = len(trend.months) - len(shown)
        if hidden:
            words += f" ({hidden} of {len(trend.months)} months without a figure)"
    if trend.target is not None:
        words += f"; target {shown_as(trend.target, trend.unit)}"
    reach = (trend.months[0].period, trend.months[-1].period) if trend.months else ("", "")
    for comparison in trend.comparisons:
        if comparison.last < reach[0] or comparison.first > reach[1]:
            continue  # a year the chart does not reach: the comparators' table has it
        year = comparison.first[:4]
        words += f"; {comparison.label} {shown_as(comparison.value, trend.unit)} in {year}"
    return words


def _labelled(svg: str, trend: Trend, title: str, kind: str) -> str:
    """`svg` as an image with its title and description (`aria-labelledby` both)."""
    ids = f"{kind}-{trend.key}-title", f"{kind}-{trend.key}-desc"
    opening_end = svg.index(">") + 1
    opening = svg[: opening_end - 1]
    head = (
        f'{opening} role="img" aria-labelledby="{ids[0]} {ids[1]}">'
        f'<title id="{ids[0]}">{html.escape(title)}</title>'
        f'<desc id="{ids[1]}">{html.escape(describe(trend))}</desc>'
    )
    return head + svg[opening_end:]


def sparkline_svg(trend: Trend, width: int = 120, height: int = 32) -> str:
    """A tile's small trend: the months as one path (broken where a month is not
    published), the target as a dashed line, the last month as a dot."""
    pad = 3.0
    values = [m.value for m in trend.months if m.value is not None]
    scale_values = [*values, *([trend.target] if trend.target is not None else [])]
    parts: list[str] = []
    if values:
        low, high = min(scale_values), max(scale_values)
        span = (high - low) or 1.0
        step = (width - 2 * pad) / max(len(trend.months) - 1, 1)

        def y(value: float) -> float:
            return round(height - pad - (value - low) / span * (height - 2 * pad), 1)

        path: list[str] = []
        pen_up = True
        last: tuple[float, float] | None = None
        for index, month in enumerate(trend.months):
            if month.value is None:
                pen_up = True
                continue
            x = round(pad + index * step, 1)
            path.append(f"{'M' if pen_up else 'L'}{x},{y(month.value)}")
            pen_up = False
            last = (x, y(month.value))
        if trend.target is not None:
            target_y = y(trend.target)
            parts.append(
                f'<line x1="{pad}" x2="{width - pad}" y1="{target_y}" y2="{target_y}"'
                f' stroke="{BLACK}" stroke-width="1" stroke-dasharray="3 2"/>'
            )
        parts.append(
            f'<path d="{" ".join(path)}" fill="none" stroke="{BLUE}" stroke-width="2"'
            ' stroke-linejoin="round" stroke-linecap="round"/>'
        )
        if last is not None:
            parts.append(f'<circle cx="{last[0]}" cy="{last[1]}" r="2.5" fill="{BLUE}"/>')
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" class="hub-sparkline">' + "".join(parts) + "</svg>"
    )
    return _labelled(svg, trend, f"{trend.name}: trend by month", "sparkline")


def trend_svg(trend: Trend) -> str:
    """A KPI's monthly trend with its target and comparators, as SVG (kept by content)."""
    return _labelled(_rendered(trend), trend, f"{trend.name}: monthly trend", "trend")


# Vega gives its marks ARIA roles of their own even with `aria: false`; inside an SVG that
# is one image (`role="img"`, its title and description) they only confuse assistive
# technology, and axe-core reports each as an image without a text alternative.
INNER_ROLES = re.compile(r' (?:role="graphics-[a-z-]+"|aria-roledescription="[^"]*")')


@lru_cache(maxsize=128)
def _rendered(trend: Trend) -> str:
    svg: str = vl_convert.vegalite_to_svg(trend_spec(trend), vl_version=VEGA_LITE)
    return INNER_ROLES.sub("", svg)


_warming = threading.Lock()
_warm = False


def warm_up_in_background() -> None:
    """Start vl-convert's engine (half a second, once per process) in a thread of its own,
    so that the first KPI page opened does not wait for it (unless `warm_up` has)."""
    global _warm
    with _warming:
        if _warm:
            return
        _warm = True
    threading.Thread(target=_rendered, args=(WARM_UP,), name="chart-warm-up", daemon=True).start()


def warm_up() -> None:
    """Start vl-convert's engine now, in this thread: the API does so before it serves,
    because the engine holds the GIL while it starts (a second in which no request runs)."""
    global _warm
    with _warming:
        _warm = True
    _rendered(WARM_UP)


def trend_spec(trend: Trend) -> dict[str, Any]:
    """The Vega-Lite spec of a KPI's monthly trend: the area's values as a line with
    points, the target as a dashed black line, each comparator as a grey segment over
    its year; a legend names each."""
    area = "This area"
    rows: list[dict[str, Any]] = [
        {"month": f"{m.period}-01", "value": m.value, "series": area, "segment": area}
        for m in trend.months
    ]
    series = [area]
    colours, dashes = [BLUE], [[1, 0]]
    if trend.months and trend.target is not None:
        label = f"Target {shown_as(trend.target, trend.unit)}"
        for month in (trend.months[0], trend.months[-1]):
            rows.append(
                {"month": f"{month.period}-01", "value": trend.target, "series": label}
                | {"segment": label}
            )
        series.append(label)
        colours.append(BLACK)
        dashes.append([6, 4])
    first = trend.months[0].period if trend.months else ""
    last = trend.months[-1].period if trend.months else ""
    for comparison in trend.comparisons:
        start, end = max(comparison.first, first), min(comparison.last, last)
        if start > end:
            continue  # its year is outside the months shown: the description still names it
        segment = f"{comparison.label} {comparison.first}"
        for period in (start, end):
            rows.append(
                {"month": f"{period}-01", "value": comparison.value}
                | {"series": comparison.label, "segment": segment}
            )
        if comparison.label not in series:
            series.append(comparison.label)
            colours.append(DARK_GREY)
            dashes.append(list(COMPARATOR_DASHES[(len(series) - 3) % len(COMPARATOR_DASHES)]))
    unit_title = {"percent": "%", "per_1000": "per 1,000"}.get(trend.unit, "number")
    chart = (
        alt.Chart(alt.InlineData(values=rows))
        .mark_line(point=True, invalid="break-paths-show-domains", strokeWidth=2)
        .encode(
            x=alt.X("month:T", title=None, axis=alt.Axis(format="%b %Y", labelAngle=0)),
            y=alt.Y("value:Q", title=unit_title),
            color=alt.Color(
                "series:N",
                scale=alt.Scale(domain=series, range=colours),
                legend=alt.Legend(orient="bottom", title=None),
            ),
            strokeDash=alt.StrokeDash(
                "series:N", scale=alt.Scale(domain=series, range=dashes), legend=None
            ),
            detail="segment:N",
        )
        .properties(width=560, height=240)
        .configure(font=FONT, aria=False)
        .configure_axis(
            labelColor=BLACK,
            titleColor=BLACK,
            domainColor=DARK_GREY,
            tickColor=DARK_GREY,
            gridColor=GRID,
            labelFontSize=12,
        )
        .configure_legend(labelColor=BLACK, labelFontSize=12, symbolStrokeWidth=2)
    )
    spec: dict[str, Any] = chart.to_dict()
    return spec


def trend_of(
    key: str,
    name: str,
    unit: str,
    months: Sequence[tuple[str, float | None]],
    target: float | None = None,
    comparisons: Sequence[Comparison] = (),
) -> Trend:
    """A `Trend` from plain pairs of month and value."""
    return Trend(
        key,
        name,
        unit,
        tuple(Month(period, value) for period, value in months),
        target,
        tuple(comparisons),
    )


WARM_UP = Trend("warm-up", "warm-up", "percent", (Month("2026-01", 1.0), Month("2026-02", 2.0)))
