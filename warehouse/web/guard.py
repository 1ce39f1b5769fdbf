"""Who may open a page: the session cookie, the page's roles, and the CSRF check of forms.

A page declares its audience with `page_for(*roles)`, a `Policy` (so the API's
`check_policies` sees every page's roles as it sees every route's): without a session
the browser is sent to `/sign-in`, with the wrong role it gets the 403 page. The session
becomes the request's caller, so the access log (`warehouse/api/access.py`) writes the
page's row as it does a route's. Forms are posted `application/x-www-form-urlencoded`
and carry the session's CSRF token (`checked_form`).
"""

from __future__ import annotations

import secrets
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request

from warehouse.api.policy import Policy, known_parameters, warehouse
from warehouse.tokens import Role
from warehouse.web.sessions import Session, find_session

SESSION_COOKIE = "hub_session"
SIGN_IN_PATH = "/sign-in"
LONGEST_FORM = 8192  # bytes: a token and a CSRF token fit many times over


class SignInNeeded(Exception):
    """No open session: the browser is sent to the sign-in page (see `app.py`)."""


class PageForbidden(Exception):
    """A signed-in session whose role may not open this page: the 403 page."""

    def __init__(self, session: Session, roles: frozenset[Role]) -> None:
        super().__init__(session.role.value)
        self.session = session
        self.roles = roles


class CsrfRefused(Exception):
    """A form posted without the CSRF token its page carried: the 403 page."""


class PageFor(Policy):
    """The policy of a page: the roles that may open it, signed in by session cookie."""

    def __call__(self, request: Request) -> Session:
        session = session_of(request)
        if session is None:
            raise SignInNeeded
        request.state.caller = session
        if session.role not in self.roles:
            raise PageForbidden(session, self.roles)
        return session


def page_for(*roles: Role) -> PageFor:
    """The dependency of a page open to these roles, giving the signed-in `Session`:

    def scorecard_page(
        request: Request, conn: Warehouse,
        session: Annotated[Session, Depends(page_for(Role.COMMISSIONER))],
    ) -> HTMLResponse:
        ...
        returned(request, rows, cells)  # what the page shows, for its access-log row
        return render(request, "scorecard.html", {...}, session)
    """
    if not roles:
        raise ValueError("a page must allow at least one role")
    return PageFor(roles)


def session_of(request: Request) -> Session | None:
    """The open session the request's cookie names, if any (read once per request)."""
    if hasattr(request.state, "session"):
        found: Session | None = request.state.session
        return found
    session_id = request.cookies.get(SESSION_COOKIE, "")
    found = find_session(warehouse(request), session_id) if session_id else None
    request.state.session = found
    return found


async def posted_form(request: Request) -> dict[str, str]:
    """The fields of a posted form (`application/x-www-form-urlencoded`, the HTML default):
    the first value of each, a body too long or of another type read as no fields."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        return {}
    body = await request.body()
    if len(body) > LONGEST_FORM:
        return {}
    fields: dict[str, str] = {}
    for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
        fields.setdefault(name, value)
    return fields


def check_csrf(form: dict[str, str], expected: str) -> None:
    """Refuse (CsrfRefused) a form whose `csrf_token` is not the one its page carried."""
    presented = form.get("csrf_token", "")
    if not expected or not secrets.compare_digest(presented.encode(), expected.encode()):
        raise CsrfRefused


def page_router() -> APIRouter:
    """A router of dashboard pages: out of the OpenAPI schema (pages are not the API), and
    refusing an undeclared query parameter as the API's routes do. List it in `app.py`."""
    return APIRouter(include_in_schema=False, dependencies=[Depends(known_parameters)])
