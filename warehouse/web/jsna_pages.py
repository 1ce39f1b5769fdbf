"""The JSNA explorer (public health): a date and up to two breakdowns, the published table,
its charts, and the CSV and XLSX downloads `hub export jsna` writes.

The page is a GET form, so it works without script and its address can be shared. It
reads only the published documents (`warehouse/jsna.py`, `warehouse/crosstab.py`) as at
the month end on or before the date and a year before, shaped by `jsna_explorer.py`;
the downloads are the API's (`warehouse/api/downloads.py`) behind the session's sign-in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from contextvars import copy_context
from typing import Annotated, Any, Literal

from fastapi import Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from psycopg import Connection

from streams.crosstab import BREAKDOWNS, DEFINITIONS, SEND_STATUS
from streams.crosstab_publication import OutOfStep
from warehouse.api import downloads
from warehouse.api.access import returned
from warehouse.api.policy import Warehouse, pool_of
from warehouse.api.pool import spare
from warehouse.api.routes import EARLIEST, LATEST
from warehouse.crosstab import crosstab_document
from warehouse.jsna import jsna_document, month_end_on_or_before
from warehouse.web.guard import page_for, page_router
from warehouse.web.jsna_charts import people_svg, rates_svg
from warehouse.web.jsna_explorer import Choice, Explored, choose, cross, label, legend, one_way
from warehouse.web.layout import render, roles_of
from warehouse.web.sessions import Session

PAGE = "/dashboard/jsna"
DOWNLOAD = "/dashboard/jsna/download"
FORMATS = ("csv", "xlsx")
REBUILDING = "These figures are being rebuilt: try again in a minute"

router = page_router()
Explorer = Annotated[Session, Depends(page_for(*roles_of(PAGE)))]
Field = Annotated[str | None, Query(max_length=40)]
Spare = Callable[[], AbstractContextManager[Connection | None]]  # a second one if free


def a_year_before(month_end: dt.date) -> dt.date:
    """The month end a year before a month end (29 February's year before: 28 February)."""
    return month_end_on_or_before(dt.date(month_end.year - 1, month_end.month, 1) + _MONTH)


_MONTH = dt.timedelta(days=31)


def latest_month_end(conn: Connection, today: dt.date) -> dt.date:
    """The page's default date: the last month end with JSNA cells, no later than today's."""
    row = conn.execute(
        "SELECT max(as_at) FROM jsna_cells WHERE dimension = 'all' AND as_at <= %s",
        (month_end_on_or_before(today),),
    ).fetchone()
    return row[0] if row and row[0] else month_end_on_or_before(today)


def population(conn: Connection, year: int) -> dict[tuple[str, str], int]:
    """The loaded reference population of a year, by breakdown and value (public figures)."""
    return {
        (dimension, value): int(people)
        for dimension, value, people in conn.execute(
            "SELECT dimension, value, people FROM reference_population WHERE year = %s", (year,)
        ).fetchall()
        if people
    }


def explore(conn: Connection, choice: Choice, spare: Spare | None = None) -> Explored:
    """The published documents the choice reads, as at its month end and a year before.

    A cross-tab's two documents are built at once when a `spare` connection is free, the
    year before's on it in a second thread: each reads the register in PostgreSQL and
    protects its table in HiGHS, both outside Python's lock, so a pair nobody has asked
    for yet costs about 60% of building them one after the other. With no connection
    free, one after the other on the request's own."""
    month_end = month_end_on_or_before(choice.as_at)
    before = a_year_before(month_end)
    if choice.pair is not None:
        rows, columns = choice.pair
        with spare() if spare else nullcontext() as other:
            if other is None:
                return cross(
                    choice,
                    crosstab_document(conn, month_end, rows, columns),
                    crosstab_document(conn, before, rows, columns),
                )
            with ThreadPoolExecutor(1) as second:  # in this request's context (`may_lag`)
                earlier = second.submit(
                    copy_context().run, crosstab_document, other, before, rows, columns
                )
                now = crosstab_document(conn, month_end, rows, columns)
                return cross(choice, now, earlier.result())
    return one_way(
        choice,
        jsna_document(conn, month_end),
        jsna_document(conn, before),
        population(conn, month_end.year),
        population(conn, before.year),
    )


def _date(text: str | None) -> dt.date | None:
    try:
        day = dt.date.fromisoformat((text or "").strip())
    except ValueError:
        return None
    return day if EARLIEST <= day <= LATEST else None


def export_by(choice: Choice) -> str | None:
    """The `by` of the exports for this table (none: every breakdown by SEND status)."""
    if choice.pair is not None:
        return ",".join(choice.pair)
    return None if choice.dimension in (None, "all") else choice.dimension


@router.get(PAGE, response_class=HTMLResponse)
def jsna_page(
    request: Request,
    conn: Warehouse,
    session: Explorer,
    as_at: Field = None,
    first: Field = None,
    second: Field = None,
) -> HTMLResponse:
    """The explorer: the form, the table as published, its charts and downloads."""
    errors: list[dict[str, str]] = []
    day = _date(as_at) if as_at else latest_month_end(conn, dt.date.today())
    if day is None:
        errors.append({"text": "Enter a real date, like 2026-08-31", "href": "#as_at"})
        day = latest_month_end(conn, dt.date.today())
    try:
        choice = choose(day, first, second)
    except ValueError as refused:
        errors.append({"text": str(refused).capitalize(), "href": "#first"})
        choice = choose(day)
    explored: Explored | None = None
    try:
        explored = explore(conn, choice, lambda: spare(pool_of(request.app)))
    except OutOfStep:
        errors.append({"text": REBUILDING, "href": "#first"})
    context: dict[str, Any] = {
        "as_at": day.isoformat(),
        "first": choice.breakdowns[0] if choice.breakdowns else "",
        "second": choice.breakdowns[1] if len(choice.breakdowns) > 1 else "",
        "breakdowns": [{"value": "", "text": "None"}]
        + [{"value": name, "text": label(name)} for name in BREAKDOWNS],
        "definitions": [(label(name), DEFINITIONS[name]) for name in BREAKDOWNS],
        "errors": errors,
        "explored": explored,
    }
    if explored is not None:
        by = export_by(choice)
        query = f"as_at={explored.as_at}" + (f"&by={by}" if by else "")
        context |= {
            "legend": legend(explored.symbols),
            "people_chart": people_svg(explored) if explored.rows else None,
            "rates_chart": rates_svg(explored) if explored.rates and explored.rows else None,
            "downloads": [(f"{DOWNLOAD}?format={kind}&{query}", kind.upper()) for kind in FORMATS],
            "metadata": f"{DOWNLOAD}?format=metadata&{query}",
            "by_status": SEND_STATUS,
        }
        figures = len(explored.rows) * (2 + (3 if explored.rates else 0))
        returned(request, len(explored.rows), figures, suppressed=explored.suppressed)
    else:
        returned(request, 0, 0, suppressed=0)
    return render(request, "jsna.html", context, session)


@router.get(DOWNLOAD)
def jsna_download(
    request: Request,
    conn: Warehouse,
    session: Explorer,
    export_format: Annotated[Literal["csv", "xlsx", "metadata"], Query(alias="format")] = "csv",
    as_at: dt.date | None = None,
    by: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """The export the page's table comes from, as `GET /exports/jsna` sends it to a token."""
    if by is not None and not by.strip():
        raise HTTPException(422, "by: name one or two breakdowns")
    if export_format == "metadata":
        return downloads.jsna_metadata(request, conn, as_at, by)
    return downloads.jsna_export(request, conn, export_format, as_at, by)
