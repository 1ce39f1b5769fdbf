"""Releasing a quarantined message once its cause is fixed: re-checked, admitted, recorded."""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from contracts.decisions import Area
from contracts.loading import shipped_contracts
from producers.identity import Pseudonymiser
from producers.synthetic.nhs_numbers import synthetic_nhs_number
from schemas.catalogue import SCHEMA_DIR, Catalogue, default_catalogue, load_schema
from schemas.codec import encode
from streams.gatekeeper import Gate
from streams.projection import ProjectionSettings
from streams.worker.release import NoBytesKept, NotQuarantined, release
from warehouse.quarantine import count_by_reason, quarantine


def _plan_v3(tmp_path: Path) -> Catalogue:
    """A newer EhcPlanIssued the hub's catalogue does not know yet (one optional field more)."""
    definition = json.loads((SCHEMA_DIR / "ehc_plan_issued.v2.avsc").read_text())
    definition["version"] = 3
    definition["fields"].append({"name": "review_due", "type": ["null", "string"], "default": None})
    path = tmp_path / "ehc_plan_issued.v3.avsc"
    path.write_text(json.dumps(definition))
    return Catalogue((*default_catalogue().schemas, load_schema(path)))


def _v3_message(catalogue: Catalogue) -> tuple[bytes, str]:
    pseudonymiser = Pseudonymiser(b"k" * 32, "key-1")
    event_id = str(uuid.uuid4())
    record = {
        "event_id": event_id,
        "event_type": "EhcPlanIssued",
        "schema_version": 3,
        "occurred_at": dt.datetime(2026, 3, 2, tzinfo=dt.UTC),
        "recorded_at": dt.datetime(2026, 3, 3, tzinfo=dt.UTC),
        "source_system": "education",
        "contract_id": "leics-send-sharing-2026",
        "area_code": "E10000018",
        "extract_id": None,
        "record_id": None,
        "subject": {
            "nhs_pseudonym": pseudonymiser.nhs_pseudonym(synthetic_nhs_number(random.Random(1))),
            "upn_pseudonym": None,
            "key_id": "key-1",
        },
        "request_date": dt.date(2025, 11, 3),
        "issue_date": dt.date(2026, 3, 2),
        "permitted_exception": False,
        "primary_need": "ASD",
        "review_due": "2027-03",
    }
    return encode(catalogue.latest("EhcPlanIssued"), record), event_id


def test_a_message_is_released_once_its_schema_is_known(warehouse_dsn: str, tmp_path: Path) -> None:
    newer = _plan_v3(tmp_path)
    data, event_id = _v3_message(newer)
    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        quarantine(conn, [("education.events", 1, 40, "schema_unknown", "fingerprint", data)])
        [message_id] = [r[0] for r in conn.execute("SELECT id FROM quarantined_messages")]
        settings = ProjectionSettings()

        still = release(conn, message_id, default_catalogue(), settings)
        assert (still.released, still.reason) == (False, "schema_unknown")
        assert count_by_reason(conn) == {"schema_unknown": 1}

        released = release(conn, message_id, newer, settings)
        assert released.released and released.event_id == event_id
        stored = conn.execute("SELECT event_type, schema_version FROM events").fetchall()
        assert stored == [("EhcPlanIssued", 3)]
        assert count_by_reason(conn) == {}
        kpi = conn.execute("SELECT sum(denominator) FROM kpi_measures").fetchone()
        assert kpi is not None and kpi[0] > 0
        assert conn.execute("SELECT count(*) FROM cohort_history").fetchone() == (1,)

        again = release(conn, message_id, newer, settings)
        assert again.reason == "already_released"
        assert conn.execute("SELECT count(*) FROM events").fetchone() == (1,)
        with pytest.raises(NotQuarantined):
            release(conn, message_id + 1000, newer, settings)


def _referral_recorded(recorded_at: dt.datetime) -> bytes:
    """A health partner's referral, as recorded on its side on `recorded_at`."""
    catalogue = default_catalogue()
    record = {
        "event_id": str(uuid.uuid4()),
        "event_type": "TherapyReferralReceived",
        "schema_version": 1,
        "occurred_at": recorded_at,
        "recorded_at": recorded_at,
        "source_system": "health",
        "contract_id": "leics-send-sharing-2026",
        "area_code": "E10000018",
        "extract_id": None,
        "subject": {"nhs_pseudonym": "n-release", "upn_pseudonym": None, "key_id": "key-1"},
        "therapy_type": "SALT",
        "referral_date": recorded_at.date(),
        "referral_source": None,
    }
    return encode(catalogue.latest("TherapyReferralReceived"), record)


