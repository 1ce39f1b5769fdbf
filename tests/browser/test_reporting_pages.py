"""The pages that report on the hub itself show what the warehouse holds, to each role.

The smoke area has been through two reconcile runs (the second finding health's extract
whose events were lost), a late delivery with messages the gatekeeper refused, and a
verification of the hash chain (`tests/browser/usage.py`). A commissioner reads on the
data-quality page which partner has what wrong, then every check and the runs; an IG
auditor the flows, refusals, access log and chain on the IG page; and each partner its own
submissions and refusals, never another's. Every figure is read here again from the
warehouse's tables, with SQL of the test's own.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter, defaultdict
from typing import Any

from playwright.sync_api import Browser, Locator, Page

from schemas.topics import SOURCE_BY_SYSTEM
from tests.browser.conftest import Site, sign_in
from tests.browser.usage import (
    LOST_EVENTS,
    LOST_EXTRACT,
    MISDIRECTED,
    NOT_AVRO,
    UNKNOWN_SCHEMA,
)
from warehouse.connection import connect
from warehouse.tokens import Role, issue_token

CONTRACT = "leics-send-sharing-2026"  # the smoke area's
QUICK_MS = 5_000  # the pages are rendered on the server: what is missing will not come
HUB_CHECKS = "KPIs (hub)"  # the data-quality page's name for the checks on KPIs
ROWS = """table => Array.from(table.tBodies[0].rows).map(
  row => Array.from(row.cells).map(cell => cell.innerText.trim()))"""
HEADERS = "table => Array.from(table.tHead.rows[0].cells).map(cell => cell.innerText.trim())"
SUMMARY = """list => Object.fromEntries(
  Array.from(list.querySelectorAll('.govuk-summary-list__row')).map(
    row => [row.querySelector('dt').innerText.trim(), row.querySelector('dd').innerText.trim()]))"""


def opened(site: Site, browser: Browser, role: Role) -> Page:
    """A page signed in as `role` that fails fast when what it looks for is not there."""
    page = site.page(browser, role)
    page.set_default_timeout(QUICK_MS)
    return page


def table(page: Page, caption: str) -> Locator:
    """The table whose caption says `caption`."""
    return page.locator("table").filter(has=page.locator("caption", has_text=caption))


def rows_of(found: Locator) -> list[list[str]]:
    rows: list[list[str]] = found.evaluate(ROWS)
    return rows


def headers_of(found: Locator) -> list[str]:
    headers: list[str] = found.evaluate(HEADERS)
    return headers


def summary_of(found: Locator) -> dict[str, str]:
    summary: dict[str, str] = found.evaluate(SUMMARY)
    return summary


def number(text: str) -> int:
    return int(text.replace(",", ""))


def outcome(passed: bool) -> str:
    return "Passed" if passed else "Failed"


def words(name: str) -> str:
    return name.replace("_", " ")


def query(site: Site, sql: str, *parameters: Any) -> list[tuple[Any, ...]]:
    with connect(site.dsn) as conn:
        return conn.execute(sql, parameters).fetchall()


def failed_of(tally: Counter[bool]) -> str:
    return f"{tally[False]} of {tally.total()} failed"


def history_as_stored(
    runs: list[tuple[Any, ...]],
    checks: list[tuple[Any, ...]],
    expectations: list[tuple[Any, ...]],
    with_expectations: bool,
) -> list[dict[str, str]]:
    """The history table's rows, newest run first, as the stored results make them: each
    partner's failed checks of its checks, the expectations failed, the unexpected values."""
    tallies: dict[tuple[Any, str], Counter[bool]] = defaultdict(Counter)
    for run_id, party, *_, passed in checks:
        tallies[(run_id, HUB_CHECKS if party == "hub" else party)][passed] += 1
    quality: dict[Any, Counter[bool]] = defaultdict(Counter)
    unexpected = Counter[Any]()
    for run_id, *_, count, passed in expectations:
        quality[run_id][passed] += 1
        unexpected[run_id] += count
    parties = {party for _, party in tallies}
    rows = []
    for run_id, passed in runs:
        row = {"Outcome": outcome(passed), "Unexpected values": f"{unexpected[run_id]:,}"}
        for party in parties:
            tally = tallies.get((run_id, party))
            row[party] = failed_of(tally) if tally else "no checks"
        if with_expectations:
            row["Expectations"] = failed_of(quality[run_id]) if quality[run_id] else "none run"
        rows.append(row)
    return rows


