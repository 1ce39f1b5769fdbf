"""Every dashboard page, as each role sees it, in Chromium: the navigation, axe, the keyboard.

Each role signs in through the sign-in form and finds in the navigation exactly the pages
issue 13 gives it. Every page then passes axe-core's WCAG 2.1 A and AA rules, can be
used with the keyboard alone (Tab reaches the skip link first, then every link and
control, each showing where focus is), both at 1280 pixels wide and at a phone's 375 (where
a wide table scrolls, so its region must take focus), and is photographed at both widths
under tests/artifacts/.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import WIDTHS, Site, axe_violations, screenshots, tab_through
from warehouse.tokens import Role

NAVIGATION = {  # issue 13: the pages each role may open, as the brief names them
    Role.COMMISSIONER: ["Scorecard", "Data quality"],
    Role.PUBLIC_HEALTH: ["JSNA explorer", "Data quality"],
    Role.IG_AUDITOR: ["Data quality", "Information governance"],
    Role.PARTNER: ["Your submissions"],
}
CROSSTAB = "as_at=2026-08-31&first=age_band&second=sex"
PAGES = [  # (role, address, name): every page, as the role that opens it
    (Role.PUBLIC_HEALTH, "/dashboard", "home"),
    (Role.COMMISSIONER, "/dashboard/scorecard", "scorecard"),
    (Role.COMMISSIONER, "/dashboard/scorecard/ehcp_20_weeks_excl_exceptions", "kpi"),
    (Role.COMMISSIONER, "/dashboard/data-quality", "data-quality"),
    (Role.IG_AUDITOR, "/dashboard/ig", "ig"),
    (Role.PARTNER, "/dashboard/submissions", "submissions"),
    (Role.PUBLIC_HEALTH, "/dashboard/jsna", "jsna"),
    (Role.PUBLIC_HEALTH, f"/dashboard/jsna?{CROSSTAB}", "jsna-crosstab"),
]

# axe's costliest rule, run at the first width only: the pages' colours are the same at
# every width (hub.css and GOV.UK Frontend change layout, not colour, on a phone)
SAME_AT_EVERY_WIDTH = ("color-contrast",)

SignedIn = Callable[[Role], Page]


@pytest.fixture(scope="module")
def signed_in(site: Site, browser: Browser) -> Iterator[SignedIn]:
    """One signed-in page per role for the module (signing in once each)."""
    pages: dict[Role, Page] = {}

    def page_of(role: Role) -> Page:
        if role not in pages:
            pages[role] = site.page(browser, role)
        return pages[role]

    yield page_of
    for page in pages.values():
        page.context.close()


@pytest.mark.parametrize("role", list(NAVIGATION), ids=lambda role: role.value)
def test_each_role_sees_only_its_pages_in_the_navigation(signed_in: SignedIn, role: Role) -> None:
    page = signed_in(role)
    page.goto("/dashboard")
    shown = page.locator(".govuk-service-navigation__list a").all_inner_texts()
    assert [text.strip() for text in shown] == NAVIGATION[role]


def check_page(page: Page, name: str) -> None:
    """axe and the keyboard at each width, and the screenshots of the page now shown."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        seen = f"{name} at {width} px"
        assert axe_violations(page, () if width == WIDTHS[0] else SAME_AT_EVERY_WIDTH) == [], seen
        tabbed = tab_through(page)
        assert tabbed.order[:1] == ["Skip to main content"], (seen, tabbed.order)
        assert tabbed.unreached == [], f"{seen}: Tab never reached {tabbed.unreached}"
        assert tabbed.unfocused == [], f"{seen}: no visible focus on {tabbed.unfocused}"
    for path in screenshots(page, name):
        assert path.stat().st_size > 0


@pytest.mark.parametrize(("role", "address", "name"), PAGES, ids=[p[2] for p in PAGES])
def test_every_page_passes_axe_works_by_keyboard_and_is_photographed(
    signed_in: SignedIn, role: Role, address: str, name: str
) -> None:
    page = signed_in(role)
    response = page.goto(address)
    assert response is not None and response.status == 200, address
    check_page(page, name)


def test_the_sign_in_page_passes_axe_works_by_keyboard_and_signs_in(
    site: Site, browser: Browser
) -> None:
    context = browser.new_context(base_url=site.url)
    page = context.new_page()
    page.goto("/sign-in")
    check_page(page, "sign-in")
    page.keyboard.press("Tab")  # to the skip link, then on to the token by keyboard alone
    page.get_by_label("Token").focus()
    page.keyboard.type(site.tokens[Role.PUBLIC_HEALTH])
    page.keyboard.press("Enter")
    page.wait_for_url("**/dashboard**")
    assert "JSNA explorer" in page.locator(".govuk-service-navigation__list").inner_text()
    context.close()
