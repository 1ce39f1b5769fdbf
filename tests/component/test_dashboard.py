"""The dashboard's foundation: signing in and out, CSRF, who sees which page, the access log,
and pages that fetch nothing from anywhere else.

The page matrix below is written out by hand, not read from the app: a new page fails
`test_every_page_of_the_app_is_in_the_matrix` until someone decides who may open it.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from html import escape
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import httpx
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from hub.commands import demo
from hub.settings import HubSettings
from hub.stack.postgres import EmbeddedPostgres
from pipelines.data_quality import ExpectationOutcome
from pipelines.reconciliation import CheckResult
from pipelines.results import PipelineRun, store_run
from streams.worker.unit_of_work import apply_batch
from tests.support.api import issue
from tests.support.events import plan_event
from warehouse.api import create_app
from warehouse.api.policy import policy_of
from warehouse.chain_audit import verify_and_record
from warehouse.connection import connect
from warehouse.quarantine import quarantine
from warehouse.tokens import Role, issue_token, revoke_token
from warehouse.web.app import ROUTERS
from warehouse.web.guard import PageFor

AREA = "Testshire SEND partnership"
ROLES = ("partner", "commissioner", "public_health", "ig_auditor", "admin")
NAVIGATION = {  # page in the menu: the roles that may open it
    "/dashboard/scorecard": {"commissioner"},
    "/dashboard/jsna": {"public_health"},
    "/dashboard/data-quality": {"commissioner", "public_health", "ig_auditor"},
    "/dashboard/ig": {"ig_auditor"},
    "/dashboard/submissions": {"partner"},
}
WHO_MAY_OPEN = NAVIGATION | {  # and the pages reached from those
    "/dashboard/scorecard/{kpi_id}": {"commissioner"},
    "/dashboard/scorecard/download": {"commissioner"},
    "/dashboard/jsna/download": {"public_health"},
}
PAGES = NAVIGATION
NOT_PAGES = {"/sign-in", "/sign-out", "/dashboard", "/static/{name:path}"}  # anyone's


def client_of(api_dsn: str) -> TestClient:
    return TestClient(create_app(api_dsn, area_name=AREA), follow_redirects=False)


def cookie_header(response: httpx.Response, name: str) -> str:
    """The `Set-Cookie` header that sets `name`."""
    for header in response.headers.get_list("set-cookie"):
        if SimpleCookie(header).get(name) is not None:
            return header
    raise AssertionError(f"no Set-Cookie for {name}")


def sign_in(client: TestClient, secret: str, **headers: str) -> httpx.Response:
    """Fill the sign-in form as a browser does: its CSRF token, then the token."""
    form = client.get("/sign-in", headers=headers)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf is not None
    cookie = SimpleCookie(cookie_header(form, "hub_sign_in"))["hub_sign_in"]
    client.cookies.set("hub_sign_in", cookie.value)  # sent back even where it is Secure
    return client.post("/sign-in", data={"csrf_token": csrf[1], "token": secret}, headers=headers)


def sign_in_for(asked: str) -> str:
    """The sign-in form's address that opens `asked` once signed in."""
    return "/sign-in?" + urlencode({"next": asked})


def test_signing_in_opens_the_page_asked_for_or_the_roles_own_page(
    warehouse_dsn: str, api_dsn: str
) -> None:
    asked = "/dashboard/scorecard/ehcp_20_weeks_excl_exceptions?filter=x"
    client = client_of(api_dsn)
    sent = client.get(asked)
    assert sent.status_code == 303 and sent.headers["location"] == sign_in_for(asked)
    form = client.get(sent.headers["location"])
    assert f'name="next" value="{escape(asked)}"' in form.text
    signed = post_sign_in(client, form, issue(warehouse_dsn, "commissioner"), asked)
    assert signed.headers["location"] == asked
    # the form cannot send anyone elsewhere, nor to a page the role may not open
    refused = [  # (role, asked): each lands on the role's own page instead
        ("commissioner", "https://evil.example/dashboard/scorecard"),
        ("commissioner", "//evil.example/dashboard/scorecard"),
        ("commissioner", "http:/dashboard/scorecard"),  # a browser reads it as same-site
        ("commissioner", "/dashboard/scorecard/x\r\nSet-Cookie: hub_session=x"),
        ("commissioner", "/dashboard/scorecard/" + "x" * 500),
        ("commissioner", "/dashboard/scorecard/%2e%2e/ig"),  # another page than it names
        ("ig_auditor", "/dashboard/scorecard"),
        ("public_health", "/dashboard/ig"),
    ]
    homes = {"commissioner": "/dashboard/scorecard", "ig_auditor": "/dashboard/ig"}
    for role, target in refused:
        browser = client_of(api_dsn)
        form = browser.get("/sign-in", params={"next": target[:500]})
        signed = post_sign_in(browser, form, issue(warehouse_dsn, role), target)
        assert signed.headers["location"] == homes.get(role, "/dashboard/jsna"), (role, target)
    partner = client_of(api_dsn)
    signed = sign_in(partner, issue(warehouse_dsn, "partner", "education"))
    assert signed.headers["location"] == "/dashboard/submissions"
    assert partner.get("/sign-in").headers["location"] == "/dashboard/submissions"


