"""A partner's own page: what it sent, what the hub holds of it, and what was refused.

The same read models as the API's `GET /partner/submissions` and `/partner/refusals`
(`warehouse/submissions.py`, `warehouse/quarantine.py`), for the signed-in partner's own
party only: manifests, counts and refusal reasons, never an event's content.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from schemas.topics import SOURCE_BY_SYSTEM
from warehouse.api.access import returned
from warehouse.api.policy import Warehouse
from warehouse.quarantine import held_from
from warehouse.submissions import events_by_type, submissions_of
from warehouse.web.guard import page_for, page_router
from warehouse.web.layout import render, roles_of
from warehouse.web.sessions import Session

PATH = "/dashboard/submissions"
SHOWN = 50  # newest extracts, and newest refused messages

router = page_router()


@router.get(PATH)
def submissions_page(
    request: Request,
    conn: Warehouse,
    session: Annotated[Session, Depends(page_for(*roles_of(PATH)))],
) -> HTMLResponse:
    party = session.party or ""
    extracts = submissions_of(conn, party, SHOWN)
    held = events_by_type(conn, party)
    topic = SOURCE_BY_SYSTEM.get(party)
    refused_by_reason, refused = (
        held_from(conn, request.app.state.topic_prefix + topic, SHOWN) if topic else ({}, [])
    )
    returned(request, len(extracts) + len(held) + len(refused_by_reason) + len(refused))
    context = {
        "party": party,
        "events_by_type": held,
        "extracts": extracts,
        "refused_by_reason": refused_by_reason,
        "refused": refused,
        "shown": SHOWN,
    }
    return render(request, "submissions.html", context, session)
