"""The data-quality page: the latest reconciliation and data-quality results per partner,
and the runs before it.

Reads the reconcile flow's stored results (`warehouse/run_results.py`). What is wrong comes
first (issue 13, point 6): a row per partner with what its checks covered and how many
failed, then only the failed checks, then every check of the run folded in a Details
component. The history is a trend: failed checks per partner over the runs, on a time axis
since runs are irregular, drawn by `quality_charts.py` with the same figures in a table (a
row per run, a column per partner). With one run or none the page says so instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from warehouse.api.access import returned
from warehouse.api.policy import Warehouse
from warehouse.run_results import HUB, Check, checks_of, expectations_of, run_history
from warehouse.web.guard import page_for, page_router
from warehouse.web.layout import render, roles_of
from warehouse.web.quality_charts import history_of, history_svg
from warehouse.web.sessions import Session

PATH = "/dashboard/data-quality"
HUB_NAME = "KPIs (hub)"  # the hub's own checks, beside the partners'
RECONCILE_FLOW = "reconcile"  # as pipelines/results.py names the flow's runs
EVENTS_STORED = "extract_events_stored"  # as pipelines/reconciliation.py names the check
HISTORY = 30  # runs shown

router = page_router()


@dataclass(frozen=True)
class PartySummary:
    """A partner's checks in one run, summed: the subjects they covered (its extracts, or
    the hub's KPIs), how many failed, and the events its manifests listed and the store
    holds (None where it has no such check)."""

    party: str
    subjects: int
    checks: int
    failed: int
    events_listed: int | None
    events_stored: int | None


def summaries_of(checks: Sequence[Check]) -> list[PartySummary]:
    """Each partner's checks summed: those with failures first, then the rest, the hub's
    own checks after the partners', partners by name."""
    by_party: dict[str, list[Check]] = {}
    for check in checks:
        by_party.setdefault(check.party, []).append(check)
    summaries = []
    for party, own in by_party.items():
        events = [check for check in own if check.check == EVENTS_STORED]
        summaries.append(
            PartySummary(
                party,
                len({check.subject for check in own}),
                len(own),
                sum(not check.passed for check in own),
                sum(check.expected for check in events) if events else None,
                sum(check.actual for check in events) if events else None,
            )
        )
    return sorted(summaries, key=lambda s: (not s.failed, s.party == HUB, s.party))


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
        "summaries": summaries_of(checks),
        "failed": [check for check in checks if not check.passed],
        "expectations": expectations,
        "runs": runs,
        "hub": HUB,
        "parties": parties,
        "names": names,
        "trend": Markup(history_svg(history)) if history.drawable else None,
    }
    return render(request, "data_quality.html", context, session)
