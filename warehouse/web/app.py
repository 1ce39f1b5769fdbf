"""The dashboard inside the API's app: its routers, listed in one place, and its error pages.

`include_dashboard(app)` is called by `warehouse.api.create_app`. A helper adding pages
adds its router to `ROUTERS`; each page declares its roles with `page_for` (guard.py).
A person reads the dashboard's errors in a browser, so its routes (pages and downloads
alike, all but its static files) answer a refused request with a page in the layout,
saying what was wrong, as does an unknown address under /dashboard; the API's routes keep
their problem details (`warehouse/api/problems.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from warehouse.publication_cache import may_lag
from warehouse.web import (
    ig_pages,
    jsna_pages,
    partner_pages,
    quality_pages,
    scorecard_pages,
    signin,
)
from warehouse.web.guard import (
    SIGN_IN_PATH,
    CsrfRefused,
    PageForbidden,
    SignInNeeded,
    session_of,
)
from warehouse.web.layout import LONGEST_RETURN, render

DASHBOARD = "/dashboard"
STATIC = "/static/"  # files, not pages: a missing one is a plain 404
DOWNLOAD = "/download"  # a page's files: `/dashboard/scorecard/download`, `/dashboard/jsna/...`
LONGEST_REASON = 200  # characters of a refusal shown: never a long input echoed back

ROUTERS = (
    signin.router,
    partner_pages.router,
    quality_pages.router,
    ig_pages.router,
    jsna_pages.router,
    scorecard_pages.router,
)


def include_dashboard(app: FastAPI, area_name: str | None = None) -> None:
    """Add the dashboard's pages to the API's app, headed with the area's name."""
    app.state.area_name = area_name
    for router in ROUTERS:
        for route in router.routes:  # one by one: `check_policies` sees each page's roles
            assert isinstance(route, APIRoute), "a dashboard router holds pages only"
            app.router.add_api_route(
                route.path,
                route.endpoint,
                methods=sorted(route.methods or ()),
                dependencies=route.dependencies,
                response_class=route.response_class,
                include_in_schema=False,
                name=route.name,
                route_class_override=None if route.path.startswith(STATIC) else DashboardRoute,
            )
    app.router.default = _not_found_or(app.router.default)
    app.add_middleware(DashboardMayLag)
    app.add_exception_handler(SignInNeeded, _sign_in_needed)
    app.add_exception_handler(PageForbidden, _forbidden)
    app.add_exception_handler(CsrfRefused, _csrf_refused)


async def _sign_in_needed(request: Request, error: Exception) -> Response:
    """To the sign-in form, which opens the page asked for (a GET's) once signed in."""
    asked = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET" or len(asked) > LONGEST_RETURN:
        return RedirectResponse(SIGN_IN_PATH, status_code=303)
    return RedirectResponse(f"{SIGN_IN_PATH}?{urlencode({'next': asked})}", status_code=303)


def _forbidden(request: Request, error: Exception) -> Response:
    """The 403 page: what the role may open instead (its navigation)."""
    assert isinstance(error, PageForbidden)
    reason = "Your role cannot open this page."
    return render(request, "forbidden.html", {"reason": reason}, error.session, 403)


def _csrf_refused(request: Request, error: Exception) -> Response:
    reason = (
        "The form you sent did not carry this page's security token, so nothing was done."
        " Go back, reload the page and try again."
    )
    return render(request, "forbidden.html", {"reason": reason}, session_of(request), 403)


class DashboardMayLag:
    """The dashboard's pages may be served a published document built before the latest
    event batch, for the second or so the API's refresher takes to build the new one
    (`warehouse.publication_cache.may_lag`); their downloads, as the API's exports they
    are, and the API's routes never are."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        page = path == DASHBOARD or path.startswith(DASHBOARD + "/")
        if scope["type"] != "http" or not page or path.endswith(DOWNLOAD):
            await self.app(scope, receive, send)
            return
        with may_lag():  # a context variable: the page's thread sees it too
            await self.app(scope, receive, send)


class DashboardRoute(APIRoute):
    """A dashboard route: a request it refuses (a query value too long or not one it takes,
    an unknown parameter, a download in a format it does not make) gets an HTML page in
    the layout with the status the API would give, not the API's problem details."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as refused:
                reasons = [_reason(item) for item in refused.errors()]
                return await run_in_threadpool(_refused, request, 422, reasons)
            except HTTPException as refused:
                if refused.status_code >= 500:
                    raise
                detail = refused.detail if isinstance(refused.detail, str) else ""
                reasons = [detail[:1].upper() + detail[1:LONGEST_REASON]] if detail else []
                return await run_in_threadpool(_refused, request, refused.status_code, reasons)

        return answer


def _reason(item: Any) -> str:
    """One refused value as the error summary says it: "The address's as_at is not valid:
    ..." (the field's name and the rule it broke, never the value sent)."""
    where = [str(part) for part in item.get("loc", ()) if part not in ("query", "path", "body")]
    name = ".".join(where)[:40] or "query"
    rule = str(item.get("msg", "not valid"))[:LONGEST_REASON]
    return f"The address's {name} is not valid: {rule[:1].lower()}{rule[1:]}"


def _refused(request: Request, status: int, reasons: list[str]) -> Response:
    """The error page of a refused request to a dashboard route."""
    if status == 404:
        return _not_found_page(request)
    context = {
        "heading": "There is a problem with this page's address",
        "paragraphs": [
            "The address asks for something this page does not offer, so nothing is shown."
            " Check the address, or open the page again from the menu."
        ],
        "errors": [{"text": reason} for reason in reasons],
        "again": request.url.path.removesuffix("/download") if request.method == "GET" else "",
    }
    return render(request, "error.html", context, session_of(request), status)


def _not_found_page(request: Request) -> Response:
    """GOV.UK's page-not-found pattern, in the dashboard's layout (signed in or not)."""
    context = {
        "heading": "Page not found",
        "paragraphs": [
            "If you typed the web address, check it is correct.",
            "If you pasted the web address, check you copied the entire address.",
        ],
        "errors": [],
        "again": "",
    }
    return render(request, "error.html", context, session_of(request), 404)


def _not_found_or(otherwise: ASGIApp) -> ASGIApp:
    """The router's answer to an address no route matches: the dashboard's 404 page under
    /dashboard, and `otherwise` (the API's problem details) anywhere else."""

    async def not_found(scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or not path.startswith(DASHBOARD + "/"):
            await otherwise(scope, receive, send)
            return
        page = await run_in_threadpool(_not_found_page, Request(scope, receive))
        await page(scope, receive, send)

    return not_found
