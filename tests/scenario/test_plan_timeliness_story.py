"""The council's SEN team shares a month's issued plans, fixes a refused row, and the KPI moves.

Told as a commissioner would read it: each step is a real command against the real
broker, PostgreSQL, faust worker and API.
"""

import datetime as dt
from pathlib import Path
from typing import Any

from hub.settings import HubSettings
from producers.synthetic.nhs_numbers import check_digit
from tests.support.processes import api_json, run_hub, running, wait_for
from warehouse.connection import connect

HEADER = "plan_reference,nhs_number,request_date,issue_date,permitted_exception,primary_need"


def nhs_number(serial: int) -> str:
    """A synthetic NHS number in the 999 test range with a valid check digit."""
    while True:
        first_nine = f"999{serial:06d}"
        digit = check_digit(first_nine)
        if digit is not None:
            return f"{first_nine}{digit}"
        serial += 1


def excl_kpi(settings: HubSettings) -> dict[str, Any]:
    document = api_json(settings, "/scorecard")
    assert document is not None
    kpis = document["kpis"]
    assert isinstance(kpis, list)
    return next(k for k in kpis if k["id"] == "ehcp_20_weeks_excl_exceptions")


def stored(settings: HubSettings, events: int) -> bool | None:
    """True once the worker has applied `events` events (the figures are then complete)."""
    with connect(settings.warehouse_dsn()) as conn:
        row = conn.execute("SELECT count(*) FROM events").fetchone()
    return True if row and row[0] == events else None


def published(kpi: dict[str, Any]) -> tuple[object, ...]:
    """The figures a commissioner reads: numerator, denominator, percentage, RAG."""
    return (
        kpi["numerator"]["value"],
        kpi["denominator"]["value"],
        kpi["percentage"]["value"],
        kpi["rag"],
    )


def test_a_months_plans_reach_the_commissioners_scorecard(
    hub_settings: HubSettings, tmp_path: Path
) -> None:
    amira, ben, chloe, dev = (nhs_number(n) for n in (101, 202, 303, 404))
    mistyped = dev[:-1] + str((int(dev[-1]) + 1) % 10)

    # The SEN team issues 35 plans in May 2025. Amira's request arrived on 6 January:
    # her plan is on time, as are 26 others. Ben's arrived on 2 December: late, as are 4
    # others. Chloe's took longer too, but a permitted exception applies (and to one
    # more). Dev's plan is on time, but the council mistypes his NHS number.
    rows = [
        f"SEN-001,{amira},2025-01-06,2025-05-20,N,ASD",
        f"SEN-002,{ben},2024-12-02,2025-05-21,N,SEMH",
        f"SEN-003,{chloe},2024-11-25,2025-05-22,Y,SLCN",
        f"SEN-004,{mistyped},2025-01-20,2025-05-23,N,MLD",
    ]
    on_time = [(2025, 1, 7 + n) for n in range(25)] + [(2025, 2, 1)]
    rows += [
        f"SEN-1{n:02d},{nhs_number(1000 + 10 * n)},{dt.date(*day)},2025-05-20,N,ASD"
        for n, day in enumerate(on_time)
    ]
    late = [f"{nhs_number(2000 + 10 * n)},2024-12-0{3 + n}" for n in range(4)]
    rows += [f"SEN-2{n:02d},{plan},2025-05-21,N,SEMH" for n, plan in enumerate(late)]
    rows += [f"SEN-300,{nhs_number(3000)},2024-11-26,2025-05-22,Y,SLCN"]
    extract = tmp_path / "plans_may.csv"
    extract.write_text("\n".join([HEADER, *rows]) + "\n")

    with (
        running(hub_settings, "streams", tmp_path / "worker.log"),
        running(hub_settings, "hub.api", tmp_path / "api.log"),
    ):
        # The SEN team publishes: Dev's row is refused on line 5, and nobody sees his number.
        first = run_hub(hub_settings, "produce", "--source", "education", str(extract))
        assert first.returncode == 1
        assert "line 5: invalid_nhs_number" in first.stderr
        assert mistyped not in first.stderr + first.stdout
        wait_for(lambda: stored(hub_settings, 34), timeout=120, what="34 plans stored")

        # Inside the hub 27 of 32 plans were on time (the 2 excepted are left out): 84.4 %.
        # The commissioner reads the published figures, rounded to 5: 25 of 30, 83.3 %,
        # amber against a target of 90 %.
        assert published(excl_kpi(hub_settings)) == (25, 30, 83.3, "amber")

        # The SEN team corrects Dev's number and publishes the whole file again.
        extract.write_text(extract.read_text().replace(mistyped, dev))
        corrected = run_hub(hub_settings, "produce", "--source", "education", str(extract))
        assert corrected.returncode == 0, corrected.stderr
        wait_for(lambda: stored(hub_settings, 35), timeout=60, what="Dev's plan stored")

        # Nobody's plan is counted twice; Dev's now counts, on time: 28 of 33 (84.8 %),
        # published as 30 of 35, 85.7 %, still amber.
        assert published(excl_kpi(hub_settings)) == (30, 35, 85.7, "amber")

    # The same figure comes out of the command line a commissioner would use.
    table = run_hub(hub_settings, "scorecard")
    assert "85.7" in table.stdout and "AMBER" in table.stdout and "30 / 35" in table.stdout
