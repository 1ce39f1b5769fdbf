"""The council's SEN team shares its issued plans, fixes a refused row, and the KPI moves.

Told as a commissioner would read it: each step is a real command against the real
broker, PostgreSQL, faust worker and API.
"""

import datetime as dt
from pathlib import Path

from hub.settings import HubSettings
from producers.synthetic.nhs_numbers import check_digit
from tests.support.processes import api_json, run_hub, running, wait_for

HEADER = "plan_reference,nhs_number,request_date,issue_date,permitted_exception,primary_need"


def nhs_number(serial: int) -> str:
    """A synthetic NHS number in the 999 test range with a valid check digit."""
    while True:
        first_nine = f"999{serial:06d}"
        digit = check_digit(first_nine)
        if digit is not None:
            return f"{first_nine}{digit}"
        serial += 1


def weeks_after(day: str, weeks: int) -> str:
    return (dt.date.fromisoformat(day) + dt.timedelta(weeks=weeks)).isoformat()


def excl_kpi(settings: HubSettings) -> dict[str, object] | None:
    document = api_json(settings, "/scorecard")
    if document is None:
        return None
    kpis = document["kpis"]
    assert isinstance(kpis, list)
    return next(k for k in kpis if k["id"] == "ehcp_20_weeks_excl_exceptions")


def excl_kpi_counting(settings: HubSettings, plans: int) -> dict[str, object] | None:
    """The excluding-exceptions KPI once its denominator has reached `plans`."""
    kpi = excl_kpi(settings)
    return kpi if kpi is not None and kpi["denominator"] == plans else None


def test_a_quarter_of_plans_reaches_the_commissioners_scorecard(
    hub_settings: HubSettings, tmp_path: Path
) -> None:
    amira, ben, chloe, dev = (nhs_number(n) for n in (101, 202, 303, 404))
    mistyped = dev[:-1] + str((int(dev[-1]) + 1) % 10)

    # Amira's request arrives on 6 January; her plan is issued in week 19: on time.
    # Ben's request arrives on 3 February; his plan is issued in week 23: late.
    # Chloe's plan takes 26 weeks, but a permitted exception (the summer holiday) applies.
    # Dev's plan is issued in week 18, but the council mistypes his NHS number.
    rows = [
        f"SEN-001,{amira},2025-01-06,{weeks_after('2025-01-06', 19)},N,ASD",
        f"SEN-002,{ben},2025-02-03,{weeks_after('2025-02-03', 23)},N,SEMH",
        f"SEN-003,{chloe},2025-03-10,{weeks_after('2025-03-10', 26)},Y,SLCN",
        f"SEN-004,{mistyped},2025-04-07,{weeks_after('2025-04-07', 18)},N,MLD",
    ]
    extract = tmp_path / "plans_q1.csv"
    extract.write_text("\n".join([HEADER, *rows]) + "\n")

    with (
        running(hub_settings, "streams", tmp_path / "worker.log"),
        running(hub_settings, "hub.api", tmp_path / "api.log"),
    ):
        # The SEN team publishes: Dev's row is refused on line 5, and nobody sees his number.
        published = run_hub(hub_settings, "produce", "--source", "education", str(extract))
        assert published.returncode == 1
        assert "line 5: invalid_nhs_number" in published.stderr
        assert mistyped not in published.stderr + published.stdout

        # The commissioner sees one plan of two on time (Chloe's is excepted): 50 %, red.
        kpi = wait_for(
            lambda: excl_kpi_counting(hub_settings, plans=2),
            timeout=120,
            what="the first extract on the scorecard",
        )
        assert (kpi["numerator"], kpi["percentage"], kpi["rag"]) == (1, 50.0, "red")

        # The SEN team corrects Dev's number and publishes the whole file again.
        extract.write_text(extract.read_text().replace(mistyped, dev))
        corrected = run_hub(hub_settings, "produce", "--source", "education", str(extract))
        assert corrected.returncode == 0, corrected.stderr

        # Amira's, Ben's and Chloe's plans are not counted twice; Dev's now counts, on time.
        kpi = wait_for(
            lambda: excl_kpi_counting(hub_settings, plans=3),
            timeout=60,
            what="the corrected extract on the scorecard",
        )
        assert (kpi["numerator"], kpi["percentage"], kpi["rag"]) == (2, 66.7, "red")

    # The same figure comes out of the command line a commissioner would use.
    table = run_hub(hub_settings, "scorecard")
    assert "66.7" in table.stdout and "RED" in table.stdout
