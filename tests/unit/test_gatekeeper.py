"""The gatekeeper's pure sorting: decodable events inside their contract pass, the rest say why."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from contracts.decisions import Area
from contracts.loading import shipped_contracts
from schemas.catalogue import default_catalogue
from schemas.codec import decode, encode
from schemas.manifest import manifest_from_record
from streams.gatekeeper import Gate
from streams.ingest import RawMessage, sort_messages

CATALOGUE = default_catalogue()
RECEIVED = dt.datetime(2026, 3, 3, 10, tzinfo=dt.UTC)  # the shipped contract is in force
AFTER_THE_CONTRACT = dt.datetime(2029, 1, 1, 10, tzinfo=dt.UTC)  # it ended 2028-12-31


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
        (referral(), RECEIVED),
        (referral(source_system="education"), RECEIVED),
        (referral(contract_id="someone-elses"), RECEIVED),
        (referral(), AFTER_THE_CONTRACT),
        (referral(subject={"nhs_pseudonym": "n-opted"}), RECEIVED),
        (b"\x00 not avro", RECEIVED),
    ]
    raw = [RawMessage("health.events", 0, i, m, at) for i, (m, at) in enumerate(messages)]
    batch = sort_messages(CATALOGUE, raw, gate)
    assert len(batch.events) == 1
    assert [(r.message.offset, r.reason) for r in batch.refusals] == [
        (1, "party_not_topic_owner"),
        (2, "unknown_contract"),
        (3, "contract_not_in_force"),
        (4, "subject_opted_out"),
        (5, "not_single_object"),
    ]
    assert all("n-opted" not in r.detail for r in batch.refusals)


def test_without_a_gate_only_decoding_is_checked() -> None:
    batch = sort_messages(CATALOGUE, [RawMessage("t", 0, 0, referral(contract_id="x"), RECEIVED)])
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
        CATALOGUE,
        [RawMessage("health.events", 0, i, m, RECEIVED) for i, m in enumerate(messages)],
        gate,
    )
    assert [(r.message.offset, r.reason) for r in batch.refusals] == [
        (1, "subject_opted_out"),
        (3, "subject_opted_out"),
        (5, "subject_opted_out"),
    ]
    assert len(batch.events) == 3


AREA = Area("leics-send-sharing-2026", "E10000018")


def manifest(**fields: Any) -> bytes:
    record: dict[str, Any] = {
        "extract_id": str(uuid.uuid4()),
        "event_type": "TherapyReferralReceived",
        "source_system": "health",
        "contract_id": "leics-send-sharing-2026",
        "area_code": "E10000018",
        "published_at": dt.datetime(2026, 3, 3, tzinfo=dt.UTC),
        "rows_read": 1,
        "rows_sent": 1,
        "rows_refused": 0,
        "part": 1,
        "parts": 1,
        "event_ids": [str(uuid.uuid4())],
    }
    record.update(fields)
    return encode(CATALOGUE.latest("ExtractPublished"), record)


def sorted_on(
    topic: str, *messages: bytes, gate: Gate | None = None, received_at: dt.datetime = RECEIVED
) -> Any:
    gate = gate or Gate(shipped_contracts(), area=AREA)
    raw = [RawMessage(topic, 0, i, m, received_at) for i, m in enumerate(messages)]
    return sort_messages(CATALOGUE, raw, gate)


@pytest.mark.parametrize("topic", ["health.events", "hub-test-1.health.events"])
def test_a_partners_event_and_manifest_on_its_own_topic_under_the_areas_contract_pass(
    topic: str,
) -> None:
    batch = sorted_on(topic, referral(), manifest())
    assert not batch.refusals
    assert len(batch.events) == 1 and len(batch.manifests) == 1


@pytest.mark.parametrize(
    ("envelope", "reason", "detail"),
    [
        (
            {"source_system": "education"},
            "party_not_topic_owner",
            "source_system education may not publish on the health topic",
        ),
        (
            {"contract_id": "another-areas-contract"},
            "not_area_contract",
            "contract another-areas-contract is not this area's contract (leics-send-sharing-2026)",
        ),
        (
            {"area_code": "E06000016"},
            "wrong_area",
            "area E06000016 is not this hub's area (E10000018)",
        ),
    ],
)
def test_who_may_publish_is_checked_for_events_and_manifests_alike(
    envelope: dict[str, Any], reason: str, detail: str
) -> None:
    """A party publishes only on its own topic, under the area's contract, for the area."""
    batch = sorted_on("health.events", referral(**envelope), manifest(**envelope))
    assert not batch.events and not batch.manifests
    assert [(r.message.offset, r.reason, r.detail) for r in batch.refusals] == [
        (0, reason, detail),
        (1, reason, detail),
    ]


