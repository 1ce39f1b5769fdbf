"""The gatekeeper's second look: re-checking a quarantined message after a fix.

A message is quarantined when it cannot be decoded (unknown writer schema,
invalid Avro), breaks its envelope, or falls outside its data-sharing contract.
Once the cause is fixed (a schema added to the catalogue, a contract revised,
reference data corrected), `release` checks it again with exactly the rules the
worker applies; if it passes, it enters the event store and every
projection in one transaction, and the quarantine row records when and as which
event. If it still fails, it stays, with the reason this check gave.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from schemas.catalogue import Catalogue
from streams.gatekeeper import Gate
from streams.ingest import RawMessage, sort_messages
from streams.projection import ProjectionSettings
from streams.worker.unit_of_work import apply_batch
from warehouse.quarantine import held, mark_checked, mark_released


@dataclass(frozen=True)
class ReleaseOutcome:
    """What a re-check decided: released (as which event), or still refused and why."""

    message_id: int
    released: bool
    reason: str
    detail: str
    event_id: str | None = None


class NotQuarantined(LookupError):
    """No quarantined message has this id."""


def release(
    conn: psycopg.Connection,
    message_id: int,
    catalogue: Catalogue,
    projection: ProjectionSettings | None,
    gate: Gate | None = None,
) -> ReleaseOutcome:
    """Re-check one quarantined message; admit it if it now passes."""
    found = held(conn, message_id)
    if found is None:
        raise NotQuarantined(f"no quarantined message has id {message_id}")
    message, data = found
    if message.released_at is not None:
        return ReleaseOutcome(message_id, True, "already_released", "released earlier")
    raw = RawMessage(message.topic, message.partition, message.offset, data)
    batch = sort_messages(catalogue, [raw], gate)
    with conn.transaction():
        if batch.refusals:
            refusal = batch.refusals[0]
            mark_checked(conn, message_id, refusal.reason, refusal.detail)
            return ReleaseOutcome(message_id, False, refusal.reason, refusal.detail)
        apply_batch(conn, batch.events, batch.manifests, projection)
        event_id = str(batch.events[0].event_id) if batch.events else None
        mark_released(conn, message_id, event_id)
    return ReleaseOutcome(message_id, True, "released", "passes every check now", event_id)
