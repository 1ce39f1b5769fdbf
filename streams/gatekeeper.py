"""The gatekeeper's decision: is this decoded event inside its data-sharing contract?

A `Gate` holds the contracts in force and the opted-out subjects and answers with
`contracts.decisions.decide`, the same pure function the producer calls; the worker
builds one per batch writer and refreshes it, and `hub quarantine release` builds one
to check a message again. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from contracts.decisions import Candidate, Decision, decide, uk_date
from contracts.models import Contract
from schemas.catalogue import Catalogue


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