def partners_as_stored(checks: list[tuple[Any, ...]]) -> list[list[str]]:
    """The summary's rows as one run's stored checks make them: per partner what its checks
    covered, the events its manifests listed and the store holds, its checks and failures."""
    by_party: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for _, party, *rest in checks:
        by_party[party].append(tuple(rest))
    rows = []
    for party, own in by_party.items():
        subjects = len({subject for _, subject, *_ in own})
        unit = "KPI" if party == "hub" else "extract"
        events = [(e, a) for check, _, e, a, *_ in own if check == "extract_events_stored"]
        failed = sum(not passed for *_, passed in own)
        rows.append(
            [
                HUB_CHECKS if party == "hub" else party,
                outcome(not failed),
                f"{failed:,}",
                f"{len(own):,}",
                f"{subjects:,} {unit}{'' if subjects == 1 else 's'}",
                f"{sum(a for _, a in events):,} of {sum(e for e, _ in events):,} listed"
                if events
                else "not counted",
            ]
        )
    return rows


def test_data_quality_shows_the_latest_run_per_partner_and_every_run_newest_first(
    site: Site, browser: Browser
) -> None:
    runs = query(
        site,
        "SELECT run_id, passed FROM pipeline_runs WHERE flow = 'reconcile'"
        " ORDER BY finished_at DESC",
    )
    checks = query(
        site,
        "SELECT r.run_id, coalesce(m.source_system, 'hub'), r.check_name, r.subject,"
        " r.expected, r.actual, r.detail, r.passed FROM reconciliation_results r"
        " LEFT JOIN extract_manifests m ON m.extract_id::text = r.subject",
    )
    expectations = query(
        site,
        "SELECT run_id, expectation, column_names, element_count, unexpected_count, passed"
        " FROM data_quality_results",
    )
    latest = runs[0][0]
    in_latest = [c for c in checks if c[0] == latest]
    failed = [c for c in in_latest if not c[-1]]
    # the story the seed tells: a run that passed, then one that found health's lost events
    assert [passed for _, passed in runs] == [False, True]
    assert [(c[1], c[2], c[3], c[4], c[5]) for c in failed] == [
        ("health", "extract_events_stored", str(LOST_EXTRACT), LOST_EVENTS, 0)
    ]

    page = opened(site, browser, Role.COMMISSIONER)
    page.goto("/dashboard/data-quality")

    latest_run = summary_of(page.locator("#latest-run"))
    assert latest_run["Outcome"] == "Failed"
    assert latest_run["Reconciliation checks"] == f"{len(failed)} of {len(in_latest)} failed"
    named = {"hub": HUB_CHECKS}
    # what is wrong first: a row per partner, those with failures before the rest
    partners = rows_of(page.locator("#partners"))
    assert sorted(partners) == sorted(partners_as_stored(in_latest))
    outcomes = [row[1] for row in partners]
    assert outcomes == sorted(outcomes) and "Failed" in outcomes, "failures first"
    # then only the failed checks, with how far out each is
    assert sorted(rows_of(page.locator("#failed-checks"))) == sorted(
        [named.get(party, party), words(check), f"{e:,}", f"{a:,}", f"{a - e:+,}", subject, detail]
        for _, party, check, subject, e, a, detail, _ in failed
    )
    # and every check of the run, folded away until asked for
    every = page.locator("details#all-checks")
    assert every.evaluate("details => details.open") is False
    every.locator("summary").click()
    assert (
        every.locator("summary").inner_text().strip() == f"All {len(in_latest)} checks of this run"
    )
    shown = rows_of(every.locator("table#checks"))
    assert sorted(
        (party, check.splitlines()[0], subject, number(expected), number(actual), result)
        for party, check, subject, expected, actual, result in shown
    ) == sorted(
        (named.get(party, party), words(check), subject, expected, actual, outcome(passed))
        for _, party, check, subject, expected, actual, _, passed in in_latest
    )
    by_party: dict[str, list[str]] = defaultdict(list)
    for party, *_, result in shown:
        by_party[party].append(result)
    assert all(results == sorted(results) for results in by_party.values()), "failures first"
    assert sorted(
        (expectation, columns, number(checked), number(unexpected), result)
        for expectation, columns, checked, unexpected, result in rows_of(
            page.locator("#expectations")
        )
    ) == sorted(
        (words(e[1]), e[2], e[3], e[4], outcome(e[5])) for e in expectations if e[0] == latest
    )

    history = page.locator("#history")
    headers = headers_of(history)
    expected = history_as_stored(runs, checks, expectations, "Expectations" in headers)
    assert set(expected[0]) <= set(headers), headers
    assert [
        {header: cell for header, cell in zip(headers, row, strict=True) if header in expected[0]}
        for row in rows_of(history)
    ] == expected
    page.context.close()


