"""The browser tier: Debian's Chromium driven by Playwright against a real API server.

One browser for the session and one API server (uvicorn in a thread, over the smoke
synthetic area loaded into a database of its own) per module: what a person sees, signed
in as each role, within the tier's one-minute budget. `make test` installs Chromium when
it can (`make chromium`); without it these tests fail and say how to get it.
"""

from __future__ import annotations

import csv
import datetime as dt
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import uvicorn
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, sync_playwright

from hub.stack.postgres import EmbeddedPostgres
from pipelines.reference import apply_reference
from producers.synthetic.area import SMOKE, Faults
from producers.synthetic.area_files import generate_area, read_events
from schemas.catalogue import default_catalogue
from streams.ingest import RawMessage, sort_messages
from streams.worker.unit_of_work import CurrentProjection, apply_batch
from tests.browser.usage import (
    deliver_late,
    published_extracts,
    reconcile_and_record,
    verify_chain,
)
from tests.conftest import API_LOGIN, TEMPLATE_DATABASE
from tests.support.dashboard import shipped_comparators
from warehouse.api import create_app
from warehouse.tokens import Role, issue_token
from warehouse.web.charts import trend_of, trend_svg

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"  # git-ignored screenshots
WIDTHS = (1280, 375)
AS_AT = dt.date(2026, 8, 31)  # the smoke area's last month end


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"the browser tier needs Debian's Chromium at {CHROMIUM}: run `make chromium` "
            "(as root, or with sudo), or `apt-get install --no-install-recommends chromium`"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@dataclass(frozen=True)
class Site:
    """The dashboard of one module's smoke area: its address, owner DSN and a token per role."""

    url: str
    dsn: str
    tokens: dict[Role, str]

    def page(self, browser: Browser, role: Role, width: int = 1280) -> Page:
        """A new browser page signed in as `role` (through the sign-in form, as a person)."""
        context = browser.new_context(viewport={"width": width, "height": 900}, base_url=self.url)
        page = context.new_page()
        sign_in(page, self.tokens[role])
        return page


def sign_in(page: Page, token: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _rows(path: Path) -> list[tuple[str, ...]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [tuple(row) for row in list(csv.reader(handle))[1:] if row]


def load_smoke_area(dsn: str, scratch: Path) -> list[bytes]:
    """The smoke area straight into the warehouse, as the worker would apply it: the
    reference data and the published comparators first (on an empty store, a replay of
    nothing), then the events, each extract's with its manifest. Returns the messages, as
    the stream has them."""
    generate_area(SMOKE, 11, 1.0, scratch, faults=Faults.none())
    messages = read_events(scratch / "events.bin")
    received = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
    raw = [RawMessage("events", 0, n, value, received) for n, value in enumerate(messages)]
    batch = sort_messages(default_catalogue(), raw)
    with psycopg.connect(dsn, autocommit=True) as conn:
        apply_reference(
            conn,
            _rows(scratch / "reference" / "localities.csv"),
            _rows(scratch / "reference" / "population.csv"),
            loaded_by="browser tests",
            dsn=dsn,
            comparators=shipped_comparators(),  # as `hub reference load` loads them
        )
        events, manifests = published_extracts(batch.events)
        apply_batch(conn, events, manifests, projection=CurrentProjection())
    return messages


@pytest.fixture(scope="session")
def smoke_area(
    postgres_server: EmbeddedPostgres, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, dict[Role, str]]:
    """The smoke area in a database of the tier's own, loaded once; its DSN and a token per
    role (the pages only read it)."""
    name = f"hub_browser_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server.dsn("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DATABASE}"')
    dsn = postgres_server.dsn(name)
    messages = load_smoke_area(dsn, tmp_path_factory.mktemp("area"))
    # what use records: a reconcile run that passes, a late delivery with refusals and a
    # lost extract, a run that finds it, and a verification of the hash chain
    reconcile_and_record(dsn)
    deliver_late(dsn, messages)
    reconcile_and_record(dsn)
    verify_chain(dsn)
    with psycopg.connect(dsn, autocommit=True) as conn:
        tokens = {
            role: issue_token(conn, f"browser-{role.value}", role, _party(role))[0]
            for role in (Role.COMMISSIONER, Role.PUBLIC_HEALTH, Role.IG_AUDITOR, Role.PARTNER)
        }
    return dsn, tokens


@pytest.fixture(scope="module")
def site(smoke_area: tuple[str, dict[Role, str]]) -> Iterator[Site]:
    """The API serving the smoke area on a free port, for this module."""
    dsn, tokens = smoke_area
    # the charts' engine starts once per process, holding the interpreter for a while: start
    # it here, rather than let it stall the first page's styles and script in the browser
    trend_svg(trend_of("warm-up", "Warm-up", "count", [("2026-01", 1.0)]))
    app = create_app(dsn.replace("user=postgres", f"user={API_LOGIN}"))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the API server did not start within 20 s")
        time.sleep(0.05)
    try:
        yield Site(f"http://127.0.0.1:{port}", dsn, tokens)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _party(role: Role) -> str | None:
    return "education" if role is Role.PARTNER else None


AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page: Page, skipped: tuple[str, ...] = ()) -> list[str]:
    """What axe-core finds against WCAG 2.1 A and AA on the page: "rule: element" lines
    (the `skipped` rules not run)."""
    options = {
        "runOnly": {"type": "tag", "values": AXE_TAGS},
        "rules": {rule: {"enabled": False} for rule in skipped},
    }
    results = Axe().run(page, options=options)
    return [
        f"{violation['id']}: {', '.join(str(node['target']) for node in violation['nodes'][:3])}"
        for violation in results.response["violations"]
    ]


