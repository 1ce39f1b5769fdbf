"""The producer's manifest of one extract (`ExtractPublished`), as the hub reads it.

A manifest is not an event about a child: it says what a producer sent for one
extract (its event ids, rows read, sent and refused), so reconciliation can compare
it with what arrived. The worker decodes it here and the event store records it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

MANIFEST_TYPE = "ExtractPublished"


@dataclass(frozen=True)
class ExtractManifest:
    """What a producer says it sent for one extract."""

    extract_id: uuid.UUID
    event_type: str
    source_system: str
    contract_id: str
    area_code: str
    published_at: object
    rows_read: int
    rows_sent: int
    rows_refused: int
    event_ids: tuple[uuid.UUID, ...]


def manifest_from_record(record: Mapping[str, object]) -> ExtractManifest:
    """An `ExtractPublished` record, decoded, as a manifest."""
    event_ids = record["event_ids"]
    if not isinstance(event_ids, list):
        raise TypeError("event_ids is not a list")
    return ExtractManifest(
        extract_id=uuid.UUID(str(record["extract_id"])),
        event_type=str(record["event_type"]),
        source_system=str(record["source_system"]),
        contract_id=str(record["contract_id"]),
        area_code=str(record["area_code"]),
        published_at=record["published_at"],
        rows_read=int(str(record["rows_read"])),
        rows_sent=int(str(record["rows_sent"])),
        rows_refused=int(str(record["rows_refused"])),
        event_ids=tuple(uuid.UUID(str(e)) for e in event_ids),
    )
