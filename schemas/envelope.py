"""The envelope every event shares, split from the event's own fields.

The event store keeps the envelope in columns and the event's own fields as JSON,
so this module is the one place that knows which is which.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ENVELOPE_FIELDS = (
    "event_id",
    "event_type",
    "schema_version",
    "occurred_at",
    "recorded_at",
    "source_system",
    "contract_id",
    "area_code",
    "extract_id",
    "record_id",
    "subject",
)
# The envelope before records had revisions: version 1 of every event type, whose event
# id is also its record's id (docs/decisions/0015-record-revisions.md).
FIRST_ENVELOPE_FIELDS = tuple(name for name in ENVELOPE_FIELDS if name != "record_id")


@dataclass(frozen=True)
class Event:
    """One decoded event: envelope fields, pseudonyms and the event's own fields (`payload`)."""

    event_id: uuid.UUID
    event_type: str
    schema_version: int
    schema_fingerprint: str
    occurred_at: dt.datetime
    recorded_at: dt.datetime
    source_system: str
    contract_id: str
    area_code: str
    extract_id: uuid.UUID | None
    nhs_pseudonym: str | None
    upn_pseudonym: str | None
    payload: dict[str, Any]
    record_id: uuid.UUID | None = None  # the partner record this is a revision of (v2 on)

    @property
    def record_key(self) -> uuid.UUID:
        """The record this event is a revision of: a version 1 event is its own record."""
        return self.record_id or self.event_id


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def event_from_record(record: dict[str, Any], fingerprint: bytes) -> Event:
    """Split a decoded Avro record into envelope and payload (payload values JSON-ready)."""
    subject = record["subject"]
    extract_id = record.get("extract_id")
    record_id = record.get("record_id")
    return Event(
        event_id=uuid.UUID(str(record["event_id"])),
        event_type=record["event_type"],
        schema_version=int(record["schema_version"]),
        schema_fingerprint=fingerprint.hex(),
        occurred_at=record["occurred_at"],
        recorded_at=record["recorded_at"],
        source_system=record["source_system"],
        contract_id=record["contract_id"],
        area_code=record["area_code"],
        extract_id=uuid.UUID(extract_id) if extract_id else None,
        nhs_pseudonym=subject.get("nhs_pseudonym"),
        upn_pseudonym=subject.get("upn_pseudonym"),
        payload={k: _json_value(v) for k, v in record.items() if k not in ENVELOPE_FIELDS},
        record_id=uuid.UUID(str(record_id)) if record_id else None,
    )


def partition_key(record: Mapping[str, Any]) -> bytes:
    """One person's events share a partition, so they are applied in order. A withdrawal
    names no person: its record id keys it (the hub's rule does not depend on order)."""
    subject = record["subject"]
    pseudonym = subject["nhs_pseudonym"] or subject["upn_pseudonym"] or record["record_id"]
    return str(pseudonym).encode("ascii")
