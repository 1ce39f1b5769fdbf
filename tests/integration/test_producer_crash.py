"""A producer killed mid-publication loses nothing and double-counts nothing.

The outbox holds every staged event on disk; `hub outbox flush` sends what is left
and forgets only what the hub confirms it has recorded; `hub produce` of the same file
resumes after the rows the killed run staged.
"""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hub.settings import HubSettings
from producers.outbox import Outbox
from producers.synthetic.ehc_plans import generate
from tests.support.processes import child_env, run_hub, running, wait_for
from warehouse.connection import connect

PLANS = 20_000


def stored_plans(settings: HubSettings) -> int:
    with connect(settings.warehouse_dsn()) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT event_id) FROM events"
            " WHERE event_type = 'EhcPlanIssued'"
        ).fetchone()
    assert row is not None and row[0] == row[1]
    return int(row[0])


def kpi_denominator(settings: HubSettings) -> int:
    with connect(settings.warehouse_dsn()) as conn:
        row = conn.execute(
            "SELECT coalesce(sum(denominator), 0) FROM kpi_measures"
            " WHERE kpi_id = 'ehcp_20_weeks_incl_exceptions'"
        ).fetchone()
    return int(row[0]) if row else 0


def staged_events(settings: HubSettings) -> int:
    """Events the producer has committed to its outbox so far, whatever their state."""
    path = settings.outbox_path("education")
    if not path.exists():
        return 0
    with Outbox(path) as outbox:
        return sum(outbox.event_counts().values())


def kill_once_staged(
    producer: subprocess.Popen[bytes], settings: HubSettings, at_least: int
) -> int:
    """SIGKILL the producer as soon as its outbox holds `at_least` events, polling fast
    enough (staging is chunked) that it cannot finish in between; the count at the kill."""
    deadline = time.monotonic() + 120
    while staged_events(settings) < at_least:
        assert producer.poll() is None, "the producer ended before it could be killed"
        assert time.monotonic() < deadline, f"{at_least} events were never staged"
        time.sleep(0.01)
    producer.send_signal(signal.SIGKILL)
    producer.wait()
    return staged_events(settings)


@pytest.mark.parametrize("kill_once_staged_at_least", [1, PLANS // 2])
def test_a_killed_producer_resumes_from_its_outbox(
    hub_settings: HubSettings, tmp_path: Path, kill_once_staged_at_least: int
) -> None:
    extract = tmp_path / "plans.csv"
    extract.write_text(generate(PLANS, seed=3, faults=0).csv_text)
    with (
        running(hub_settings, "streams", tmp_path / "worker.log"),
        running(hub_settings, "hub.api", tmp_path / "api.log"),
    ):
        producer = subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "produce", "--source", "education", str(extract)],
            env=child_env(hub_settings),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        staged_before_kill = kill_once_staged(producer, hub_settings, kill_once_staged_at_least)

        # The kill landed mid-publication: some events staged, not all; the producer records
        # what the broker confirmed a few chunks behind the sending, so some may be marked.
        assert kill_once_staged_at_least <= staged_before_kill < PLANS
        with Outbox(hub_settings.outbox_path("education")) as outbox:
            assert sum(outbox.event_counts().values()) == staged_before_kill

        def outbox_empty() -> bool | None:
            flushed = run_hub(hub_settings, "outbox", "flush")
            with Outbox(hub_settings.outbox_path("education")) as outbox:
                return True if outbox.status().empty and flushed.returncode == 0 else None

        # Flushing alone delivers exactly what was staged: nothing lost, nothing twice.
        wait_for(outbox_empty, timeout=120, what="the hub to confirm every staged event")
        assert stored_plans(hub_settings) == staged_before_kill

        # The partner publishes the same file again: it resumes after the rows already staged.
        again = run_hub(hub_settings, "produce", "--source", "education", str(extract))
        assert again.returncode == 0, again.stderr
        assert "resuming extract" in again.stdout
        assert f"read {PLANS} rows: {PLANS} sent" in " ".join(again.stdout.split())
        wait_for(outbox_empty, timeout=120, what="the hub to confirm the rest")
        assert stored_plans(hub_settings) == PLANS
        wait_for(
            lambda: kpi_denominator(hub_settings) == PLANS or None,
            timeout=30,
            what="the KPI",
        )