def post_sign_in(
    client: TestClient, form: httpx.Response, secret: str, asked: str
) -> httpx.Response:
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf is not None
    client.cookies.set(
        "hub_sign_in", SimpleCookie(cookie_header(form, "hub_sign_in"))["hub_sign_in"].value
    )
    fields = {"csrf_token": csrf[1], "token": secret, "next": asked}
    signed = client.post("/sign-in", data=fields)
    assert signed.status_code == 303, signed.text[-300:]
    return signed


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'action="/sign-out"[^>]*>\s*<input type="hidden" name="csrf_token"'
                      r' value="([^"]+)"', page.text)  # fmt: skip
    assert found is not None
    return found[1]


def signed_in(warehouse_dsn: str, api_dsn: str, role: str) -> TestClient:
    client = client_of(api_dsn)
    party = "education" if role == "partner" else None
    assert sign_in(client, issue(warehouse_dsn, role, party)).status_code == 303
    return client


def navigation(page: httpx.Response) -> set[str]:
    return set(re.findall(r'class="govuk-service-navigation__link" href="(/dashboard/[^"]*)"',
                          page.text))  # fmt: skip


def test_signing_in_sets_a_strict_http_only_session_cookie_secure_behind_tls(
    warehouse_dsn: str, api_dsn: str
) -> None:
    client = client_of(api_dsn)
    signed = sign_in(client, issue(warehouse_dsn, "commissioner"))
    assert signed.status_code == 303 and signed.headers["location"] == "/dashboard/scorecard"
    cookie = cookie_header(signed, "hub_session").lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert "secure" not in cookie  # plain HTTP, as in `make demo`: a Secure cookie would vanish
    landing = client.get("/dashboard")
    assert landing.status_code == 200 and AREA in landing.text

    behind_caddy = client_of(api_dsn)
    https = {"x-forwarded-proto": "https"}
    signed = sign_in(behind_caddy, issue(warehouse_dsn, "commissioner"), **https)
    assert "; secure" in cookie_header(signed, "hub_session").lower()


@pytest.mark.parametrize("kind", ["unknown", "revoked", "empty"])
def test_a_bad_token_is_refused_on_the_sign_in_page_with_no_session(
    kind: str, warehouse_dsn: str, api_dsn: str
) -> None:
    secret = {
        "unknown": "jch_" + "x" * 43,
        "revoked": issue(warehouse_dsn, "commissioner", revoked=True),
        "empty": "  ",
    }[kind]
    client = client_of(api_dsn)
    refused = sign_in(client, secret)
    assert refused.status_code == 401
    assert "There is a problem" in refused.text and 'href="#token"' in refused.text
    assert "hub_session" not in refused.headers.get("set-cookie", "")
    assert client.get("/dashboard").headers["location"] == "/sign-in"


def test_a_form_posted_without_its_csrf_token_is_refused(warehouse_dsn: str, api_dsn: str) -> None:
    client = client_of(api_dsn)
    client.get("/sign-in")  # the form's cookie, but not the form's field
    secret = issue(warehouse_dsn, "ig_auditor")
    refused = client.post("/sign-in", data={"token": secret})
    assert refused.status_code == 403 and "security token" in refused.text
    assert "hub_session" not in refused.headers.get("set-cookie", "")
    forged = client.post("/sign-in", data={"token": secret, "csrf_token": "guessed"})
    assert forged.status_code == 403

    assert sign_in(client, secret).status_code == 303
    assert client.post("/sign-out", data={}).status_code == 403
    assert client.post("/sign-out", data={"csrf_token": "guessed"}).status_code == 403
    assert client.get("/dashboard/ig").status_code == 200  # still signed in


def test_signing_out_ends_the_session_for_every_copy_of_its_cookie(
    warehouse_dsn: str, api_dsn: str
) -> None:
    client = signed_in(warehouse_dsn, api_dsn, "ig_auditor")
    page = client.get("/dashboard/ig")
    copied = client.cookies["hub_session"]
    signed_out = client.post("/sign-out", data={"csrf_token": csrf_of(page)})
    assert signed_out.status_code == 200 and "You have signed out" in signed_out.text
    assert "max-age=0" in cookie_header(signed_out, "hub_session").lower()

    replayed = client_of(api_dsn)
    replayed.cookies.set("hub_session", copied)
    assert replayed.get("/dashboard/ig").headers["location"] == sign_in_for("/dashboard/ig")


