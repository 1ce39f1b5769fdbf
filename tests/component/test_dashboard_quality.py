"""The data-quality page tells what is wrong first: a row per partner with what its checks
covered and how many failed, partners with failures first, then only the failed checks with
how far out each is, then every check of the run folded away; "Every check passed." when
none failed. Its history is a trend: after one reconcile run the page says there is no trend
yet; after more, a chart of failed checks per partner whose figures are the history table's,
each run on a time axis."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Sequence

from pipelines.data_quality import ExpectationOutcome
from pipelines.reconciliation import CheckResult
from pipelines.results import PipelineRun, store_run
from tests.component.test_dashboard import signed_in
from warehouse.connection import connect

FIRST = dt.datetime(2026, 11, 30, 18, 0, tzinfo=dt.UTC)
UNIQUE = "expect_column_values_to_be_unique"
KPI = "ehcp_20_weeks_excl_exceptions"


def store(dsn: str, finished: dt.datetime, checks: Sequence[CheckResult], unexpected: int) -> None:
    """A reconcile run with these checks and one data-quality expectation, stored."""
    run = PipelineRun(
        uuid.uuid4(),
        "reconcile",
        finished - dt.timedelta(minutes=1),
        finished,
        list(checks),
        [ExpectationOutcome(UNIQUE, "event_id", 9, unexpected, not unexpected)],
    )
    with connect(dsn) as conn:
        store_run(conn, run)


def reconcile_run(
    dsn: str, extract: uuid.UUID, finished: dt.datetime, stored: int, unexpected: int
) -> None:
    """A reconcile run: one check of the education extract's 4 events (`stored` of them
    reached the store) and one data-quality expectation."""
    checks = [CheckResult("extract_events_stored", str(extract), 4, stored, "events stored")]
    store(dsn, finished, checks, unexpected)


def published(dsn: str, source_system: str) -> uuid.UUID:
    """An extract of 4 plans the partner published, by its manifest."""
    extract = uuid.uuid4()
    with connect(dsn) as conn:
        conn.execute(
            "INSERT INTO extract_manifests (extract_id, event_type, source_system,"
            " contract_id, area_code, published_at, rows_read, rows_sent, rows_refused)"
            " VALUES (%s, 'EhcPlanIssued', %s, 'c', 'E10000018', now(), 4, 4, 0)",
            (extract, source_system),
        )
    return extract


def partners_run(
    dsn: str, finished: dt.datetime, education: uuid.UUID, health: uuid.UUID, stored: int
) -> None:
    """Both of each extract's checks, `stored` of health's 4 events in the store, and the
    hub's check on a KPI."""
    store(
        dsn,
        finished,
        [
            CheckResult("extract_rows_listed", str(education), 4, 4, "rows vs ids listed"),
            CheckResult("extract_events_stored", str(education), 4, 4, "listed vs stored"),
            CheckResult("extract_rows_listed", str(health), 4, 4, "rows vs ids listed"),
            CheckResult("extract_events_stored", str(health), 4, stored, "listed vs stored"),
            CheckResult("kpi_denominator_matches_store", KPI, 2, 2, "plans vs denominator"),
        ],
        0,
    )


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def rows_of(page: str, table_id: str) -> list[list[str]]:
    """The body rows of the table `table_id`, each cell as its text."""
    table = re.search(rf'<table class="govuk-table" id="{table_id}">.*?</table>', page, re.S)
    assert table is not None, table_id
    body = table[0].split("<tbody", 1)[1]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    return [
        [text_of(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)] for row in rows
    ]


