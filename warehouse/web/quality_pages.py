"""The data-quality page: the latest reconciliation and data-quality results per partner,
and the runs before it.

Reads the reconcile flow's stored results (`warehouse/run_results.py`). The history is a
trend (issue 13, point 6): failed checks per partner over the runs, on a time axis since
runs are irregular, drawn by `quality_charts.py` with the same figures in a table (a row
per run, a column per partner). With one run or none the page says so instead.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from warehouse.api.access import returned
from warehouse.api.policy import Warehouse
from warehouse.run_results import HUB, checks_of, expectations_of, run_history
from warehouse.web.guard import page_for, page_router
from warehouse.web.layout import render, roles_of
from warehouse.web.quality_charts import history_of, history_svg
from warehouse.web.sessions import Session

PATH = "/dashboard/data-quality"
HUB_NAME = "KPIs (hub)"  # the hub's own checks, beside the partners'
RECONCILE_FLOW = "reconcile"  # as pipelines/results.py names the flow's runs
HISTORY = 30  # runs shown

router = page_router()


@router.get(PATH)
def data_quality_page(
    request: Request,
    conn: Warehouse,
    session: Annotated[Session, Depends(page_for(*roles_of(PATH)))],
) -> HTMLResponse:
    runs = run_history(conn, RECONCILE_FLOW, HISTORY)
    latest = runs[0] if runs else None
    checks = checks_of(conn, latest.run_id) if latest else []
    expectations = expectations_of(conn, latest.run_id) if latest else []
    parties = sorted({party for run in runs for party in run.by_party}, key=lambda p: (p == HUB, p))
    names = {party: HUB_NAME if party == HUB else party for party in parties}
    history = history_of(runs, names)
    returned(request, len(runs) + len(checks) + len(expectations))
    context = {
        "latest": latest,
        "checks": checks,
        "expectations": expectations,
        "runs": runs,
        "parties": parties,
        "names": names,
        "trend": Markup(history_svg(history)) if history.drawable else None,
    }
    return render(request, "data_quality.html", context, session)