def month_of(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).strftime("%Y-%m")


def months_to(last: str, count: int) -> list[str]:
    year, month = (int(part) for part in last.split("-"))
    index = year * 12 + month - 1
    return [f"{i // 12}-{i % 12 + 1:02d}" for i in range(index - count + 1, index + 1)]


def test_the_ig_page_shows_flows_refusals_the_access_log_and_the_chain_as_recorded(
    site: Site, browser: Browser
) -> None:
    for role, address in (
        (Role.PARTNER, "/dashboard/submissions"),
        (Role.COMMISSIONER, "/dashboard/data-quality"),
    ):
        visitor = site.page(browser, role)
        visitor.goto(address)
        visitor.context.close()
    refused = query(site, "SELECT topic, reason, received_at FROM quarantined_messages")
    assert refused, "the seed's late delivery has messages the gatekeeper refused"
    month = month_of(max(received for *_, received in refused))

    page = opened(site, browser, Role.IG_AUDITOR)
    page.goto("/dashboard/ig")
    page.get_by_label("Contract", exact=True).select_option(CONTRACT)
    page.get_by_label("Month", exact=True).fill(month)
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state()

    accepted: dict[str, Counter[str]] = defaultdict(Counter)
    for party, received, count in query(
        site,
        "SELECT source_system, received_at, count(*) FROM events WHERE contract_id = %s"
        " GROUP BY 1, 2",
        CONTRACT,
    ):
        accepted[month_of(received)][party] += count
    refused_by_month = Counter(month_of(received) for *_, received in refused)
    flows = page.locator("#flows")
    parties = headers_of(flows)[1:-2]
    assert parties == sorted({party for by_party in accepted.values() for party in by_party})
    assert rows_of(flows) == [
        [
            shown,
            *(f"{accepted[shown][party]:,}" for party in parties),
            f"{accepted[shown].total():,}",
            f"{refused_by_month[shown]:,}",
        ]
        for shown in months_to(month, 12)
    ]
    in_month = [
        (topic, reason) for topic, reason, received in refused if month_of(received) == month
    ]
    assert sorted(rows_of(page.locator("#refused-by-reason"))) == sorted(
        [words(reason), f"{count:,}"] for reason, count in Counter(r for _, r in in_month).items()
    )
    owner = {topic: party for party, topic in SOURCE_BY_SYSTEM.items()}
    assert sorted(rows_of(page.locator("#refused-by-party"))) == sorted(
        [party, f"{count:,}"] for party, count in Counter(owner[t] for t, _ in in_month).items()
    )

    calls = [
        [name, f"{method} {route}", str(status)]
        for name, method, route, status in query(
            site,
            "SELECT token_name, method, route, status FROM access_log ORDER BY at DESC, id DESC"
            " LIMIT 50",
        )
    ]
    logged = [[row[1], row[3], row[4]] for row in rows_of(page.locator("#access-log"))]
    assert ["browser-partner", "GET /dashboard/submissions", "200"] in logged
    assert ["browser-commissioner", "GET /dashboard/data-quality", "200"] in logged
    # the newest calls, as the page read them before its own call was logged
    assert calls[0] == ["browser-ig_auditor", "GET /dashboard/ig", "200"]
    assert calls[1 : 1 + len(logged)] == logged

    verifications = query(
        site,
        "SELECT rows_verified, tombstones, last_sequence, broken_at FROM chain_verifications"
        " ORDER BY id DESC",
    )
    assert verifications, "the seed verified the chain, as `hub audit verify` does"
    rows, tombstones, last, broken_at = verifications[0]
    [(events, erased, highest)] = query(
        site, "SELECT count(*), count(erased_at), max(sequence) FROM events"
    )
    assert (rows, tombstones, last, broken_at) == (events, erased, highest, None)
    chain = summary_of(page.locator("#chain"))
    assert chain["Outcome"] == "Chain holds"
    assert chain["Rows verified"] == f"{rows:,} (to row {last}, {tombstones:,} tombstones)"
    assert chain["Rows appended since"] == f"{highest - last:,}"
    page.context.close()


