"""Admission: sorting one batch of raw broker messages into events, manifests, refusals.

Pure: bytes in, decoded domain objects out. Each event is checked against its
data-sharing contract by the gatekeeper (when a `Gate` is given) on the UK day the hub
received it (`RawMessage.received_at`, stamped by whoever took it from the broker), and
each event and extract manifest against the party whose topic it arrived on. Nothing
undecodable or outside its contract is dropped; it comes back as a `Refusal` with a
machine-readable reason, to be quarantined.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from contracts.decisions import Decision, Reason, uk_date
from schemas.catalogue import Catalogue
from schemas.codec import UndecodableMessage, decode
from schemas.envelope import Event, event_from_record
from schemas.manifest import MANIFEST_TYPE, ExtractManifest, manifest_from_record
from streams.gatekeeper import Gate, topic_party

__all__ = ["Gate", "RawMessage", "Refusal", "SortedBatch", "sort_messages"]


@dataclass(frozen=True)
class RawMessage:
    """A message as taken from the broker, with the instant the hub received it (UTC)."""

    topic: str
    partition: int
    offset: int
    value: bytes
    received_at: dt.datetime


@dataclass(frozen=True)
class Refusal:
    """A message the hub refused, and why. An opted-out subject's event is refused keeping
    only its event id, reason and time: its bytes are dropped here, at the gate, so
    neither the quarantine table nor the quarantine topic ever holds them."""

    message: RawMessage
    reason: str
    detail: str
    event_id: uuid.UUID | None = None

    @property
    def keeps_bytes(self) -> bool:
        return self.reason != Reason.SUBJECT_OPTED_OUT


def _refused(message: RawMessage, decision: Decision, record: Mapping[str, Any]) -> Refusal:
    """The refusal of a decoded event; for the opt-out, its id without its bytes."""
    if decision.reason is not Reason.SUBJECT_OPTED_OUT:
        return Refusal(message, decision.reason.value, decision.detail)
    try:
        event_id: uuid.UUID | None = uuid.UUID(str(record["event_id"]))
    except (KeyError, ValueError):
        event_id = None
    without_bytes = replace(message, value=b"")
    return Refusal(without_bytes, decision.reason.value, decision.detail, event_id)


@dataclass
class SortedBatch:
    events: list[Event] = field(default_factory=list)
    manifests: list[ExtractManifest] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)


def sort_messages(
    catalogue: Catalogue, messages: Iterable[RawMessage], gate: Gate | None = None
) -> SortedBatch:
    """Decode each message and, with a `gate`, check its event against its contract."""
    batch = SortedBatch()
    for message in messages:
        try:
            decoded = decode(catalogue, message.value)
            party = topic_party(message.topic)
            if gate is not None and party is None:
                batch.refusals.append(
                    Refusal(message, Reason.PARTY_NOT_TOPIC_OWNER.value, "not a source topic")
                )
                continue
            if decoded.schema.name == MANIFEST_TYPE:
                manifest = manifest_from_record(decoded.record)
                if gate is not None:
                    decision = gate.admit_manifest(manifest, party)
                    if not decision.accepted:
                        batch.refusals.append(
                            Refusal(message, decision.reason.value, decision.detail)
                        )
                        continue
                batch.manifests.append(manifest)
                continue
            if gate is not None:
                decision = gate.decide(
                    decoded.record, catalogue, party, uk_date(message.received_at)
                )
                if not decision.accepted:
                    batch.refusals.append(_refused(message, decision, decoded.record))
                    continue
            batch.events.append(event_from_record(decoded.record, decoded.schema.fingerprint))
        except UndecodableMessage as error:
            batch.refusals.append(Refusal(message, error.reason, str(error)))
        except (KeyError, TypeError, ValueError) as error:
            batch.refusals.append(Refusal(message, "invalid_envelope", type(error).__name__))
    return batch
