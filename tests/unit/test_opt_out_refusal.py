"""An opted-out subject's event is refused keeping only its id, reason and time.

The gatekeeper drops the bytes itself, so neither the quarantine table nor the
quarantine topic downstream can hold them; every other refusal keeps its bytes for a
re-check.
"""

from __future__ import annotations

import datetime as dt
import uuid

from contracts.loading import shipped_contracts
from schemas.catalogue import default_catalogue
from streams.gatekeeper import Gate
from streams.ingest import RawMessage, sort_messages
from tests.unit.test_gatekeeper import referral

RECEIVED = dt.datetime(2026, 3, 3, 9, tzinfo=dt.UTC)


def test_the_refusal_of_an_opted_out_subjects_event_keeps_its_id_and_no_bytes() -> None:
    gate = Gate(shipped_contracts(), opted_out=frozenset({"n-opted"}))
    event_id = uuid.uuid4()
    opted = referral(event_id=str(event_id), subject={"nhs_pseudonym": "n-opted"})
    wrong_key = referral(subject={"nhs_pseudonym": "n-opted", "key_id": "key-9"})
    messages = [
        RawMessage("health.events", 0, i, m, RECEIVED) for i, m in enumerate([opted, wrong_key])
    ]
    batch = sort_messages(default_catalogue(), messages, gate)
    [opted_out, other] = batch.refusals
    assert (opted_out.reason, opted_out.event_id, opted_out.keeps_bytes) == (
        "subject_opted_out",
        event_id,
        False,
    )
    assert opted_out.message.value == b"" and opted_out.message.offset == 0
    assert (other.reason, other.keeps_bytes, other.message.value) == ("wrong_key", True, wrong_key)
