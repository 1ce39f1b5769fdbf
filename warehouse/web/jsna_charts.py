"""The JSNA explorer's two charts, drawn on the server as SVG: people as at the date and a year
before, and rates per 1,000 with their 95% confidence intervals.

Built like the scorecard's (`warehouse/web/charts.py`, whose palette and renderer they
share): a Vega-Lite spec rendered by `vl-convert-python`, kept by the rows it draws, with a
title and a text description; the page shows the same figures as a table. A figure
published as a symbol draws nothing and the description counts it. The two years are
told apart by colour and by mark (filled and hollow), and named in the legend.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import Any

import altair as alt
import vl_convert

from warehouse.web.charts import BLACK, BLUE, DARK_GREY, FONT, GRID, VEGA_LITE
from warehouse.web.jsna_explorer import Explored, Row

STEP = 14  # pixels per bar or interval
INNER_ROLES = re.compile(r' (role|aria-roledescription)="[^"]*"')  # Vega's, inside the image


def category(row: Row) -> str:
    return " · ".join(row.labels)


def people_svg(explored: Explored, key: str = "jsna") -> str:
    """People in each line of the table, as at the date and a year before."""
    return _people(key, explored.as_at, explored.compared_with, explored.by, explored.rows)


@lru_cache(maxsize=64)
def _people(key: str, as_at: str, compared_with: str, by: str, rows: tuple[Row, ...]) -> str:
    now, then = f"As at {as_at}", f"A year before ({compared_with})"
    values = [
        {"line": category(row), "year": year, "people": figure.value}
        for row in rows
        for year, figure in ((now, row.people), (then, row.before))
        if figure.value is not None
    ]
    chart = (
        alt.Chart(alt.InlineData(values=values))
        .mark_bar()
        .encode(
            y=alt.Y("line:N", title=None, sort=[category(row) for row in rows]),
            yOffset=alt.YOffset("year:N", sort=[now, then]),
            x=alt.X("people:Q", title="People"),
            color=_years(now, then),
            fillOpacity=alt.FillOpacity(
                "year:N", scale=alt.Scale(domain=[now, then], range=[1.0, 0.35]), legend=None
            ),
            stroke=alt.Stroke(
                "year:N", scale=alt.Scale(domain=[now, then], range=[BLUE, BLACK]), legend=None
            ),
        )
        .properties(width=420, height=alt.Step(STEP))
    )
    published = sum(1 for row in rows if row.people.value is not None)
    words = (
        f"{published} of {len(rows)} counts as at {as_at} published "
        f"as numbers; the others are shown in the table by their symbol. "
        + _extremes(rows, "people")
    )
    title = f"People by {by}, as at {as_at} and a year before"
    return _labelled(_svg(_configured(chart)), f"{key}-people", title, words)


def rates_svg(explored: Explored, key: str = "jsna") -> str:
    """Rates per 1,000 with their 95% confidence intervals, as at the date and a year before
    (where the year before's population is loaded)."""
    return _rates(key, explored.as_at, explored.compared_with, explored.by, explored.rows)


@lru_cache(maxsize=64)
def _rates(key: str, as_at: str, compared_with: str, by: str, rows: tuple[Row, ...]) -> str:
    now, then = f"As at {as_at}", f"A year before ({compared_with})"
    values: list[dict[str, Any]] = []
    for row in rows:
        for year, rate, bounds in (
            (now, row.rate, row.rate_interval),
            (then, row.rate_before, row.rate_before_interval),
        ):
            if rate is None or rate.value is None:
                continue
            low, high = bounds or (rate.value, rate.value)
            values.append(
                {"line": category(row), "year": year, "rate": rate.value, "low": low, "high": high}
            )
    base = alt.Chart(alt.InlineData(values=values)).encode(
        y=alt.Y("line:N", title=None, sort=[category(row) for row in rows]),
        yOffset=alt.YOffset("year:N", sort=[now, then]),
        color=_years(now, then),
    )
    chart = alt.layer(
        base.mark_rule(strokeWidth=2).encode(
            x=alt.X("low:Q", title="Rate per 1,000 (95% confidence interval)"), x2="high:Q"
        ),
        base.mark_point(size=50, strokeWidth=2, filled=True).encode(
            x="rate:Q",
            shape=alt.Shape(
                "year:N", scale=alt.Scale(domain=[now, then], range=["circle", "square"])
            ),
        ),
    ).properties(width=420, height=alt.Step(STEP))
    shown = [row for row in rows if row.rate is not None and row.rate.value is not None]
    words = (
        f"{len(shown)} of {len(rows)} rates as at {as_at} published, each "
        "with its 95% confidence interval as a line. " + _extremes(shown, "rate")
    )
    title = f"Rate per 1,000 by {by}, with 95% confidence intervals"
    return _labelled(_svg(_configured(chart)), f"{key}-rates", title, words)


def _years(now: str, then: str) -> alt.Color:
    return alt.Color(
        "year:N",
        scale=alt.Scale(domain=[now, then], range=[BLUE, DARK_GREY]),
        legend=alt.Legend(orient="bottom", title=None, direction="vertical"),
    )


def _extremes(rows: list[Row] | tuple[Row, ...], measure: str) -> str:
    def value(row: Row) -> float | None:
        figure = row.people if measure == "people" else row.rate
        return figure.value if figure is not None else None

    known = [(value(row), category(row)) for row in rows if value(row) is not None]
    if not known:
        return "No figure is published as a number."
    high = max(known, key=lambda pair: pair[0] or 0.0)
    low = min(known, key=lambda pair: pair[0] or 0.0)
    unit = " per 1,000" if measure == "rate" else ""
    return f"Highest {high[0]:,g}{unit} ({high[1]}); lowest {low[0]:,g}{unit} ({low[1]})."


def _configured(chart: alt.TopLevelMixin) -> dict[str, Any]:
    spec: dict[str, Any] = (
        chart.configure(font=FONT, aria=False)
        .configure_axis(
            labelColor=BLACK,
            titleColor=BLACK,
            domainColor=DARK_GREY,
            tickColor=DARK_GREY,
            gridColor=GRID,
            labelFontSize=12,
            labelLimit=260,
        )
        .configure_legend(labelColor=BLACK, labelFontSize=12)
        .to_dict(validate=False)  # built here from known fields: validating costs 40 ms
    )
    return spec


def _svg(spec: dict[str, Any]) -> str:
    svg: str = vl_convert.vegalite_to_svg(spec, vl_version=VEGA_LITE)
    return svg


def _labelled(svg: str, key: str, title: str, description: str) -> str:
    """`svg` as one image with its title and description (`aria-labelledby` both); the roles
    Vega gives the marks inside it go, as an image's parts are not read out one by one."""
    ids = f"{key}-title", f"{key}-desc"
    opening_end = svg.index(">") + 1
    head = (
        f'{svg[: opening_end - 1]} role="img" aria-labelledby="{ids[0]} {ids[1]}">'
        f'<title id="{ids[0]}">{html.escape(title)}</title>'
        f'<desc id="{ids[1]}">{html.escape(description)}</desc>'
    )
    return head + INNER_ROLES.sub("", svg[opening_end:])