def test_a_release_judges_the_contract_on_the_day_the_hub_first_received_the_message(
    warehouse_dsn: str,
) -> None:
    """Under a contract that ended on 30 June 2026, a message received in March is released
    (whatever its `recorded_at` says, and although the release happens after the end),
    and one received in July stays refused: the quarantine row's `received_at` decides."""
    shipped = shipped_contracts()["leics-send-sharing-2026"]
    ended = shipped.model_copy(update={"valid_to": dt.date(2026, 6, 30)})
    gate = Gate({ended.contract_id: ended}, area=Area(ended.contract_id, "E10000018"))
    recorded_late = _referral_recorded(dt.datetime(2026, 8, 1, tzinfo=dt.UTC))
    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        quarantine(
            conn,
            [
                ("health.events", 0, 1, "schema_unknown", "before the fix", recorded_late),
                ("health.events", 0, 2, "schema_unknown", "before the fix", recorded_late),
            ],
        )
        received = {1: dt.datetime(2026, 3, 3, 9, tzinfo=dt.UTC)}
        received[2] = dt.datetime(2026, 7, 1, 9, tzinfo=dt.UTC)
        for offset, at in received.items():
            conn.execute(
                'UPDATE quarantined_messages SET received_at = %s WHERE "offset" = %s',
                (at, offset),
            )
        rows = conn.execute('SELECT "offset", id FROM quarantined_messages').fetchall()
        ids: dict[int, int] = dict(rows)
        in_time = release(conn, ids[1], default_catalogue(), ProjectionSettings(), gate)
        too_late = release(conn, ids[2], default_catalogue(), ProjectionSettings(), gate)
    assert in_time.released
    assert (too_late.released, too_late.reason) == (False, "contract_not_in_force")


def test_a_refusal_that_kept_no_bytes_cannot_be_released_and_says_why(
    postgres_server: Any, warehouse_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An opted-out subject's event keeps only its id, reason and time: nothing to re-check;
    and a held message whose subject opts out loses its bytes at its next re-check."""
    from typer.testing import CliRunner

    from hub.cli import app
    from hub.settings import HubSettings
    from warehouse.quarantine import quarantine_without_bytes

    settings = HubSettings(
        state_dir=tmp_path / "hub",
        warehouse_host=postgres_server.host,
        warehouse_port=postgres_server.port,
        warehouse_database=warehouse_database,
    )
    for name, value in settings.as_env().items():
        monkeypatch.setenv(name, value)
    event_id = uuid.uuid4()
    with psycopg.connect(settings.warehouse_dsn(), autocommit=True) as conn:
        row = ("health.events", 0, 9, "subject_opted_out", "the national data opt-out applies")
        quarantine_without_bytes(conn, [(*row, event_id)])
        [(message_id, kept)] = conn.execute(
            "SELECT id, message FROM quarantined_messages WHERE event_id = %s", (event_id,)
        ).fetchall()
        assert kept is None
        with pytest.raises(NoBytesKept):
            release(conn, message_id, default_catalogue(), ProjectionSettings())

        # held with its bytes for another reason; its subject opts out before the re-check
        data = _referral_recorded(dt.datetime(2026, 3, 3, tzinfo=dt.UTC))
        quarantine(conn, [("health.events", 0, 10, "schema_unknown", "fingerprint", data)])
        [held_id] = [r[0] for r in conn.execute("SELECT id FROM quarantined_messages")][1:]
        gate = Gate(shipped_contracts(), frozenset({"n-release"}), None)
        still = release(conn, held_id, default_catalogue(), ProjectionSettings(), gate)
        assert (still.released, still.reason) == (False, "subject_opted_out")
        assert conn.execute(
            "SELECT message IS NULL, event_id IS NOT NULL FROM quarantined_messages WHERE id = %s",
            (held_id,),
        ).fetchone() == (True, True)
    result = CliRunner().invoke(app, ["quarantine", "release", str(message_id)])
    assert result.exit_code == 2
    assert f"quarantined message {message_id} keeps no bytes (subject_opted_out)" in (
        " ".join(result.output.split())
    )
