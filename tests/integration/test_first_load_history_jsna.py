"""A first load through the stack: six years of plan history, person details dated today,
and the JSNA at past month ends equal to a plain computation from the rows (issue 10, point 2).

The area (`producers/synthetic/plan_history.py`) has requests, issued and ceased plans,
census records and social care cases from September 2020, and one person-details extract
dated its last day. It is published as a council would (`hub backfill`: plans first,
details last) and, on a fresh database, file by file in the reverse order (`hub produce`,
details first), to a running worker. At four past month ends the JSNA by age band, sex,
need and locality must equal `truth.jsna_cells_from_rows`, which reads only the rows.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from hub.commands.backfill import recognise
from hub.settings import HubSettings
from producers.synthetic.plan_history import history_area, history_profile, write_history_area
from producers.synthetic.truth import PERSON_DIMENSIONS, jsna_cells_from_rows
from tests.support.processes import run_hub, running, wait_for
from warehouse.cohort_store import jsna_cells_at
from warehouse.connection import connect

# Before any plan or census (social care and requests only), then 5, 3 and 1 years back.
AS_AT = (dt.date(2020, 12, 31), dt.date(2021, 12, 31), dt.date(2023, 12, 31), dt.date(2025, 12, 31))


def _stored(settings: HubSettings) -> int:
    with connect(settings.warehouse_dsn()) as conn:
        row = conn.execute("SELECT count(*) FROM events").fetchone()
    return int(row[0]) if row else 0


@pytest.mark.parametrize("order", ["backfill", "reversed"])
def test_a_first_load_gives_the_jsna_of_the_records_at_past_month_ends(
    hub_settings: HubSettings, tmp_path: Path, order: str
) -> None:
    profile = history_profile()
    area = history_area(profile, seed=5, scale=0.5)
    written = write_history_area(area, tmp_path / "area")
    assert profile.start == dt.date(2020, 9, 1)
    assert {
        row["recorded_date"] for row in area.extracts.rows[("education", "person_details")]
    } == {profile.end.isoformat()}
    loaded = run_hub(hub_settings, "reference", "load", str(tmp_path / "area" / "reference"))
    assert loaded.returncode == 0, loaded.stderr
    extracts = tmp_path / "area" / "extracts"

    with running(hub_settings, "streams", tmp_path / "worker.log"):
        if order == "backfill":
            sent = run_hub(hub_settings, "backfill", str(extracts), timeout=300)
            assert sent.returncode == 0, sent.stdout + sent.stderr
        else:
            files, unknown = recognise(extracts)
            assert not unknown and files[-1].extract == "person_details"
            for item in reversed(files):
                sent = run_hub(
                    hub_settings,
                    "produce",
                    "--source",
                    item.source,
                    "--extract",
                    item.extract,
                    str(item.path),
                )
                assert sent.returncode == 0, sent.stdout + sent.stderr
        rows = sum(written.values())
        wait_for(
            lambda: _stored(hub_settings) == rows or None,
            timeout=120,
            what=f"{rows} events stored",
        )

    with connect(hub_settings.warehouse_dsn()) as conn:
        statuses_seen: set[str] = set()
        for as_at in AS_AT:
            hub = {
                cell: n
                for cell, n in jsna_cells_at(conn, as_at).items()
                if cell[1] in PERSON_DIMENSIONS and n
            }
            expected = jsna_cells_from_rows(area.extracts.rows, area.reference, as_at)
            statuses_seen.update(status for status, _, _ in expected)
            assert hub == expected, as_at
    assert statuses_seen == {"EHC_PLAN", "SEN_SUPPORT", "NONE", "UNKNOWN"}
