"""Releasing a quarantined message once its cause is fixed: re-checked, admitted, recorded."""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from pathlib import Path

import psycopg
import pytest

from producers.identity import Pseudonymiser
from producers.synthetic.nhs_numbers import synthetic_nhs_number
from schemas.catalogue import SCHEMA_DIR, Catalogue, default_catalogue, load_schema
from schemas.codec import encode
from streams.projection import ProjectionSettings
from streams.worker.release import NotQuarantined, release
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
