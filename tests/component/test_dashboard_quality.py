"""The data-quality page's history as a trend: after one reconcile run the page says there
is no trend yet; after more, a chart of failed checks per partner whose figures are the
history table's, each run on a time axis."""

from __future__ import annotations

import datetime as dt
import re
import uuid

from pipelines.data_quality import ExpectationOutcome
from pipelines.reconciliation import CheckResult
from pipelines.results import PipelineRun, store_run
from tests.component.test_dashboard import signed_in
from warehouse.connection import connect

FIRST = dt.datetime(2026, 11, 30, 18, 0, tzinfo=dt.UTC)
UNIQUE = "expect_column_values_to_be_unique"


def reconcile_run(
    dsn: str, extract: uuid.UUID, finished: dt.datetime, stored: int, unexpected: int
) -> None:
    """A reconcile run: one check of the education extract's 4 events (`stored` of them
    reached the store) and one data-quality expectation."""
    run = PipelineRun(
        uuid.uuid4(),
        "reconcile",
        finished - dt.timedelta(minutes=1),
        finished,
        [CheckResult("extract_events_stored", str(extract), 4, stored, "events stored")],
        [ExpectationOutcome(UNIQUE, "event_id", 9, unexpected, not unexpected)],
    )
    with connect(dsn) as conn:
        store_run(conn, run)


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
