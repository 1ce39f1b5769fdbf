"""How every page looks: the templates, the navigation each role sees, and `render`.

Pages are Jinja2 templates under `templates/` extending `base.html` (blocks `title`,
`main`, and `head` for a page's own stylesheet), a wide table in the `table_scroll` macro
(`templates/table_scroll.html`), with the GOV.UK Frontend macros of `govuk-frontend-jinja`
importable as `govuk_frontend_jinja/components/<name>/macro.html`. The navigation is one table,
`NAVIGATION`: each page with the roles that may open it; a page's `page_for(...)` takes its
roles from here (`roles_of`), so the menu and the guard cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, PackageLoader, PrefixLoader, select_autoescape

from warehouse.tokens import Role
from warehouse.web.sessions import Session

SERVICE_NAME = "Joint Commissioning Hub"
DEFAULT_AREA_NAME = "Local area SEND partnership"  # HUB_AREA_NAME names the real one

# Pages send nothing to, and load nothing from, anywhere but the hub (issue 13, point 1);
# inline styles are allowed for the server-drawn SVG charts, scripts only from /static.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline';"
        " img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",  # pages show figures for one signed-in role
}


@dataclass(frozen=True)
class Page:
    """A page in the navigation: its label, address and the roles that may open it."""

    text: str
    href: str
    roles: frozenset[Role]


NAVIGATION = (
    Page("Scorecard", "/dashboard/scorecard", frozenset({Role.COMMISSIONER})),
    Page("JSNA explorer", "/dashboard/jsna", frozenset({Role.PUBLIC_HEALTH})),
    Page(
        "Data quality",
        "/dashboard/data-quality",
        frozenset({Role.COMMISSIONER, Role.PUBLIC_HEALTH, Role.IG_AUDITOR}),
    ),
    Page("Information governance", "/dashboard/ig", frozenset({Role.IG_AUDITOR})),
    Page("Your submissions", "/dashboard/submissions", frozenset({Role.PARTNER})),
)


def roles_of(href: str) -> tuple[Role, ...]:
    """The roles the navigation gives a page: `page_for(*roles_of("/dashboard/ig"))`."""
    for page in NAVIGATION:
        if page.href == href:
            return tuple(sorted(page.roles))
    raise KeyError(f"{href} is not in the dashboard's NAVIGATION")


def pages_for(role: Role) -> list[Page]:
    """The pages a role may open, in the navigation's order."""
    return [page for page in NAVIGATION if role in page.roles]


HOMES = {  # the page each role opens first after signing in: its own work
    Role.COMMISSIONER: "/dashboard/scorecard",
    Role.PUBLIC_HEALTH: "/dashboard/jsna",
    Role.IG_AUDITOR: "/dashboard/ig",
    Role.PARTNER: "/dashboard/submissions",
}
LONGEST_RETURN = 500  # characters of a page's address carried through the sign-in form


def page_after_sign_in(role: Role, asked: str | None) -> str:
    """Where a new session goes: the page it was asked for before signing in, when that is
    one of the dashboard's own addresses the role may open, else the role's home page.

    Only an address starting `/dashboard` (so never a scheme or a host) under a page of the
    role's navigation is followed: the sign-in form cannot send anyone elsewhere."""
    home = HOMES.get(role, "/dashboard")
    if not asked or len(asked) > LONGEST_RETURN or not asked.startswith("/dashboard"):
        return home
    if any(ord(char) < 0x21 for char in asked):  # no space, line break or control
        return home
    path = urlsplit(asked).path
    if any(segment in (".", "..") for segment in unquote(path).split("/")):
        return home  # `/dashboard/scorecard/../ig` is another page than it names
    for page in pages_for(role):
        if path == page.href or path.startswith(page.href + "/"):
            return asked
    return home


TEMPLATES = Environment(
    loader=ChoiceLoader(
        [
            PackageLoader("warehouse.web", "templates"),
            PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
        ]
    ),
    autoescape=select_autoescape(("html",)),
    trim_blocks=True,
    lstrip_blocks=True,
)


def area_name_of(request: Request) -> str:
    name: str | None = getattr(request.app.state, "area_name", None)
    return name or DEFAULT_AREA_NAME


def render(
    request: Request,
    template_name: str,
    context: Mapping[str, Any],
    signed_in: Session | None,
    status_code: int = 200,
) -> HTMLResponse:
    """A page: `template_name` (extending base.html) with `context`, the header naming the
    area, and, for a `signed_in` session, the navigation of its role, who is signed in and
    the sign-out form (carrying the session's CSRF token, as every form must: `csrf_token`
    is in every template's context)."""
    path = request.url.path
    navigation = [
        {"href": page.href, "text": page.text, "current": path == page.href}
        | ({"active": True} if path.startswith(page.href + "/") else {})
        for page in (pages_for(signed_in.role) if signed_in else [])
    ]
    html = TEMPLATES.get_template(template_name).render(
        {
            "area_name": area_name_of(request),
            "service_name": SERVICE_NAME,
            "navigation": navigation,
            "session": signed_in,
            "csrf_token": signed_in.csrf_token if signed_in else "",
            **context,
        }
    )
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)
