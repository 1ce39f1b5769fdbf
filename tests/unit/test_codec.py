"""Avro single-object encoding: round trips, and clear reasons for bytes we cannot read."""

import datetime as dt
import uuid

import pytest

from schemas.catalogue import default_catalogue
from schemas.codec import MAGIC, UndecodableMessage, decode, encode
from schemas.envelope import ENVELOPE_FIELDS, FIRST_ENVELOPE_FIELDS, event_from_record

CATALOGUE = default_catalogue()
PLAN = CATALOGUE.latest("EhcPlanIssued")
RECORD = {
    "event_id": str(uuid.uuid4()),
    "event_type": "EhcPlanIssued",
    "schema_version": 1,
    "occurred_at": dt.datetime(2025, 5, 1, tzinfo=dt.UTC),
    "recorded_at": dt.datetime(2025, 5, 2, tzinfo=dt.UTC),
    "source_system": "education",
    "contract_id": "c",
    "area_code": "E10000018",
    "extract_id": None,
    "subject": {"nhs_pseudonym": "ab", "upn_pseudonym": None, "key_id": "key-1"},
    "request_date": dt.date(2025, 1, 6),
    "issue_date": dt.date(2025, 5, 1),
    "permitted_exception": False,
    "primary_need": "ASD",
}


def test_round_trip_through_the_single_object_encoding() -> None:
    data = encode(PLAN, RECORD)
    assert data[:2] == MAGIC and data[2:10] == PLAN.fingerprint
    decoded = decode(CATALOGUE, data)
    assert decoded.schema.name == "EhcPlanIssued"
    event = event_from_record(decoded.record, decoded.schema.fingerprint)
    assert event.payload == {
        "request_date": "2025-01-06",
        "issue_date": "2025-05-01",
        "permitted_exception": False,
        "primary_need": "ASD",
    }
    assert event.nhs_pseudonym == "ab"


def test_crc64_fingerprint_matches_the_avro_specification() -> None:
    # The Avro spec's CRC-64-AVRO of the schema "int" is 0x7275d51a3f395c8f, sent little-endian.
    from fastavro.schema import fingerprint

    assert bytes.fromhex(fingerprint('"int"', "CRC-64-AVRO")) == bytes.fromhex("8f5c393f1ad57572")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "not_single_object"),
        (b'{"json": true}', "not_single_object"),
        (MAGIC + b"\x00" * 8 + b"body", "schema_unknown"),
        (MAGIC + PLAN.fingerprint + b"\xff\xff\xff", "invalid_avro"),
    ],
)
def test_undecodable_bytes_say_why(data: bytes, reason: str) -> None:
    with pytest.raises(UndecodableMessage) as refused:
        decode(CATALOGUE, data)
    assert refused.value.reason == reason


def test_every_schema_carries_the_shared_envelope_and_tags_pseudonyms() -> None:
    for schema in CATALOGUE.schemas:
        if schema.name == "ExtractPublished":
            continue
        names = [field["name"] for field in schema.definition["fields"]]
        envelope = ENVELOPE_FIELDS if "record_id" in names else FIRST_ENVELOPE_FIELDS
        assert tuple(names[: len(envelope)]) == envelope
        pii = schema.pii_fields()
        assert {k: v for k, v in pii.items() if k.startswith("subject.")} == {
            "subject.nhs_pseudonym": "pseudonym",
            "subject.upn_pseudonym": "pseudonym",
        }
        # outside the subject only quasi-identifiers, never a direct identifier
        assert {v for k, v in pii.items() if not k.startswith("subject.")} <= {"quasi"}
        assert schema.owner
