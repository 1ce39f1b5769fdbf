"""May this event enter? One pure function, the same for the producer and the gatekeeper.

The answer is accepted, or refused with a machine-readable reason and a detail
that names the contract, party, type or field, never a person. The decision
records the contract version it was taken under; accepted events are never
re-decided, so changing a contract changes what may enter from then on, and
never rewrites what was already accepted.

Whether a contract is in force is judged on the UK calendar day the hub received
the event (`received_on`, stamped by the hub and passed in: nothing here reads the
clock), never on the sender's `recorded_at` or `occurred_at`: the sharing happens when
the hub receives, so a back-dated `recorded_at` cannot bring an event inside a
contract, and a historical backfill (a plan issued in 2019, sent while the 2026
contract is in force) is accepted. The worker stamps a message when it takes it from
the broker, a release from quarantine reuses the day the message was first received,
and the producer's check at source uses the day it sends.

Who may publish at all is checked first, when the caller says where the event came
from: the party whose topic it arrived on (a partner may publish only on its own
topic) and the area the hub serves (its contract and area code). Extract manifests
pass the same check (`decide_manifest`).

Details quote the envelope's names (party, type, contract) only when they look
like names; anything else, such as an NHS number pasted into the wrong column,
is described, not echoed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from contracts.models import ALL_FIELDS, Contract
from schemas.catalogue import Catalogue
from schemas.envelope import ENVELOPE_FIELDS as _ENVELOPE
from schemas.envelope import Event
from schemas.manifest import ExtractManifest

ENVELOPE_FIELDS = frozenset(_ENVELOPE)
UK = ZoneInfo("Europe/London")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,47}")


def _shown(value: str) -> str:
    """A name from the event, or a description of it when it might be personal data."""
    return value if _NAME.fullmatch(value) else "(a value that is not a name)"


def uk_date(moment: dt.datetime | dt.date | str) -> dt.date:
    """The UK calendar day of a timestamp (naive means UTC), as contract dates are written.

    00:30 on 1 April BST is still 31 March in UTC; a contract starting on 1 April
    is in force for it.
    """
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    if not isinstance(moment, dt.datetime):
        return moment
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(UK).date()


class Reason(StrEnum):
    ACCEPTED = "accepted"
    UNKNOWN_CONTRACT = "unknown_contract"
    UNKNOWN_PARTY = "unknown_party"
    TYPE_NOT_ALLOWED = "type_not_allowed"
    FIELD_NOT_ALLOWED = "field_not_allowed"
    CONTRACT_NOT_IN_FORCE = "contract_not_in_force"
    WRONG_AREA = "wrong_area"
    WRONG_KEY = "wrong_key"
    SUBJECT_OPTED_OUT = "subject_opted_out"
    SCHEMA_UNKNOWN = "schema_unknown"
    PARTY_NOT_TOPIC_OWNER = "party_not_topic_owner"
    NOT_AREA_CONTRACT = "not_area_contract"


@dataclass(frozen=True)
class Area:
    """The area a hub serves: the one contract it accepts events under, and its area code."""

    contract_id: str
    area_code: str


@dataclass(frozen=True)
class Decision:
    reason: Reason
    detail: str
    contract_id: str | None = None
    contract_version: int | None = None

    @property
    def accepted(self) -> bool:
        return self.reason is Reason.ACCEPTED


@dataclass(frozen=True)
class Candidate:
    """What the decision reads from an event: envelope, pseudonyms and non-null fields."""

    event_type: str
    source_system: str
    contract_id: str
    area_code: str
    key_id: str | None
    pseudonyms: frozenset[str]
    fields: frozenset[str]

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Candidate:
        """From an Avro record as encoded or decoded (subject nested, dates as objects)."""
        subject = record.get("subject") or {}
        return cls(
            event_type=str(record["event_type"]),
            source_system=str(record["source_system"]),
            contract_id=str(record["contract_id"]),
            area_code=str(record["area_code"]),
            key_id=subject.get("key_id"),
            pseudonyms=frozenset(
                p for p in (subject.get("nhs_pseudonym"), subject.get("upn_pseudonym")) if p
            ),
            fields=frozenset(
                k for k, v in record.items() if k not in ENVELOPE_FIELDS and v is not None
            ),
        )

    @classmethod
    def from_event(cls, event: Event) -> Candidate:
        """From an event already split into envelope and payload (it carries no key id)."""
        return cls(
            event_type=event.event_type,
            source_system=event.source_system,
            contract_id=event.contract_id,
            area_code=event.area_code,
            key_id=None,
            pseudonyms=frozenset(p for p in (event.nhs_pseudonym, event.upn_pseudonym) if p),
            fields=frozenset(k for k, v in event.payload.items() if v is not None),
        )


def _sender_refused(
    source_system: str,
    contract_id: str,
    area_code: str,
    topic_party: str | None,
    area: Area | None,
) -> Decision | None:
    """Whether this party may publish here at all: on its own topic, for the hub's area."""
    if topic_party is not None and source_system != topic_party:
        return Decision(
            Reason.PARTY_NOT_TOPIC_OWNER,
            f"source_system {_shown(source_system)} may not publish on the {topic_party} topic",
        )
    if area is not None and contract_id != area.contract_id:
        return Decision(
            Reason.NOT_AREA_CONTRACT,
            f"contract {_shown(contract_id)} is not this area's contract ({area.contract_id})",
        )
    if area is not None and area_code != area.area_code:
        return Decision(
            Reason.WRONG_AREA,
            f"area {_shown(area_code)} is not this hub's area ({area.area_code})",
            area.contract_id,
        )
    return None


