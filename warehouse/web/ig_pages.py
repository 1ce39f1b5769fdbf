"""The information-governance page: flows per contract and month, refusals by reason, the
access log's newest rows and the hash chain's last verification.

The month's figures are the IG report's arrivals (`warehouse/ig_report.py` and
`streams/ig_report.py`, the same counts as `GET /audit/report` and `hub audit report`,
without the report's lineage, which reads every event in effect), the months around it
`warehouse/ig_flows.py`'s, the chain's status `GET /audit/chain`'s. For `ig_auditor` only.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.responses import HTMLResponse

from streams.ig_report import arrivals
from warehouse.access_log import read_access
from warehouse.api.access import returned
from warehouse.api.policy import Warehouse
from warehouse.chain_audit import latest_verification
from warehouse.ig_flows import flows_by_month
from warehouse.ig_report import accepted, month_bounds, refused
from warehouse.web.guard import page_for, page_router
from warehouse.web.layout import render, roles_of
from warehouse.web.sessions import Session

PATH = "/dashboard/ig"
MONTH = re.compile(r"^20\d{2}-(0[1-9]|1[0-2])$")
MONTHS_SHOWN = 12
ACCESS_ROWS = 25

router = page_router()


def contract_choices(request: Request) -> list[str]:
    """The contracts the hub ships, the area's own first."""
    shipped = sorted(request.app.state.contracts)
    area = request.app.state.area
    if area is not None and area.contract_id in shipped:
        shipped.remove(area.contract_id)
        shipped.insert(0, area.contract_id)
    return shipped


@router.get(PATH)
def ig_page(
    request: Request,
    conn: Warehouse,
    session: Annotated[Session, Depends(page_for(*roles_of(PATH)))],
    contract: Annotated[str | None, Query(max_length=100)] = None,
    month: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    choices = contract_choices(request)
    errors: list[dict[str, str]] = []
    chosen_contract = contract or (choices[0] if choices else "")
    if contract is not None and contract not in choices:
        errors.append({"text": "Choose one of the hub's contracts", "href": "#contract"})
        chosen_contract = choices[0] if choices else ""
    chosen_month = month or dt.datetime.now(dt.UTC).date().isoformat()[:7]
    if not MONTH.match(chosen_month):
        errors.append({"text": "Enter a month as YYYY-MM, for example 2026-11", "href": "#month"})
        chosen_month = dt.datetime.now(dt.UTC).date().isoformat()[:7]
    first_day = dt.date.fromisoformat(chosen_month + "-01")
    start, end = month_bounds(first_day)
    report = arrivals(accepted(conn, chosen_contract, start, end), refused(conn, start, end))
    flows = flows_by_month(conn, chosen_contract, first_day, MONTHS_SHOWN)
    parties = sorted({party for row in flows for party in row.accepted_by_party})
    entries = read_access(conn, None, None, ACCESS_ROWS)
    chain = latest_verification(conn)
    returned(request, len(flows) + len(entries) + (1 if chain["latest"] else 0))
    context = {
        "choices": choices,
        "contract": chosen_contract,
        "month": chosen_month,
        "errors": errors,
        "report": report,
        "flows": flows,
        "parties": parties,
        "entries": entries,
        "chain": chain,
    }
    return render(request, "ig.html", context, session)