def test_a_revoked_tokens_session_stops_working(warehouse_dsn: str, api_dsn: str) -> None:
    client = client_of(api_dsn)
    name = f"auditor-{uuid.uuid4().hex[:8]}"
    with connect(warehouse_dsn) as conn:
        secret, _ = issue_token(conn, name, Role.IG_AUDITOR)
    assert sign_in(client, secret).status_code == 303
    assert client.get("/dashboard/ig").status_code == 200
    with connect(warehouse_dsn) as conn:
        revoke_token(conn, name)
    assert client.get("/dashboard/ig").headers["location"] == sign_in_for("/dashboard/ig")


def test_every_page_of_the_app_is_in_the_matrix() -> None:
    roles = {
        route.path: policy_of(route)
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
    }
    assert set(roles) == set(WHO_MAY_OPEN) | NOT_PAGES
    for path, allowed in WHO_MAY_OPEN.items():
        policy = roles[path]
        assert isinstance(policy, PageFor) and policy.roles == allowed, path


def test_each_role_sees_only_its_pages_and_every_call_is_logged(
    warehouse_dsn: str, api_dsn: str
) -> None:
    outcomes: dict[tuple[str, str], int] = {}
    for role in ROLES:
        client = signed_in(warehouse_dsn, api_dsn, role)
        allowed = {page for page, roles in PAGES.items() if role in roles}
        assert navigation(client.get("/dashboard")) == allowed, role
        for page in PAGES:
            response = client.get(page)
            outcomes[(role, page)] = response.status_code
            if page in allowed:
                assert response.status_code == 200, (role, page, response.text[-500:])
                assert navigation(response) == allowed
            else:
                assert response.status_code == 403, (role, page)
                assert "You cannot open this page" in response.text
                assert navigation(response) == allowed
    anonymous = client_of(api_dsn)
    for page in PAGES:
        assert anonymous.get(page).headers["location"] == sign_in_for(page)

    with connect(warehouse_dsn) as conn:
        logged = conn.execute(
            "SELECT role, route, status FROM access_log WHERE route LIKE '/dashboard/%%'"
        ).fetchall()
        sign_ins = conn.execute(
            "SELECT count(*) FROM access_log WHERE route = '/sign-in' AND status = 303"
        ).fetchone()
    assert sorted(logged) == sorted(
        (role, page, status) for (role, page), status in outcomes.items()
    )
    assert sign_ins == (len(ROLES),)


EXTERNAL = re.compile(r"""(?:src|href|action|srcset)\s*=\s*["']?\s*(?:https?:)?//""", re.I)
LINK = re.compile(r"""<a\s[^>]*href=["']https?://""", re.I)  # a cited source: not fetched
LOCAL = re.compile(r"""(?:src|href)=["'](/static/[^"'#?]+)""")
CSS_URL = re.compile(r"""url\(\s*["']?(?!data:)([^"')]+)""")
IMPORT = re.compile(r"""^\s*import\s[^"';]*["']([^"']+)["']""", re.M)


def test_no_page_loads_anything_from_elsewhere_and_every_asset_it_names_exists(
    warehouse_dsn: str, api_dsn: str
) -> None:
    pages = [client_of(api_dsn).get("/sign-in")]
    for role in ROLES:
        client = signed_in(warehouse_dsn, api_dsn, role)
        pages.append(client.get("/dashboard"))
        pages += [client.get(page) for page, roles in PAGES.items() if role in roles]
    assets: set[str] = set()
    for page in pages:
        assert page.status_code == 200, page.url
        html = LINK.sub("<a ", page.text)
        html = re.sub(r'xmlns(?::\w+)?="[^"]*"', "", html)  # SVG namespaces name, not fetch
        assert not EXTERNAL.search(html), (page.url, EXTERNAL.search(html))
        assert not re.search(r"fonts\.googleapis|//[\w.-]*cdn[\w.-]*/", html, re.IGNORECASE)
        assets |= set(LOCAL.findall(page.text))
        assert "default-src 'self'" in page.headers["content-security-policy"]
    assert {"/static/govuk/govuk-frontend.min.css", "/static/hub.js"} <= assets
    anonymous = client_of(api_dsn)
    for asset in sorted(assets):
        served = anonymous.get(asset)
        assert served.status_code == 200, asset
        named_by = CSS_URL if asset.endswith(".css") else IMPORT if asset.endswith(".js") else None
        for named in named_by.findall(served.text) if named_by else ():
            assert named.startswith("/static/"), (asset, named)
            assert anonymous.get(named).status_code == 200, (asset, named)
    css = anonymous.get("/static/govuk/govuk-frontend.min.css").text
    assert "GDS Transport" not in css and "@font-face" not in css
    assert anonymous.get("/static/../sessions.py").status_code == 404