def decide(
    candidate: Candidate,
    contracts: Mapping[str, Contract],
    catalogue: Catalogue,
    opted_out: frozenset[str] = frozenset(),
    *,
    received_on: dt.date,
    topic_party: str | None = None,
    area: Area | None = None,
) -> Decision:
    """Accept the event, or say which rule it breaks (checked in a fixed order).

    The contract must be in force on `received_on`, the UK day the hub received the
    event (see `uk_date`). With `topic_party` (the party whose topic the event arrived
    on) and `area` (the area the hub serves), an event from another party, or under
    another contract or area, is refused before anything else.

    Pure: the same candidate, received day, contracts, catalogue and opt-out list always
    give the same decision, whenever and however often it is asked (live, on release from
    quarantine, in a test), because nothing reads the clock.
    """
    refused = _sender_refused(
        candidate.source_system, candidate.contract_id, candidate.area_code, topic_party, area
    )
    if refused is not None:
        return refused
    try:
        catalogue.latest(candidate.event_type)
    except KeyError:
        return Decision(Reason.SCHEMA_UNKNOWN, f"no schema for {_shown(candidate.event_type)}")
    contract = contracts.get(candidate.contract_id)
    if contract is None:
        return Decision(Reason.UNKNOWN_CONTRACT, f"no contract {_shown(candidate.contract_id)}")
    ids = (contract.contract_id, contract.version)
    if not contract.in_force(received_on):
        return Decision(
            Reason.CONTRACT_NOT_IN_FORCE,
            f"{contract.contract_id} is in force {contract.valid_from} to {contract.valid_to};"
            f" received {received_on}",
            *ids,
        )
    if candidate.area_code != contract.area_code:
        return Decision(
            Reason.WRONG_AREA, f"{contract.contract_id} covers {contract.area_code}", *ids
        )
    permission = contract.permission_for(candidate.source_system)
    if permission is None:
        return Decision(
            Reason.UNKNOWN_PARTY,
            f"{_shown(candidate.source_system)} may not publish under {contract.contract_id}",
            *ids,
        )
    allowed = permission.event_types.get(candidate.event_type)
    if allowed is None:
        return Decision(
            Reason.TYPE_NOT_ALLOWED,
            f"{candidate.source_system} may not publish {candidate.event_type}",
            *ids,
        )
    if allowed != ALL_FIELDS:
        extra = sorted(candidate.fields - set(allowed))
        if extra:
            return Decision(
                Reason.FIELD_NOT_ALLOWED,
                f"{candidate.event_type} from {candidate.source_system} may not carry "
                + ", ".join(_shown(name) for name in extra),
                *ids,
            )
    if candidate.key_id is not None and candidate.key_id != contract.pseudonymisation_key_id:
        return Decision(
            Reason.WRONG_KEY,
            f"pseudonyms made with key {_shown(candidate.key_id)}, contract names "
            f"{contract.pseudonymisation_key_id}",
            *ids,
        )
    if (
        contract.opt_out.applies
        and candidate.source_system in contract.opt_out.sources
        and candidate.pseudonyms & opted_out
    ):
        return Decision(Reason.SUBJECT_OPTED_OUT, "the national data opt-out applies", *ids)
    return Decision(Reason.ACCEPTED, "within the contract", *ids)


def decide_manifest(
    manifest: ExtractManifest,
    contracts: Mapping[str, Contract],
    *,
    topic_party: str | None = None,
    area: Area | None = None,
) -> Decision:
    """May this extract manifest enter? The same check of who may publish as for events:
    its party on its own topic, the hub's contract and area, a party of that contract."""
    refused = _sender_refused(
        manifest.source_system, manifest.contract_id, manifest.area_code, topic_party, area
    )
    if refused is not None:
        return refused
    contract = contracts.get(manifest.contract_id)
    if contract is None:
        return Decision(Reason.UNKNOWN_CONTRACT, f"no contract {_shown(manifest.contract_id)}")
    ids = (contract.contract_id, contract.version)
    if manifest.area_code != contract.area_code:
        return Decision(
            Reason.WRONG_AREA, f"{contract.contract_id} covers {contract.area_code}", *ids
        )
    if contract.permission_for(manifest.source_system) is None:
        return Decision(
            Reason.UNKNOWN_PARTY,
            f"{_shown(manifest.source_system)} may not publish under {contract.contract_id}",
            *ids,
        )
    return Decision(Reason.ACCEPTED, "within the contract", *ids)
