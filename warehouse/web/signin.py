"""Signing in and out of the dashboard, its landing page and its static files.

Sign-in takes an API token (`hub tokens create`), checks it as the API does, and opens a
server-side session (`sessions.py`) named by the `hub_session` cookie: HttpOnly,
SameSite=Strict, Secure when the request came over TLS (directly, or through Caddy's
`X-Forwarded-Proto: https`). The sign-in form itself carries a CSRF token checked against
a short-lived cookie (double submit), since no session exists yet; every later form
carries the session's own.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from warehouse.api.policy import ANYONE, Warehouse, allow
from warehouse.tokens import TokenRefused, authenticate
from warehouse.web.guard import (
    SESSION_COOKIE,
    SIGN_IN_PATH,
    check_csrf,
    page_router,
    posted_form,
    session_of,
)
from warehouse.web.layout import LONGEST_RETURN, page_after_sign_in, pages_for, render
from warehouse.web.sessions import LIFETIME, Session, end_session, open_session

SIGN_IN_COOKIE = "hub_sign_in"  # the sign-in form's CSRF token, until it is posted
STATIC = Path(__file__).parent / "static"
STATIC_MAX_AGE_S = 3600

REFUSED = {
    "unknown": "Enter a valid token: this one is not known to the hub",
    "revoked": "This token has been revoked: ask your hub administrator for a new one",
    "expired": "This token has expired: ask your hub administrator for a new one",
}

router = page_router()
Form = Annotated[dict[str, str], Depends(posted_form)]
Asked = Annotated[str | None, Query(alias="next", max_length=LONGEST_RETURN)]


def over_tls(request: Request) -> bool:
    """Whether the browser reached the hub over TLS: directly, or through the proxy."""
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def set_cookie(
    response: Response, request: Request, name: str, value: str, max_age: int, path: str = "/"
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        httponly=True,
        samesite="strict",
        secure=over_tls(request),
    )


def sign_in_page(
    request: Request,
    error: str | None = None,
    notice: str | None = None,
    status: int = 200,
    asked: str | None = None,
) -> HTMLResponse:
    """The sign-in form, with a fresh CSRF token in the form and in its cookie."""
    csrf_token = secrets.token_urlsafe(32)
    context: dict[str, Any] = {
        "error": error,
        "notice": notice,
        "sign_in_csrf": csrf_token,
        "asked": asked if asked and len(asked) <= LONGEST_RETURN else "",
    }
    response = render(request, "sign_in.html", context, None, status_code=status)
    set_cookie(response, request, SIGN_IN_COOKIE, csrf_token, 3600, SIGN_IN_PATH)
    return response


@router.get(SIGN_IN_PATH, dependencies=[Depends(allow(ANYONE))])
def sign_in_form(request: Request, asked: Asked = None) -> Response:
    """The form; `next` is the page asked for before signing in, opened after it."""
    session = session_of(request)
    if session is not None:
        return RedirectResponse(page_after_sign_in(session.role, asked), status_code=303)
    return sign_in_page(request, asked=asked)


@router.post(SIGN_IN_PATH, dependencies=[Depends(allow(ANYONE))])
def sign_in(request: Request, conn: Warehouse, form: Form) -> Response:
    """Open a session for a valid token; show the form again, saying why, for any other."""
    check_csrf(form, request.cookies.get(SIGN_IN_COOKIE, ""))
    secret = form.get("token", "").strip()
    asked = form.get("next") or None
    if not secret:
        return sign_in_page(request, "Enter your token", status=401, asked=asked)
    try:
        caller = authenticate(conn, secret)
    except TokenRefused as refused:
        return sign_in_page(request, REFUSED[refused.reason], status=401, asked=asked)
    session_id, session = open_session(conn, caller)
    request.state.caller = session  # the access log records who signed in
    response = RedirectResponse(page_after_sign_in(session.role, asked), status_code=303)
    set_cookie(response, request, SESSION_COOKIE, session_id, int(LIFETIME.total_seconds()))
    response.delete_cookie(SIGN_IN_COOKIE, path=SIGN_IN_PATH, httponly=True, samesite="strict")
    return response


@router.post("/sign-out", dependencies=[Depends(allow(ANYONE))])
def sign_out(request: Request, conn: Warehouse, form: Form) -> Response:
    """End the session: its cookie signs nobody in from now on, whoever holds a copy."""
    session = session_of(request)
    if session is None:
        return RedirectResponse(SIGN_IN_PATH, status_code=303)
    check_csrf(form, session.csrf_token)
    request.state.caller = session
    end_session(conn, request.cookies.get(SESSION_COOKIE, ""))
    response = sign_in_page(request, notice="You have signed out.")
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.get("/dashboard", dependencies=[Depends(allow(ANYONE))])
def dashboard(request: Request) -> Response:
    """The landing page: the pages the signed-in role may open (or the way to sign in)."""
    session: Session | None = session_of(request)
    if session is None:
        return RedirectResponse(SIGN_IN_PATH, status_code=303)
    request.state.caller = session
    return render(request, "dashboard.html", {"pages": pages_for(session.role)}, session)


@router.get("/static/{name:path}", dependencies=[Depends(allow(ANYONE))])
def static(name: str) -> FileResponse:
    """A file of the dashboard's own (`warehouse/web/static/`); nothing outside it."""
    path = (STATIC / name).resolve()
    if not path.is_relative_to(STATIC.resolve()) or not path.is_file():
        raise HTTPException(404, "there is no such file")
    return FileResponse(path, headers={"Cache-Control": f"public, max-age={STATIC_MAX_AGE_S}"})
