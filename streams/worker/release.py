"""The gatekeeper's second look: re-checking a quarantined message after a fix.

A message is quarantined when it cannot be decoded (unknown writer schema,
invalid Avro), breaks its envelope, or falls outside its data-sharing contract.
Once the cause is fixed (a schema added to the catalogue, a contract revised,
reference data corrected), `release` checks it again with exactly the rules the
worker applies, on the day the hub first received it (the row's `received_at`: a
contract that ended since does not turn away what arrived while it was in force);
if it passes, it enters the event store and every projection in one transaction, and
the quarantine row records when and as which event. If it still fails, it stays,
with the reason this check gave; if that reason is the opt-out, it keeps only its
event id, reason and time from then on. A row without bytes (an opted-out subject's
event, or one erased) cannot be checked again: `NoBytesKept`.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from schemas.catalogue import Catalogue
from streams.gatekeeper import Gate
from streams.ingest import RawMessage, sort_messages
from streams.projection import ProjectionSettings
from streams.worker.unit_of_work import apply_batch
from warehouse.quarantine import held, keep_no_bytes, mark_checked, mark_released


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


class NoBytesKept(LookupError):
    """The row keeps no bytes to check again: an opted-out subject's event (only its id,
    reason and time were kept) or a message erased since. Only its sender can send it again."""


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
    if data is None:
        raise NoBytesKept(
            f"quarantined message {message_id} keeps no bytes ({message.reason}): it cannot be"
            " released; only its sender can send it again"
        )
    raw = RawMessage(message.topic, message.partition, message.offset, data, message.received_at)
    batch = sort_messages(catalogue, [raw], gate)
    with conn.transaction():
        if batch.refusals:
            refusal = batch.refusals[0]
            mark_checked(conn, message_id, refusal.reason, refusal.detail)
            if not refusal.keeps_bytes:  # its subject opted out: keep id, reason and time only
                keep_no_bytes(conn, message_id, refusal.event_id)
            return ReleaseOutcome(message_id, False, refusal.reason, refusal.detail)
        apply_batch(conn, batch.events, batch.manifests, projection)
        event_id = str(batch.events[0].event_id) if batch.events else None
        mark_released(conn, message_id, event_id)
    return ReleaseOutcome(message_id, True, "released", "passes every check now", event_id)