def screenshots(page: Page, name: str) -> list[Path]:
    """The whole page at each width in WIDTHS, under tests/artifacts/ (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    taken = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        path = ARTIFACTS / f"{name}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        taken.append(path)
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})
    return taken


FOCUSABLE = (
    "a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select, "
    "textarea, summary, [tabindex]:not([tabindex='-1'])"
)
# what the focused element is, and whether its focus shows: an outline, a box shadow (GOV.UK's
# focus style on links and buttons) or a changed background
FOCUSED = """() => {
  const element = document.activeElement;
  if (!element || element === document.body) return null;
  const style = getComputedStyle(element);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  const shadow = style.boxShadow && style.boxShadow !== 'none';
  const yellow = style.backgroundColor === 'rgb(255, 221, 0)';
  if (!element.dataset.hubTab) {
    element.dataset.hubTab = String(Object.keys(window.hubSeen).length + 1);
  }
  const first = !window.hubSeen[element.dataset.hubTab];
  window.hubSeen[element.dataset.hubTab] = true;
  const named = element.innerText || element.getAttribute('aria-label') || element.id;
  const text = (named || element.tagName).trim().slice(0, 40);
  return {key: element.dataset.hubTab, first, text, visible: outline || shadow || yellow};
}"""
UNREACHED = """(selector) => Array.from(document.querySelectorAll(selector))
  .filter(e => e.getClientRects().length > 0)
  .filter(e => !e.closest('[hidden], details:not([open]) > :not(summary)'))
  .filter(e => !e.dataset.hubTab)
  .map(e => (e.innerText || e.id || e.tagName).trim().slice(0, 40))"""


@dataclass(frozen=True)
class Tabbed:
    """What Tab alone reached on a page, in order, and what it did not."""

    order: list[str]
    unfocused: list[str]  # reached without a visible focus
    unreached: list[str]


# Tab's starting point to the top of the page, wherever the last walk left it: focus a
# throwaway element at the top of the body, then remove it
FROM_THE_TOP = """() => {
  window.hubSeen = {};
  document.activeElement?.blur();
  const start = document.createElement('span');
  start.tabIndex = -1;
  document.body.prepend(start);
  start.focus();
  start.remove();
  window.scrollTo(0, 0);
}"""


def tab_through(page: Page, most: int = 200) -> Tabbed:
    """Press Tab from the top of the page until focus comes round again: what it reached."""
    page.evaluate(FROM_THE_TOP)
    order: list[str] = []
    unfocused: list[str] = []
    last = None
    for _ in range(most):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused is None:
            if order:
                break  # past the last element, into the browser's own controls
            continue
        if focused["key"] == last:
            continue  # within one control: a date input's day, month and year
        last = focused["key"]
        if not focused["first"]:
            break
        order.append(focused["text"])
        if not focused["visible"]:
            unfocused.append(focused["text"])
    return Tabbed(order, unfocused, page.evaluate(UNREACHED, FOCUSABLE))
