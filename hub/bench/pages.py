"""Page timings for `hub bench api`: each dashboard page as a signed-in browser asks for it.

A session is opened through the sign-in form (its CSRF cookie and field), as a browser
opens one. Each page is asked for first right after the API started (`cold_ms`: its
warm-up is what this measures), later ROUNDS times more, one call at a time (p50, p95),
and then once at once after an event batch is stored and once `settle_s` after another
(`changed_now_ms`, `changed_ms`: what the publication cache and its refresher make of
it). The server time of a call is what the access log recorded for it (`duration_ms`,
from the request arriving to the answer starting), so neither the network nor the
client counts. A page's weight is its HTML and every file of the hub's it loads (the
stylesheets, the script and what they import or reference), as on a first visit with
an empty cache. Issue 13 aims at under 300 ms at the server and 300 KB in all.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg

from warehouse.connection import connect
from warehouse.tokens import Role

ROUNDS = 20
SETTLE_S = 2.0  # after a change, how long until the "user" asks (the refresher polls at 0.5 s)
SIGN_IN = "/sign-in"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
ASSET = re.compile(  # a file of the hub's that a page, a stylesheet or a script loads
    r"""(?:href|src)="(/static/[^"]+)"|from\s+"(/static/[^"]+)"|url\(["']?(/static/[^"')]+)"""
)


@dataclass(frozen=True)
class PageTarget:
    """A page and the role whose session asks for it."""

    name: str
    path: str
    role: Role


def targets(first_kpi: str | None) -> list[PageTarget]:
    """The pages a commissioner and a public health analyst open most."""
    chosen = [PageTarget("scorecard", "/dashboard/scorecard", Role.COMMISSIONER)]
    if first_kpi:
        chosen.append(PageTarget("kpi", f"/dashboard/scorecard/{first_kpi}", Role.COMMISSIONER))
    return [
        *chosen,
        PageTarget("jsna", "/dashboard/jsna", Role.PUBLIC_HEALTH),
        PageTarget(
            "jsna_crosstab",
            "/dashboard/jsna?first=primary_need&second=locality",
            Role.PUBLIC_HEALTH,
        ),
        PageTarget("data_quality", "/dashboard/data-quality", Role.COMMISSIONER),
    ]


def signed_in(api_url: str, token: str) -> httpx.Client:
    """A client holding a dashboard session opened with `token` through the sign-in form."""
    client = httpx.Client(base_url=api_url, timeout=120)
    form = client.get(SIGN_IN)
    form.raise_for_status()
    found = CSRF_FIELD.search(form.text)
    if found is None:
        raise RuntimeError("the sign-in page carries no CSRF token")
    answer = client.post(SIGN_IN, data={"token": token, "csrf_token": found.group(1)})
    if answer.status_code not in (200, 303) or "hub_session" not in client.cookies:
        raise RuntimeError(f"signing in to the dashboard failed ({answer.status_code})")
    return client


def weight(client: httpx.Client, html: str) -> int:
    """Bytes of the page and every file of the hub's it loads, each counted once."""
    total, seen = len(html.encode("utf-8")), set()
    waiting = _assets(html)
    while waiting:
        path = waiting.pop()
        if path in seen:
            continue
        seen.add(path)
        answer = client.get(path)
        if answer.status_code != 200:
            continue
        total += len(answer.content)
        if path.endswith((".css", ".js")):
            waiting += _assets(answer.text)
    return total


def _assets(text: str) -> list[str]:
    return [next(group for group in found if group) for found in ASSET.findall(text)]


def _top(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT coalesce(max(id), 0) FROM access_log").fetchone()
    return int(row[0]) if row else 0


def _server_ms(conn: psycopg.Connection, after: int, role: Role) -> list[float]:
    rows = conn.execute(
        "SELECT duration_ms FROM access_log WHERE id > %s AND role = %s AND status = 200 "
        "AND route LIKE '/dashboard%%' ORDER BY id",
        (after, role.value),
    ).fetchall()
    return [float(row[0]) for row in rows]


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = max(int(-(-fraction * len(ordered) // 1)) - 1, 0)  # nearest rank
    return ordered[index]


def first_calls(
    sessions: dict[Role, httpx.Client], dsn: str, chosen: Sequence[PageTarget]
) -> dict[str, float | None]:
    """Each page's server time on its first request (after the API started)."""
    found: dict[str, float | None] = {}
    with connect(dsn) as conn:
        for target in chosen:
            found[target.name] = _one_call(conn, sessions[target.role], target)
    return found


def _one_call(conn: psycopg.Connection, client: httpx.Client, target: PageTarget) -> float | None:
    top = _top(conn)
    if client.get(target.path).status_code != 200:
        return None
    times = _server_ms(conn, top, target.role)
    return round(times[0], 1) if times else None


def time_pages(
    sessions: dict[Role, httpx.Client],
    dsn: str,
    chosen: Sequence[PageTarget],
    rounds: int = ROUNDS,
    cold: dict[str, float | None] | None = None,
    change: Callable[[], None] | None = None,
    settle_s: float = SETTLE_S,
) -> dict[str, dict[str, Any]]:
    """Each page's server time (p50 and p95 of `rounds` calls, after one that warms it),
    its `cold` time if given, and its weight in bytes. With `change` (which moves the
    warehouse: an event batch), also the page's first request after a change, at once
    (`changed_now_ms`) and `settle_s` later (`changed_ms`), as a user arriving then."""
    found: dict[str, dict[str, Any]] = {}
    with connect(dsn) as conn:
        for target in chosen:
            client = sessions[target.role]
            top = _top(conn)
            first = client.get(target.path)
            errors = int(first.status_code != 200)
            started = time.perf_counter()
            for _ in range(rounds):
                errors += int(client.get(target.path).status_code != 200)
            elapsed = time.perf_counter() - started
            warm = _server_ms(conn, top, target.role)[1:]
            page: dict[str, Any] = {
                "path": target.path,
                "cold_ms": (cold or {}).get(target.name),
                "p50_ms": round(percentile(warm, 0.50), 1),
                "p95_ms": round(percentile(warm, 0.95), 1),
                "requests": rounds,
                "errors": errors,
                "client_mean_ms": round(elapsed * 1000.0 / max(rounds, 1), 1),
                "weight_bytes": weight(client, first.text) if not errors else None,
            }
            if change is not None:
                change()
                page["changed_now_ms"] = _one_call(conn, client, target)
                change()
                time.sleep(settle_s)
                page["changed_ms"] = _one_call(conn, client, target)
                page["errors"] += sum(page[k] is None for k in ("changed_now_ms", "changed_ms"))
            found[target.name] = page
    return found