def test_the_partner_ig_and_data_quality_pages_show_what_the_warehouse_holds(
    warehouse_dsn: str, api_dsn: str
) -> None:
    plan = plan_event(dt.date(2025, 1, 6), dt.date(2025, 5, 1), extract_id=uuid.uuid4())
    others = uuid.uuid4()
    finished = dt.datetime(2026, 11, 30, 18, 0, tzinfo=dt.UTC)
    with connect(warehouse_dsn) as conn:
        apply_batch(conn, [plan])
        for source, extract_id in (("education", plan.extract_id), ("health", others)):
            conn.execute(
                "INSERT INTO extract_manifests (extract_id, event_type, source_system,"
                " contract_id, area_code, published_at, rows_read, rows_sent, rows_refused)"
                " VALUES (%s, 'EhcPlanIssued', %s, 'c', 'E10000018', now(), 7, 5, 2)",
                (extract_id, source),
            )
        quarantine(
            conn,
            [
                ("education.events", 0, 1, "not_in_contract", "field x", b"\x00"),
                ("health.events", 0, 1, "unknown_type", "type y", b"\x00"),
            ],
        )
        store_run(
            conn,
            PipelineRun(
                uuid.uuid4(),
                "reconcile",
                finished - dt.timedelta(minutes=1),
                finished,
                [
                    CheckResult("extract_events_stored", str(plan.extract_id), 1, 1, "ok"),
                    CheckResult("extract_events_stored", str(others), 4, 3, "one missing"),
                ],
                [ExpectationOutcome("expect_column_values_to_be_unique", "event_id", 9, 2, False)],
            ),
        )
        verify_and_record(conn)

    partner = signed_in(warehouse_dsn, api_dsn, "partner").get("/dashboard/submissions")
    assert str(plan.extract_id)[:8] in partner.text and str(others)[:8] not in partner.text
    assert "not in contract" in partner.text and "unknown type" not in partner.text

    quality = signed_in(warehouse_dsn, api_dsn, "commissioner").get("/dashboard/data-quality")
    rows = re.findall(r"<tr class=\"govuk-table__row\">(.*?)</tr>", quality.text, re.S)
    health = next(row for row in rows if "health" in row and "one missing" in row)
    assert ">4<" in health and ">3<" in health and ">-1<" in health  # failed checks first
    assert any("30 Nov 2026 18:00" in row and "0 of 1 failed" in row for row in rows)
    assert "1 of 1 failed" in quality.text and ">2<" in quality.text  # unexpected values

    auditor = signed_in(warehouse_dsn, api_dsn, "ig_auditor")
    month = dt.datetime.now(dt.UTC).date().isoformat()[:7]
    ig = auditor.get("/dashboard/ig", params={"month": month})
    assert ig.status_code == 200
    flows = re.search(r'id="flows".*?</table>', ig.text, re.S)
    assert flows is not None and f">{month}<" in flows[0]
    assert "Chain holds" in ig.text
    assert "/dashboard/submissions" in ig.text  # the partner's call, in the access log
    refused = re.search(r'id="refused-by-reason".*?</table>', ig.text, re.S)
    assert refused is not None and "not in contract" in refused[0]
    bad = auditor.get("/dashboard/ig", params={"month": "11/2026", "contract": "nope"})
    assert bad.status_code == 200 and "There is a problem" in bad.text
    assert 'href="#month"' in bad.text and 'href="#contract"' in bad.text


def test_the_demo_ends_with_the_dashboards_address_and_a_working_token_per_role(
    postgres_server: EmbeddedPostgres, warehouse_database: str, api_dsn: str
) -> None:
    settings = HubSettings(
        warehouse_host=postgres_server.host,
        warehouse_port=postgres_server.port,
        warehouse_database=warehouse_database,
        api_port=8499,
    )
    with demo.console.capture() as printed:
        demo._print_dashboard(settings)
    text = printed.get()
    assert "http://127.0.0.1:8499/sign-in" in text
    tokens = dict(re.findall(r"^\s+(\w+)(?: \(\w+\))?\s+(jch_\S+)$", text, re.M))
    assert set(tokens) == {"commissioner", "public_health", "ig_auditor", "partner"}
    for role, secret in tokens.items():
        client = client_of(api_dsn)
        assert sign_in(client, secret).status_code == 303, role
        allowed = {page for page, roles in NAVIGATION.items() if role in roles}
        assert navigation(client.get("/dashboard")) == allowed
