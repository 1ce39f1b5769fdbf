"""What every record of an extract is checked against before it is staged, and where it goes.

A row the hub's gatekeeper would refuse is refused at source, with its line: the contract's
decision and the event schema are applied here, and a record that passes becomes an outbox
entry keyed so that one person's events stay in order. The contract is judged on the day
the producer sends (`sending_on`), as the hub judges it on the day it receives.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from contracts.decisions import Candidate, Decision, decide
from contracts.models import Contract
from producers.extract_reader import RowRefusal
from producers.outbox import OutboxEntry
from schemas.broker_access import BrokerAccess
from schemas.catalogue import Catalogue, EventSchema
from schemas.codec import encode
from schemas.envelope import partition_key


@dataclass(frozen=True)
class PublishTarget:
    bootstrap: str
    topic: str
    source_system: str
    contract_id: str
    area_code: str
    access: BrokerAccess = field(default_factory=BrokerAccess)  # the partner's principal


@dataclass(frozen=True)
class EntryChecks:
    """What every record of one extract is checked against before it is staged."""

    schema: EventSchema
    catalogue: Catalogue
    contracts: Mapping[str, Contract]
    target: PublishTarget
    extract_id: str
    sending_on: dt.date  # the UK day this run sends: the day the hub will judge, near enough
    _decisions: dict[tuple[Any, ...], Decision] = field(default_factory=dict)

    def _decision(self, record: dict[str, Any]) -> Decision:
        """The contract's answer; at source no opt-out list applies, so rows of the same
        shape (type, party, contract, key, which fields are empty) get the same one."""
        shape = (
            record["event_type"],
            record["source_system"],
            record["contract_id"],
            record["area_code"],
            record["subject"]["key_id"],
            tuple(name for name, value in record.items() if value is None),
        )
        decision = self._decisions.get(shape)
        if decision is None:
            decision = decide(
                Candidate.from_record(record),
                self.contracts,
                self.catalogue,
                received_on=self.sending_on,
            )
            self._decisions[shape] = decision
        return decision

    def entry(self, record: dict[str, Any], line: int) -> OutboxEntry | RowRefusal:
        """The outbox entry for a record, or a refusal if its contract or schema says no."""
        decision = self._decision(record)
        if not decision.accepted:
            return RowRefusal(line, f"contract_{decision.reason.value}", decision.detail)
        # a withdrawal row of the extract is a `RecordWithdrawn`, with its own schema
        schema = (
            self.schema
            if record["event_type"] == self.schema.name
            else self.catalogue.latest(record["event_type"])
        )
        try:
            value = encode(schema, record)
        except (ValueError, TypeError, KeyError):  # fastavro's message may quote the value
            return RowRefusal(line, "schema_invalid", f"the row does not fit {schema.name}")
        return OutboxEntry(
            event_id=record["event_id"],
            topic=self.target.topic,
            key=partition_key(record),
            value=value,
            extract_id=self.extract_id,
        )
