"""A plan sent with the wrong issue date is corrected, and one sent in error is withdrawn.

Told as the council's SEN team and a commissioner would live it, against the real
broker, PostgreSQL and faust worker: the 20-week KPI changes in both months the
correction touches, the event store keeps every revision and the supersession, a
stale copy of the first extract sent again changes nothing, and a replay of the
event store gives the same figures.
"""

from __future__ import annotations

from pathlib import Path

import psycopg

from hub.settings import HubSettings
from tests.scenario.test_plan_timeliness_story import nhs_number
from tests.support.processes import run_hub, running, wait_for

HEADER = "plan_reference,nhs_number,request_date,issue_date,permitted_exception,primary_need"
KPI = "ehcp_20_weeks_excl_exceptions"


def month_figure(settings: HubSettings, month: str) -> tuple[int, int] | None:
    """The KPI's numerator and denominator for one month, as the hub holds them.

    Read from the measures in PostgreSQL, not from `hub scorecard`: counts this small
    are published as `c`, and this story is about corrections, not publication.
    """
    try:
        with psycopg.connect(settings.warehouse_dsn()) as conn:
            row = conn.execute(
                "SELECT numerator, denominator FROM kpi_measures WHERE kpi_id = %s AND period = %s",
                (KPI, f"{month}-01"),
            ).fetchone()
    except psycopg.OperationalError:
        return None
    return (int(row[0]), int(row[1])) if row else (0, 0)


def figures(settings: HubSettings) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
    return month_figure(settings, "2025-06"), month_figure(settings, "2025-07")


def wait_for_figures(
    settings: HubSettings, june: tuple[int, int], july: tuple[int, int], what: str
) -> None:
    wait_for(lambda: True if figures(settings) == (june, july) else None, timeout=120, what=what)


def test_a_wrong_issue_date_is_corrected_and_a_plan_sent_in_error_is_withdrawn(
    hub_settings: HubSettings, tmp_path: Path
) -> None:
    amira, ben, chloe, dev = (nhs_number(n) for n in (111, 222, 333, 444))
    # Amira's request came on 3 February; the case system says her plan was issued on
    # 2 June (17 weeks, on time), but that was the draft: the final plan was 28 July
    # (25 weeks, late). Ben's and Chloe's plans are right. Dev's plan belongs to the
    # neighbouring council and was exported by mistake.
    first = tmp_path / "plans_2025.csv"
    first.write_text(
        "\n".join(
            [
                HEADER,
                f"SEN-101,{amira},2025-02-03,2025-06-02,N,ASD",
                f"SEN-102,{ben},2025-03-03,2025-06-16,N,SEMH",
                f"SEN-103,{chloe},2025-03-10,2025-07-14,N,SLCN",
                f"SEN-104,{dev},2025-03-03,2025-07-21,N,MLD",
            ]
        )
        + "\n"
    )
    correction = tmp_path / "plans_corrections.csv"
    correction.write_text(
        f"{HEADER},withdrawn\n"
        f"SEN-101,{amira},2025-02-03,2025-07-28,N,ASD,N\n"
        "SEN-104,,,,,,Y\n"  # a withdrawal needs only the plan's reference
    )

    with running(hub_settings, "streams", tmp_path / "worker.log"):
        sent = run_hub(hub_settings, "produce", "--source", "education", str(first))
        assert sent.returncode == 0, sent.stderr
        # June: Amira and Ben on time, 2 of 2. July: Chloe and Dev on time, 2 of 2.
        wait_for_figures(hub_settings, (2, 2), (2, 2), "the first extract on the scorecard")

        fixed = run_hub(hub_settings, "produce", "--source", "education", str(correction))
        assert fixed.returncode == 0, fixed.stderr
        assert dev not in fixed.stdout + fixed.stderr
        # June loses Amira: Ben's 1 of 1. July gains her, late, and loses Dev: 1 of 2.
        wait_for_figures(hub_settings, (1, 1), (1, 2), "the correction on the scorecard")

        # An old copy of the first file goes out again, with Erin's August plan added:
        # its old rows are the revisions the hub already holds, and they stay superseded.
        erin = nhs_number(555)
        stale = tmp_path / "plans_2025_again.csv"
        stale.write_text(first.read_text() + f"SEN-105,{erin},2025-04-07,2025-08-04,N,ASD\n")
        again = run_hub(hub_settings, "produce", "--source", "education", str(stale))
        assert again.returncode == 0, again.stderr
        wait_for(
            lambda: month_figure(hub_settings, "2025-08") == (1, 1) or None,
            timeout=120,
            what="Erin's plan on the scorecard",
        )
        assert figures(hub_settings) == ((1, 1), (1, 2))

    with psycopg.connect(hub_settings.warehouse_dsn()) as conn:
        kinds = dict(
            conn.execute("SELECT event_type, count(*) FROM events GROUP BY event_type").fetchall()
        )
        assert kinds == {"EhcPlanIssued": 6, "RecordWithdrawn": 1}  # both of Amira's kept
        superseded = conn.execute(
            """
            SELECT old.payload->>'issue_date', new.event_type, new.payload->>'issue_date'
            FROM event_supersessions s
            JOIN events old ON old.event_id = s.event_id
            JOIN events new ON new.event_id = s.superseded_by
            ORDER BY 1
            """
        ).fetchall()
        assert superseded == [
            ("2025-06-02", "EhcPlanIssued", "2025-07-28"),  # Amira's draft date, corrected
            ("2025-07-21", "RecordWithdrawn", None),  # Dev's plan, withdrawn
        ]

    replayed = run_hub(hub_settings, "replay")
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert figures(hub_settings) == ((1, 1), (1, 2))