def test_the_area_is_the_hubs_even_when_another_contract_is_known() -> None:
    """A contract the hub also holds, for another area, is still not this area's."""
    contracts = shipped_contracts()
    other = contracts["leics-send-sharing-2026"].model_copy(
        update={"contract_id": "rutland-send-2026", "area_code": "E06000017"}
    )
    gate = Gate({**contracts, "rutland-send-2026": other}, area=AREA)
    envelope = {"contract_id": "rutland-send-2026", "area_code": "E06000017"}
    batch = sorted_on("health.events", referral(**envelope), manifest(**envelope), gate=gate)
    assert [r.reason for r in batch.refusals] == ["not_area_contract"] * 2
    without_area = sorted_on(
        "health.events", referral(**envelope), gate=Gate(contracts | {"rutland-send-2026": other})
    )
    assert len(without_area.events) == 1  # only the area makes the difference


def test_a_manifest_from_a_party_outside_the_contract_is_refused() -> None:
    batch = sorted_on(
        "health.events", manifest(contract_id="nobody's"), gate=Gate(shipped_contracts())
    )
    assert [r.reason for r in batch.refusals] == ["unknown_contract"]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"source_system": "police"}, "unknown_party"),
        ({"area_code": "E06000016"}, "wrong_area"),
        ({}, "accepted"),
    ],
)
def test_a_manifest_is_checked_against_its_contract_without_a_topic_or_area(
    fields: dict[str, Any], reason: str
) -> None:
    decoded = decode(CATALOGUE, manifest(**fields))
    decision = Gate(shipped_contracts()).admit_manifest(
        manifest_from_record(decoded.record), topic_party=None
    )
    assert decision.reason.value == reason


def test_a_message_on_a_topic_no_party_owns_is_refused() -> None:
    batch = sorted_on("events.quarantined", referral(), manifest())
    assert [r.reason for r in batch.refusals] == ["party_not_topic_owner"] * 2


def test_a_refusal_by_topic_is_not_shared_with_the_same_shape_on_its_own_topic() -> None:
    """The gate keeps one answer per shape; the topic is part of the shape."""
    gate = Gate(shipped_contracts(), area=AREA)
    first = sorted_on("education.events", referral(), gate=gate)
    second = sorted_on("health.events", referral(), gate=gate)
    assert [r.reason for r in first.refusals] == ["party_not_topic_owner"]
    assert len(second.events) == 1 and not second.refusals


def test_the_gate_judges_the_day_received_and_keeps_one_answer_per_day_received() -> None:
    """A back-dated `recorded_at` received while the contract is in force passes; the same
    message received after the contract ended is refused, through the same gate: the day
    received, not the day recorded, is part of the shape whose answer is kept."""
    gate = Gate(shipped_contracts(), area=AREA)
    back_dated = referral(recorded_at=dt.datetime(2025, 6, 1, tzinfo=dt.UTC))
    in_time = sorted_on("health.events", back_dated, gate=gate)
    late = sorted_on("health.events", back_dated, gate=gate, received_at=AFTER_THE_CONTRACT)
    again = sorted_on("health.events", back_dated, gate=gate)
    assert len(in_time.events) == 1 and not in_time.refusals
    assert [r.reason for r in late.refusals] == ["contract_not_in_force"]
    assert len(again.events) == 1 and not again.refusals


def test_the_worker_checks_events_against_the_area_in_its_settings() -> None:
    from hub.settings import HubSettings
    from streams.worker.app import config_from_settings

    settings = HubSettings(contract_id="rutland-send-2026", area_code="E06000017")
    assert config_from_settings(settings).area == Area("rutland-send-2026", "E06000017")
