"""The commissioner's scorecard: every KPI as a tile grouped by perspective, a page per KPI
with its months, chart, comparators and definition, and the scorecard's downloads.

The pages read the published scorecard (`warehouse/scorecard.py`, the document `GET
/scorecard` sends, kept by `publication_cache.py`) and how recent each feed's data is
(`warehouse/feeds.py`); `scorecard_view.py` shapes them, `charts.py` draws them. The
filter is a GET form, so it works without script and its address can be shared.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from streams.scorecard import CATALOGUE
from warehouse.api import downloads
from warehouse.api.access import returned
from warehouse.api.policy import Warehouse
from warehouse.feeds import latest_events
from warehouse.scorecard import scorecard_document
from warehouse.web.charts import describe, sparkline_svg, trend_svg, warm_up_in_background
from warehouse.web.guard import page_for
from warehouse.web.layout import render, roles_of
from warehouse.web.scorecard_view import (
    PAGE_MONTHS,
    RAG_TEXT,
    compared,
    count_text,
    day_text,
    find_kpi,
    last_months,
    month_rows,
    perspectives,
    scorecard_tiles,
    suppressed_among,
    symbols_used,
    tile,
    trend,
)
from warehouse.web.sessions import Session

PAGE = "/dashboard/scorecard"
DOWNLOAD = "/dashboard/scorecard/download"
WORSE_AND_WORSENING = "worse-and-worsening"
KPI_ID = r"^[a-z0-9_]{1,80}$"
DECLARED = {kpi.id: kpi for kpi in CATALOGUE}

router = APIRouter()
Commissioner = Annotated[Session, Depends(page_for(*roles_of(PAGE)))]


@router.get(PAGE, response_class=HTMLResponse)
def scorecard_page(
    request: Request,
    conn: Warehouse,
    session: Commissioner,
    filter_by: Annotated[str | None, Query(alias="filter", max_length=40)] = None,
) -> HTMLResponse:
    """Every KPI's tile, grouped by perspective; with `filter=worse-and-worsening`, only the
    KPIs significantly worse than England and getting worse."""
    document = scorecard_document(conn)
    worse_only = filter_by == WORSE_AND_WORSENING
    tiles = scorecard_tiles(document, latest_events(conn), worse_only)
    counts: dict[str, int] = {}
    for one in tiles:
        counts[one.rag] = counts.get(one.rag, 0) + 1
    context: dict[str, Any] = {
        "as_at": day_text(document.get("as_at")),
        "kpi_count": len(document["kpis"]),
        "shown_count": len(tiles),
        "worse_only": worse_only,
        "perspectives": perspectives(tiles),
        "sparklines": {one.id: Markup(sparkline_svg(one.trend)) for one in tiles},
        "rag_counts": [
            {"text": text, "count": counts[rag]}
            for rag, (text, _) in RAG_TEXT.items()
            if rag in counts
        ],
        "symbols": symbols_used(document),
        "disclosure_rule": document.get("disclosure", {}).get("rule"),
    }
    shown = [kpi for kpi in document["kpis"] if kpi["id"] in {one.id for one in tiles}]
    figures = [f for kpi in shown for f in (kpi["value"], kpi["change_percent"], *_months(kpi))]
    returned(request, len(tiles), len(figures), suppressed=suppressed_among(figures))
    warm_up_in_background()  # the KPI pages' chart renderer, before the first is opened
    return render(request, "scorecard.html", context, session)


@router.get(DOWNLOAD)
def scorecard_download(
    request: Request,
    conn: Warehouse,
    session: Commissioner,
    export_format: Annotated[
        Literal["csv", "xlsx", "parquet", "metadata"], Query(alias="format")
    ] = "csv",
) -> Response:
    """The scorecard the pages show, as `GET /exports/scorecard` sends it to a token."""
    if export_format == "metadata":
        return downloads.scorecard_metadata(request, conn)
    return downloads.scorecard_export(request, conn, export_format)


@router.get(PAGE + "/{kpi_id}", response_class=HTMLResponse)
def kpi_page(
    request: Request,
    conn: Warehouse,
    session: Commissioner,
    kpi_id: Annotated[str, Path(pattern=KPI_ID)],
    months: Annotated[Literal["all"] | None, Query()] = None,
) -> HTMLResponse:
    """One KPI: its definition, figures by month as a chart and a table (the last
    `PAGE_MONTHS`, or with `months=all` every month published), its comparators, source,
    owner and the downloads."""
    document = scorecard_document(conn)
    kpi = find_kpi(document, kpi_id)
    declared = DECLARED.get(kpi_id)
    if kpi is None or declared is None:
        returned(request, 0, 0, suppressed=0)
        return render(request, "scorecard_missing.html", {"kpi_id": kpi_id}, session, 404)
    shown = tile(kpi, latest_events(conn))
    window = None if months == "all" else PAGE_MONTHS
    rows = month_rows(kpi, window)
    drawn = trend(kpi, window)
    context: dict[str, Any] = {
        "tile": shown,
        "definition": kpi["definition"],
        "numerator": declared.numerator,
        "denominator": declared.denominator,
        "counts": (count_text(kpi["numerator"]), count_text(kpi["denominator"])),
        "period": declared.period,
        "polarity": "higher is better"
        if kpi["polarity"] == "higher_is_better"
        else "lower is better",
        "source": kpi["source"],
        "owner": kpi["owner"],
        "chart": Markup(trend_svg(drawn)),
        "description": describe(drawn),
        "rows": rows,
        "every_month": len(kpi["trend"]),
        "comparators": [compared(kpi, c) for c in kpi.get("comparators") or []],
        "symbols": symbols_used(document),
    }
    figures = [kpi["value"], *(m[part] for m in last_months(kpi, window) for part in PARTS)]
    returned(request, len(rows), len(figures), suppressed=suppressed_among(figures))
    return render(request, "kpi.html", context, session)


PARTS = ("numerator", "denominator", "value")


def _months(kpi: dict[str, Any]) -> list[dict[str, Any]]:
    """The monthly values a tile's sparkline draws."""
    return [month["value"] for month in kpi["trend"]]
