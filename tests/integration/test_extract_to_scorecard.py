"""A partner extract reaches the scorecard: real broker, real PostgreSQL, faust worker, API, CLI."""

import datetime as dt
import json
from pathlib import Path

from hub.settings import HubSettings
from producers.synthetic.ehc_plans import generate
from tests.support.processes import api_json, run_hub, running, wait_for
from warehouse.connection import connect

WORKER_TIMEOUT_S = 120


def kpis_by_id(document: dict[str, object]) -> dict[str, dict[str, object]]:
    kpis = document["kpis"]
    assert isinstance(kpis, list)
    return {k["id"]: k for k in kpis}


def test_an_extract_published_twice_is_counted_once_and_read_back_through_the_api(
    hub_settings: HubSettings, tmp_path: Path
) -> None:
    extract = generate(120, seed=42, faults=3)
    path = tmp_path / "ehc_plans_issued.csv"
    path.write_text(extract.csv_text)
    truth = extract.truth

    with (
        running(hub_settings, "streams", tmp_path / "worker.log"),
        running(hub_settings, "hub.api", tmp_path / "api.log"),
    ):
        first = run_hub(hub_settings, "produce", "--source", "education", str(path))
        assert first.returncode == 1, first.stderr  # some rows were refused
        assert "read 123 rows: 120 sent, 3 refused" in " ".join(first.stdout.split())
        for line, reason in truth.refused_lines:
            assert f"line {line}: {reason}" in first.stderr

        def complete() -> bool | None:
            counted = _counted(hub_settings)["ehcp_20_weeks_incl_exceptions"]
            return True if counted[1] == truth.plans else None

        wait_for(complete, timeout=WORKER_TIMEOUT_S, what="the worker to apply the extract")

        first_received = _manifest_received_at(hub_settings)
        second = run_hub(hub_settings, "produce", "--source", "education", str(path))
        assert second.returncode == 1
        # the second manifest follows its (duplicate) events through the worker
        wait_for(
            lambda: (
                (_manifest_received_at(hub_settings) or first_received) > first_received or None
            ),
            timeout=60,
            what="the worker to apply the second publication",
        )
        document = api_json(hub_settings, "/scorecard")
        assert document is not None

    # Inside the hub every plan counts once: the measures hold seed 42's truth, and the
    # 20-week standard (green from 90 %, amber from 80 %) would colour them amber and green.
    counted = _counted(hub_settings)
    assert (truth.within_20_weeks_excluding_exceptions, truth.plans_excluding_exceptions) == (
        100,
        112,
    )
    assert (truth.within_20_weeks, truth.plans) == (108, 120)
    assert counted["ehcp_20_weeks_excl_exceptions"] == (100, 112)
    assert counted["ehcp_20_weeks_incl_exceptions"] == (108, 120)
    # Published, the plans spread over two years are a handful a month: each month is
    # suppressed, so a total over the months is too (it would give a month away), and the
    # percentage and RAG made of them show c, never a figure a month could be worked from.
    kpis = kpis_by_id(document)
    excl = kpis["ehcp_20_weeks_excl_exceptions"]
    assert {month["numerator"]["symbol"] for month in excl["trend"]} >= {"c"}
    assert excl["numerator"] == {"value": None, "symbol": "c", "status": "suppressed"}
    assert (excl["percentage"]["symbol"], excl["rag"]) == ("c", "suppressed")
    assert document["disclosure"]["suppressed_cells"] > 0

    cli = run_hub(hub_settings, "scorecard", "--format", "json")
    assert cli.returncode == 0
    assert json.loads(cli.stdout) == document


def _counted(settings: HubSettings) -> dict[str, tuple[int, int]]:
    """Each KPI's numerator and denominator over all months, as the hub holds them."""
    with connect(settings.warehouse_dsn()) as conn:
        rows = conn.execute(
            "SELECT kpi_id, sum(numerator), sum(denominator) FROM kpi_measures GROUP BY kpi_id"
        ).fetchall()
    counted = {kpi_id: (int(n), int(d)) for kpi_id, n, d in rows}
    return counted | {k: (0, 0) for k in ("ehcp_20_weeks_incl_exceptions",) if k not in counted}


def _manifest_received_at(settings: HubSettings) -> dt.datetime | None:
    with connect(settings.warehouse_dsn()) as conn:
        row = conn.execute("SELECT max(received_at) FROM extract_manifests").fetchone()
    return row[0] if row else None