def test_the_latest_run_shows_each_partners_summary_then_only_the_failed_checks(
    warehouse_dsn: str, api_dsn: str
) -> None:
    education, health = published(warehouse_dsn, "education"), published(warehouse_dsn, "health")
    partners_run(warehouse_dsn, FIRST, education, health, 3)
    client = signed_in(warehouse_dsn, api_dsn, "commissioner")
    page = client.get("/dashboard/data-quality").text

    assert "Reconciliation checks</dt>" in page and "1 of 5 failed" in page
    assert rows_of(page, "partners") == [  # failures first, the hub's own checks last
        ["health", "Failed", "1", "2", "1 extract", "3 of 4 listed"],
        ["education", "Passed", "0", "2", "1 extract", "4 of 4 listed"],
        ["KPIs (hub)", "Passed", "0", "1", "1 KPI", "not counted"],
    ]
    assert rows_of(page, "failed-checks") == [
        ["health", "extract events stored", "4", "3", "-1", str(health), "listed vs stored"]
    ]
    folded = re.search(r'<details id="all-checks" class="govuk-details">.*?</details>', page, re.S)
    assert folded is not None and "All 5 checks of this run" in folded[0]
    every = rows_of(folded[0], "checks")
    assert sorted((row[0], row[2], row[3], row[4], row[5]) for row in every) == sorted(
        [
            ("education", str(education), "4", "4", "Passed"),
            ("education", str(education), "4", "4", "Passed"),
            ("health", str(health), "4", "4", "Passed"),
            ("health", str(health), "4", "3", "Failed"),
            ("KPIs (hub)", KPI, "2", "2", "Passed"),
        ]
    )
    with connect(warehouse_dsn) as conn:
        logged = conn.execute(
            "SELECT rows_returned FROM access_log WHERE route = '/dashboard/data-quality'"
        ).fetchall()
    assert logged == [(1 + 5 + 1,)]  # the run, its checks, its expectation: all on the page

    partners_run(warehouse_dsn, FIRST + dt.timedelta(hours=1), education, health, 4)
    page = client.get("/dashboard/data-quality").text
    assert [row[0] for row in rows_of(page, "partners")] == ["education", "health", "KPIs (hub)"]
    assert '<p class="govuk-body" id="failed-checks">Every check passed.</p>' in page
    assert "0 of 5 failed" in page and "All 5 checks of this run" in page


def test_the_history_is_a_trend_with_the_tables_figures_once_there_are_two_runs(
    warehouse_dsn: str, api_dsn: str
) -> None:
    extract = uuid.uuid4()
    with connect(warehouse_dsn) as conn:
        conn.execute(
            "INSERT INTO extract_manifests (extract_id, event_type, source_system,"
            " contract_id, area_code, published_at, rows_read, rows_sent, rows_refused)"
            " VALUES (%s, 'EhcPlanIssued', 'education', 'c', 'E10000018', now(), 4, 4, 0)",
            (extract,),
        )
    reconcile_run(warehouse_dsn, extract, FIRST, 4, 0)
    client = signed_in(warehouse_dsn, api_dsn, "ig_auditor")
    once = client.get("/dashboard/data-quality")
    assert once.status_code == 200 and "<svg" not in once.text
    assert "no trend to draw yet" in once.text

    reconcile_run(warehouse_dsn, extract, FIRST + dt.timedelta(hours=6), 3, 2)
    reconcile_run(warehouse_dsn, extract, FIRST + dt.timedelta(days=1), 4, 0)
    page = client.get("/dashboard/data-quality").text
    chart = re.search(r'<figure class="hub-chart" id="quality-trend">.*?</figure>', page, re.S)
    assert chart is not None
    education = re.search(r'<g data-line="education".*?</g></g>', chart[0], re.S)
    expectations = re.search(r'<g data-line="Expectations".*?</g></g>', chart[0], re.S)
    assert education is not None and expectations is not None
    assert re.findall(r'data-failed="(\d+)"', education[0]) == ["0", "1", "0"]  # oldest first
    assert re.findall(r'data-failed="(\d+)"', expectations[0]) == ["0", "1", "0"]
    assert "education: 0 of 1 failed in the newest run with checks" in chart[0]
    assert "most 1, on 1 Dec 2026 00:00" in chart[0]

    history = re.search(r'<table class="govuk-table" id="history">.*?</table>', page, re.S)
    assert history is not None
    rows = re.findall(r'<tr class="govuk-table__row">(.*?)</tr>', history[0], re.S)[1:]
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows]
    assert [(row[0], row[2], row[3]) for row in cells] == [  # newest first, as the table
        ("1 Dec 2026 18:00", "0 of 1 failed", "0 of 1 failed"),
        ("1 Dec 2026 00:00", "1 of 1 failed", "1 of 1 failed"),
        ("30 Nov 2026 18:00", "0 of 1 failed", "0 of 1 failed"),
    ]
