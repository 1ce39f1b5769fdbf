"""The gatekeeper: sorting one batch of raw broker messages into events, manifests, refusals.

Pure: bytes in, decoded domain objects out. Each event is checked against its
data-sharing contract (when a `Gate` is given). Nothing undecodable or outside its
contract is dropped; it comes back as a `Refusal` with a machine-readable reason,
to be quarantined.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from contracts.decisions import Candidate, Decision, decide, uk_date
from contracts.models import Contract
from schemas.catalogue import Catalogue
from schemas.codec import UndecodableMessage, decode
from schemas.envelope import Event, event_from_record
from warehouse.event_store import ExtractManifest

MANIFEST_TYPE = "ExtractPublished"


@dataclass(frozen=True)
class RawMessage:
    topic: str
    partition: int
    offset: int
    value: bytes


@dataclass(frozen=True)
class Refusal:
    message: RawMessage
    reason: str
    detail: str


@dataclass
class SortedBatch:
    events: list[Event] = field(default_factory=list)
    manifests: list[ExtractManifest] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)


def _manifest(record: dict[str, object]) -> ExtractManifest:
    event_ids = record["event_ids"]
    assert isinstance(event_ids, list)
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


@dataclass(frozen=True)
class Gate:
    """What the gatekeeper checks events against: the contracts in force and the opt-outs."""

    contracts: Mapping[str, Contract]
    opted_out: frozenset[str] = frozenset()
    _decisions: dict[tuple[Any, ...], Decision] = field(
        default_factory=dict, compare=False, repr=False
    )

    def decide(self, record: Mapping[str, Any], catalogue: Catalogue) -> Decision:
        """The contract's decision on a decoded record.

        `decide` reads the subject only to meet it with the opt-out list, so records of
        one shape (type, party, contract, area, key, UK day, fields present) whose
        pseudonyms are not opted out share one answer, worked out once.
        """
        subject = record.get("subject") or {}
        pseudonyms = {subject.get("nhs_pseudonym"), subject.get("upn_pseudonym")}
        if self.opted_out and not self.opted_out.isdisjoint(pseudonyms):
            return decide(Candidate.from_record(record), self.contracts, catalogue, self.opted_out)
        shape = (
            record["event_type"],
            record["source_system"],
            record["contract_id"],
            record["area_code"],
            subject.get("key_id"),
            uk_date(record["recorded_at"]),
            tuple(name for name, value in record.items() if value is not None),
        )
        decision = self._decisions.get(shape)
        if decision is None:
            decision = decide(Candidate.from_record(record), self.contracts, catalogue)
            self._decisions[shape] = decision
        return decision


def sort_messages(
    catalogue: Catalogue, messages: Iterable[RawMessage], gate: Gate | None = None
) -> SortedBatch:
    """Decode each message and, with a `gate`, check its event against its contract."""
    batch = SortedBatch()
    for message in messages:
        try:
            decoded = decode(catalogue, message.value)
            if decoded.schema.name == MANIFEST_TYPE:
                batch.manifests.append(_manifest(decoded.record))
                continue
            if gate is not None:
                decision = gate.decide(decoded.record, catalogue)
                if not decision.accepted:
                    batch.refusals.append(Refusal(message, decision.reason.value, decision.detail))
                    continue
            batch.events.append(event_from_record(decoded.record, decoded.schema.fingerprint))
        except UndecodableMessage as error:
            batch.refusals.append(Refusal(message, error.reason, str(error)))
        except (KeyError, TypeError, ValueError) as error:
            batch.refusals.append(Refusal(message, "invalid_envelope", type(error).__name__))
    return batch
