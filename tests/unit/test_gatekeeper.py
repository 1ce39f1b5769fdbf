"""The gatekeeper's pure sorting: decodable events inside their contract pass, the rest say why."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from contracts.loading import shipped_contracts
from schemas.catalogue import default_catalogue
from schemas.codec import encode
from streams.gatekeeper import Gate
from streams.ingest import RawMessage, sort_messages

CATALOGUE = default_catalogue()


def referral(**envelope: Any) -> bytes:
    record: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "event_type": "TherapyReferralReceived",
        "schema_version": 1,
        "occurred_at": dt.datetime(2026, 3, 2, tzinfo=dt.UTC),
        "recorded_at": dt.datetime(2026, 3, 3, tzinfo=dt.UTC),
        "source_system": "health",
        "contract_id": "leics-send-sharing-2026",
        "area_code": "E10000018",
        "extract_id": None,
        "subject": {"nhs_pseudonym": "n-1", "upn_pseudonym": None, "key_id": "key-1"},
        "therapy_type": "SALT",
        "referral_date": dt.date(2026, 3, 2),
        "referral_source": None,
    }
    subject = envelope.pop("subject", {})
    record.update(envelope)
    record["subject"] = {**record["subject"], **subject}
    return encode(CATALOGUE.latest("TherapyReferralReceived"), record)


def test_events_outside_their_contract_are_refused_with_the_contracts_reason() -> None:
    gate = Gate(shipped_contracts(), opted_out=frozenset({"n-opted"}))
    messages = [
        referral(),
        referral(source_system="education"),
        referral(contract_id="someone-elses"),
        referral(recorded_at=dt.datetime(2025, 6, 1, tzinfo=dt.UTC)),
        referral(subject={"nhs_pseudonym": "n-opted"}),
        b"\x00 not avro",
    ]
    batch = sort_messages(
        CATALOGUE, [RawMessage("t", 0, i, m) for i, m in enumerate(messages)], gate
    )
    assert len(batch.events) == 1
    assert [(r.message.offset, r.reason) for r in batch.refusals] == [
        (1, "type_not_allowed"),
        (2, "unknown_contract"),
        (3, "contract_not_in_force"),
        (4, "subject_opted_out"),
        (5, "not_single_object"),
    ]
    assert all("n-opted" not in r.detail for r in batch.refusals)


def test_without_a_gate_only_decoding_is_checked() -> None:
    batch = sort_messages(CATALOGUE, [RawMessage("t", 0, 0, referral(contract_id="x"))])
    assert len(batch.events) == 1 and not batch.refusals


def test_decisions_shared_by_shape_still_meet_every_subject_with_the_opt_out_list() -> None:
    """One answer is kept per shape, but never for a subject on the opt-out list, and a
    shape with another field present is decided afresh."""
    gate = Gate(shipped_contracts(), opted_out=frozenset({"n-opted", "u-opted"}))
    messages = [
        referral(),
        referral(subject={"nhs_pseudonym": "n-opted"}),
        referral(subject={"nhs_pseudonym": "n-2"}),
        referral(subject={"nhs_pseudonym": "n-3", "upn_pseudonym": "u-opted"}),
        referral(referral_source="GP"),
        referral(subject={"nhs_pseudonym": "n-opted"}),
    ]
    batch = sort_messages(
        CATALOGUE, [RawMessage("t", 0, i, m) for i, m in enumerate(messages)], gate
    )
    assert [(r.message.offset, r.reason) for r in batch.refusals] == [
        (1, "subject_opted_out"),
        (3, "subject_opted_out"),
        (5, "subject_opted_out"),
    ]
    assert len(batch.events) == 3
