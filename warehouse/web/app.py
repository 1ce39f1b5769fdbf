"""The dashboard inside the API's app: its routers, listed in one place, and its error pages.

`include_dashboard(app)` is called by `warehouse.api.create_app`. A helper adding pages
adds its router to `ROUTERS`; each page declares its roles with `page_for` (guard.py).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute

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
from warehouse.web.layout import render

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
            app.add_api_route(
                route.path,
                route.endpoint,
                methods=sorted(route.methods or ()),
                dependencies=route.dependencies,
                response_class=route.response_class,
                include_in_schema=False,
                name=route.name,
            )
    app.add_exception_handler(SignInNeeded, _sign_in_needed)
    app.add_exception_handler(PageForbidden, _forbidden)
    app.add_exception_handler(CsrfRefused, _csrf_refused)


async def _sign_in_needed(request: Request, error: Exception) -> Response:
    return RedirectResponse(SIGN_IN_PATH, status_code=303)


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
