"""`hub subject-access`: what the hub holds about one person, and every look-up logged.

Two people's events go through the worker's unit of work into real PostgreSQL; the
look-up for one lists exactly that person's events and register history, nothing of
the other's, and adds one access-log row that does not hold the pseudonym.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.settings import HubSettings
from streams.cohort import EHC_PLAN, SEN_SUPPORT
from streams.worker.unit_of_work import apply_batch
from tests.unit.test_cohort_projection import SETTINGS, event
from warehouse.connection import connect
from warehouse.quarantine import quarantine

D = dt.date
ALICE_NHS, ALICE_UPN, BOB_NHS = "a" * 64, "c" * 64, "b" * 64
ROUTE = "hub subject-access"


def _plan(issued: dt.date, need: str) -> dict[str, Any]:
    requested = issued - dt.timedelta(days=100)
    return {
        "request_date": requested.isoformat(),
        "issue_date": issued.isoformat(),
        "permitted_exception": False,
        "primary_need": need,
    }


@pytest.fixture
def settings(tmp_path: Path, postgres_server: Any, warehouse_database: str) -> HubSettings:
    return HubSettings(
        state_dir=tmp_path / "hub",
        warehouse_host=postgres_server.host,
        warehouse_port=postgres_server.port,
        warehouse_database=warehouse_database,
    )


@pytest.fixture
def hub(settings: HubSettings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for key, value in settings.as_env().items():
        monkeypatch.setenv(key, value)
    return CliRunner()


@pytest.fixture
def two_people(settings: HubSettings) -> dict[str, set[str]]:
    """Alice (known by NHS pseudonym and, once linked, by UPN) and Bob; their event ids."""
    alice = [
        event("SenSupportRecorded", D(2024, 1, 18), {"sen_status": "K"}, upn=ALICE_UPN),
        event("EhcPlanIssued", D(2024, 9, 2), _plan(D(2024, 9, 2), "ASD"), nhs=ALICE_NHS),
        event(
            "PersonDetailsRecorded",
            D(2024, 4, 1),
            {"month_of_birth": "2015-01"},
            nhs=ALICE_NHS,
            upn=ALICE_UPN,
        ),
    ]
    bob = [
        event("SenSupportRecorded", D(2024, 2, 1), {"sen_status": "K"}, nhs=BOB_NHS),
        event("EhcPlanIssued", D(2025, 1, 6), _plan(D(2025, 1, 6), "SLCN"), nhs=BOB_NHS),
    ]
    with psycopg.connect(settings.warehouse_dsn(), autocommit=True) as conn:
        apply_batch(conn, alice[:1] + bob[:1], projection=SETTINGS)
        apply_batch(conn, alice[1:] + bob[1:], projection=SETTINGS)
        quarantine(conn, [("t.education", 0, 7, "invalid_avro", "bad", b"x" + BOB_NHS.encode())])
    return {
        "alice": {str(e.event_id) for e in alice},
        "bob": {str(e.event_id) for e in bob},
    }


def _access_rows(settings: HubSettings) -> list[tuple[Any, ...]]:
    with connect(settings.warehouse_dsn()) as conn:
        return conn.execute(
            "SELECT token_name, role, method, route, parameters, status, rows_returned"
            " FROM access_log WHERE route = %s ORDER BY id",
            (ROUTE,),
        ).fetchall()


def _look_up(hub: CliRunner, pseudonym: str, *options: str) -> Any:
    result = hub.invoke(
        app,
        ["subject-access", pseudonym, "--requested-by", "ig-officer", *options],
        env={"COLUMNS": "250"},
    )
    assert result.exit_code == 0, result.output
    return result


def test_a_look_up_lists_exactly_that_persons_events_and_register_history(
    hub: CliRunner, settings: HubSettings, two_people: dict[str, set[str]]
) -> None:
    # by the UPN pseudonym alone: linkage brings in the events carrying the NHS one too
    found = json.loads(_look_up(hub, ALICE_UPN, "--format", "json").stdout)
    assert {e["event_id"] for e in found["events"]} == two_people["alice"]
    assert found["events_by_type"] == {
        "EhcPlanIssued": 1,
        "PersonDetailsRecorded": 1,
        "SenSupportRecorded": 1,
    }
    assert all(set(e) >= {"event_type", "occurred_at", "recorded_at"} for e in found["events"])
    assert not any("payload" in e for e in found["events"])
    [person] = found["person_ids"]
    assert found["linked_pseudonyms"] == 2
    history = found["register_history"]
    assert [s["send_status"] for s in history][-2:] == [SEN_SUPPORT, EHC_PLAN]
    assert {s["person_id"] for s in history} == {person}
    [current] = found["register_current"]
    assert current["valid_to"] is None and current["state"]["primary_need"] == "ASD"
    caused = {cause for span in history for cause in span["caused_by"]}
    assert caused <= two_people["alice"] and caused
    assert found["quarantined_messages"] == 0
    text = json.dumps(found)
    assert not any(event_id in text for event_id in two_people["bob"])
    assert BOB_NHS not in text

    with connect(settings.warehouse_dsn()) as conn:
        spans = conn.execute(
            "SELECT count(*) FROM cohort_history WHERE person_id = %s", (person,)
        ).fetchone()
    assert spans == (len(history),)

    bob = json.loads(_look_up(hub, BOB_NHS, "--format", "json").stdout)
    assert {e["event_id"] for e in bob["events"]} == two_people["bob"]
    assert bob["quarantined_messages"] == 1 and bob["person_ids"] != found["person_ids"]

    table = _look_up(hub, ALICE_NHS)
    assert "EhcPlanIssued" in table.stdout and "Register history" in table.stdout
    assert "primary_need" in table.stdout and "SLCN" not in table.stdout


def test_every_look_up_is_logged_without_the_pseudonym(
    hub: CliRunner,
    settings: HubSettings,
    two_people: dict[str, set[str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    _look_up(hub, ALICE_NHS, "--format", "json")
    _look_up(hub, ALICE_NHS)
    rows = _access_rows(settings)
    assert len(rows) == 2
    for token_name, role, method, route, parameters, status, rows_returned in rows:
        assert (token_name, role, method, route, status) == (
            "ig-officer",
            "admin",
            "CLI",
            ROUTE,
            200,
        )
        assert parameters["subject"] == "given"
        assert rows_returned is not None and rows_returned >= 3
    with connect(settings.warehouse_dsn()) as conn:
        whole_log = conn.execute("SELECT to_jsonb(a)::text FROM access_log a").fetchall()
    assert not any(ALICE_NHS in row[0] or ALICE_UPN in row[0] for row in whole_log)
    assert not any(
        ALICE_NHS in record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.INFO
    )


def test_an_unknown_pseudonym_lists_nothing_and_is_still_logged(
    hub: CliRunner, settings: HubSettings, two_people: dict[str, set[str]]
) -> None:
    unknown = "d" * 64
    table = _look_up(hub, unknown)
    assert "the hub holds nothing linked to this pseudonym" in table.stdout
    found = json.loads(_look_up(hub, unknown, "--format", "json").stdout)
    assert found["holds_anything"] is False
    assert (found["events"], found["register_history"], found["person_ids"]) == ([], [], [])
    rows = _access_rows(settings)
    assert [(r[0], r[4]["subject"], r[6]) for r in rows] == [
        ("ig-officer", "given", 0),
        ("ig-officer", "given", 0),
    ]


def test_the_requester_must_be_named(hub: CliRunner, settings: HubSettings) -> None:
    missing = hub.invoke(app, ["subject-access", ALICE_NHS])
    assert missing.exit_code == 2
    blank = hub.invoke(app, ["subject-access", ALICE_NHS, "--requested-by", " "])
    assert blank.exit_code == 2
    assert _access_rows(settings) == []