def partner_page(site: Site, browser: Browser, party: str) -> Page:
    """The submissions page as `party`'s partner sees it (the site's own partner token is
    education's; another party's is issued here)."""
    if party == "education":
        page = opened(site, browser, Role.PARTNER)
    else:
        with connect(site.dsn) as conn:
            secret, _ = issue_token(
                conn, f"browser-partner-{party}-{uuid.uuid4().hex[:6]}", Role.PARTNER, party
            )
        page = browser.new_context(base_url=site.url).new_page()
        page.set_default_timeout(QUICK_MS)
        sign_in(page, secret)
    page.goto("/dashboard/submissions")
    return page


def test_each_partner_sees_its_own_submissions_and_refusals_and_no_one_elses(
    site: Site, browser: Browser
) -> None:
    extracts = query(
        site,
        "SELECT m.source_system, left(m.extract_id::text, 8), m.event_type, m.rows_sent,"
        " (SELECT count(*) FROM events e WHERE e.extract_id = m.extract_id"
        "  AND e.source_system = m.source_system)"
        " FROM extract_manifests m",
    )
    held = query(site, "SELECT source_system, event_type, count(*) FROM events GROUP BY 1, 2")
    refused = query(
        site,
        "SELECT topic, reason, count(*) FROM quarantined_messages WHERE released_at IS NULL"
        " GROUP BY 1, 2",
    )
    reasons = {
        party: {reason: count for topic, reason, count in refused if topic == own}
        for party, own in SOURCE_BY_SYSTEM.items()
    }
    # the seed's refusals: not events at all on education's topic, education's event on
    # health's; and health's extract whose manifest came without any of its events
    assert reasons["education"] == {"not_single_object": NOT_AVRO, "schema_unknown": UNKNOWN_SCHEMA}
    assert reasons["health"] == {"party_not_topic_owner": MISDIRECTED}
    lost = ("health", str(LOST_EXTRACT)[:8], "TherapyReferralReceived", LOST_EVENTS, 0)
    assert lost in extracts

    for party, other in (("education", "health"), ("health", "education")):
        page = partner_page(site, browser, party)
        assert page.locator(".govuk-caption-l").inner_text().strip() == party
        assert sorted(rows_of(table(page, "Events held by event type"))) == sorted(
            [event_type, f"{count:,}"] for source, event_type, count in held if source == party
        )
        assert sorted(
            (extract, event_type, number(sent), number(recorded))
            for _, event_type, extract, _, sent, _, recorded in rows_of(table(page, "Extracts"))
        ) == sorted(
            (extract, event_type, sent, recorded)
            for source, extract, event_type, sent, recorded in extracts
            if source == party
        )
        main = page.locator("main").inner_text()
        assert not any(extract in main for source, extract, *_ in extracts if source == other)
        assert sorted(rows_of(table(page, "Still held, by reason"))) == sorted(
            [words(reason), f"{count:,}"] for reason, count in reasons[party].items()
        )
        assert not any(words(reason) in main for reason in reasons[other])
        page.context.close()
