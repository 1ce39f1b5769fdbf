"""One child's journey across three partners, as the cohort register sees it.

Maya is known to the council's SEN team by her pupil number and to the NHS by her
NHS number. Her school census, the community health trust and children's social
care each publish what they know, in their own extracts, in no particular
order. The hub joins the pieces up: one person, one history, each change with
the event that caused it; her plan counts towards the 20-week KPI; the JSNA
counts her once. Every step is a real `hub produce` against the real broker,
PostgreSQL and faust worker.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from stdnum.gb.upn import calc_check_digit

from hub.settings import HubSettings
from producers.synthetic.nhs_numbers import synthetic_nhs_number
from schemas.topics import SOURCE_TOPICS, ensure_topics
from tests.support.processes import run_hub, running, wait_for
from warehouse.cohort_store import PostgresProjectionStore
from warehouse.connection import connect

NHS = synthetic_nhs_number(random.Random(2026))
UPN_BODY = "855200115042"
UPN = calc_check_digit(UPN_BODY) + UPN_BODY


def publish(settings: HubSettings, tmp_path: Path, source: str, extract: str, csv: str) -> None:
    path = tmp_path / f"{source}-{extract}.csv"
    path.write_text(csv)
    result = run_hub(settings, "produce", "--source", source, "--extract", extract, str(path))
    assert result.returncode == 0, result.stderr
    assert NHS not in result.stdout + result.stderr and UPN not in result.stdout + result.stderr


def stored_events(settings: HubSettings) -> int:
    with connect(settings.warehouse_dsn()) as conn:
        row = conn.execute("SELECT count(*) FROM events").fetchone()
    return int(row[0]) if row else 0


def test_maya_from_request_to_plan_to_annual_review_across_three_partners(
    hub_settings: HubSettings, tmp_path: Path
) -> None:
    ensure_topics(hub_settings.broker_bootstrap, [hub_settings.topic(t) for t in SOURCE_TOPICS])
    with running(hub_settings, "streams", tmp_path / "worker.log"):
        # The annual review arrives first: a late-running partner extract, out of order.
        publish(
            hub_settings,
            tmp_path,
            "education",
            "annual_reviews",
            "plan_reference,review_date,nhs_number,upn,due_date,outcome,young_person_involved\n"
            f"PLAN-7,2026-05-20,,{UPN},2026-06-01,MAINTAIN,Y\n",
        )
        # Social care opened a child-in-need case and recorded her SEND status.
        publish(
            hub_settings,
            tmp_path,
            "socialcare",
            "cases_opened",
            "case_id,opened_date,nhs_number,upn,case_type,send_status_recorded,send_status\n"
            f"CIN-9,2025-02-10,{NHS},,CIN,Y,SEN_SUPPORT\n",
        )
        # The community trust: a speech and language referral, then her first appointment.
        publish(
            hub_settings,
            tmp_path,
            "health",
            "therapy_referrals",
            "REFERRAL_ID,NHS_NUMBER,SERVICE,REFERRAL_DATE,REFERRAL_SOURCE\n"
            f"R-1,{NHS},SLT,2025-01-06,SCHOOL_OR_SETTING\n",
        )
        publish(
            hub_settings,
            tmp_path,
            "health",
            "therapy_first_appointments",
            "REFERRAL_ID,NHS_NUMBER,SERVICE,REFERRAL_DATE,APPOINTMENT_DATE,APPOINTMENT_PURPOSE\n"
            f"R-1,{NHS},SLT,2025-01-06,2025-02-03,ASSESSMENT\n",
        )
        # The council: her details (UPN and NHS number together, so the two records join),
        # the request for assessment, and the plan 18 weeks later.
        publish(
            hub_settings,
            tmp_path,
            "education",
            "person_details",
            "upn,nhs_number,recorded_date,date_of_birth,sex,ethnicity_group,lsoa_code\n"
            f"{UPN},{NHS},2024-09-05,2016-04-11,FEMALE,MIXED,E01025671\n",
        )
        publish(
            hub_settings,
            tmp_path,
            "education",
            "assessment_requests",
            "request_id,request_date,nhs_number,upn,requested_by\n"
            f"REQ-3,2025-03-03,{NHS},{UPN},PAR\n",
        )
        plan_path = tmp_path / "plans.csv"
        plan_path.write_text(
            "plan_reference,nhs_number,upn,request_date,issue_date,permitted_exception,primary_need\n"
            f"PLAN-7,{NHS},{UPN},2025-03-03,2025-07-07,N,SLCN\n"
        )
        plan = run_hub(hub_settings, "produce", "--source", "education", str(plan_path))
        assert plan.returncode == 0, plan.stderr

        wait_for(lambda: stored_events(hub_settings) == 7 or None, timeout=120, what="7 events")

    with connect(hub_settings.warehouse_dsn()) as conn:
        people = conn.execute("SELECT DISTINCT person_id FROM person_links").fetchall()
        assert len(people) == 1, "her NHS and pupil records are one person"
        [(person_id,)] = people
        spans = PostgresProjectionStore(conn).histories([person_id])[person_id]
        kpi = conn.execute(
            "SELECT numerator, denominator FROM kpi_measures"
            " WHERE kpi_id = 'ehcp_20_weeks_excl_exceptions'"
        ).fetchall()
        cell = conn.execute(
            "SELECT send_status, people FROM jsna_cells"
            " WHERE as_at = '2025-07-31' AND dimension = 'all'"
        ).fetchall()

    def on(day: str) -> dict[str, object]:
        [span] = [
            s
            for s in spans
            if s.valid_from <= dt.date.fromisoformat(day)
            and (s.valid_to is None or dt.date.fromisoformat(day) < s.valid_to)
        ]
        return span.state.as_dict()

    # January 2025: waiting for speech and language therapy; not yet known to have SEN.
    assert on("2025-01-20")["open_therapy_waits"] == [["SALT", "2025-01-06"]]
    assert on("2025-01-20")["send_status"] == "UNKNOWN"
    # February: seen within 4 weeks; a child-in-need case is open.
    assert on("2025-02-15")["open_therapy_waits"] == []
    assert on("2025-02-15")["flags"]["child_in_need"] is True  # type: ignore[index]
    # July: her EHC plan is issued; need recorded as speech, language and communication.
    july = on("2025-07-10")
    assert (july["send_status"], july["primary_need"]) == ("EHC_PLAN", "SLCN")
    assert (july["sex"], july["ethnicity_group"], july["month_of_birth"]) == (
        "FEMALE",
        "MIXED",
        "2016-04",
    )
    # Each change names the event that caused it; the plan's span starts on its issue day.
    plan_span = next(s for s in spans if s.valid_from == dt.date(2025, 7, 7))
    assert len(plan_span.caused_by) == 1
    # Issued 18 weeks after the request: on time, counted once.
    assert kpi == [(1, 1)]
    # The JSNA counts her once, as a child with an EHC plan, at the end of July 2025.
    assert cell == [("EHC_PLAN", 1)]
