"""The reconcile flow under Prefect: a published extract reconciles, and `hub status` shows it."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client

from hub.settings import HubSettings
from pipelines.flows import reconcile_flow
from pipelines.results import latest_run
from producers.synthetic.ehc_plans import generate
from tests.support.processes import run_hub, running, wait_for
from warehouse.connection import connect


def _plans_stored(settings: HubSettings) -> int:
    with connect(settings.warehouse_dsn()) as conn:
        row = conn.execute("SELECT count(*) FROM events").fetchone()
    return int(row[0]) if row else 0


def _healthy_status(settings: HubSettings) -> subprocess.CompletedProcess[str] | None:
    status = run_hub(settings, "status", "--format", "json")
    return status if status.returncode == 0 else None


@pytest.mark.usefixtures("prefect_harness")
def test_reconcile_flow_stores_its_results_and_status_reports_them(
    hub_settings: HubSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in hub_settings.as_env().items():
        monkeypatch.setenv(name, value)
    extract = generate(60, seed=7, faults=2)
    path = tmp_path / "plans.csv"
    path.write_text(extract.csv_text)

    with (
        running(hub_settings, "streams", tmp_path / "worker.log"),
        running(hub_settings, "hub.api", tmp_path / "api.log"),
    ):
        produced = run_hub(hub_settings, "produce", "--source", "education", str(path))
        assert produced.returncode == 1, produced.stderr  # two faulty rows refused
        wait_for(
            lambda: _plans_stored(hub_settings) == extract.truth.plans or None,
            timeout=120,
            what="the worker to store the extract",
        )

        outcome = reconcile_flow()

        assert outcome["passed"] is True
        with connect(hub_settings.warehouse_dsn()) as conn:
            stored = latest_run(conn)
        assert stored is not None and stored.passed
        assert stored.orchestrator_run_id is not None
        events_stored = {
            c.subject: c.actual for c in stored.reconciliation if c.check == "extract_events_stored"
        }
        assert list(events_stored.values()) == [extract.truth.plans]

        # the worker's first heartbeat may still be due: wait for a healthy report
        status = wait_for(
            lambda: _healthy_status(hub_settings), timeout=60, what="hub status to report healthy"
        )
        document = json.loads(status.stdout)
        assert [p["check"] for p in document["pipelines"]] == ["reconciliation", "data quality"]
        assert all(p["passed"] for p in document["pipelines"])
        assert {c["component"]: c["healthy"] for c in document["components"]} == {
            "warehouse": True,
            "broker": True,
            "worker": True,
            "api": True,
        }
        assert status.returncode == 0

    async def flow_run_state() -> str:
        async with get_client() as client:
            run = await client.read_flow_run(stored.orchestrator_run_id)
        return str(run.state.type.value) if run.state else "unknown"

    assert asyncio.run(flow_run_state()) == "COMPLETED"
