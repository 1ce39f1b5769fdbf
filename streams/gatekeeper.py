"""The gatekeeper's decision: is this decoded event inside its data-sharing contract?

A `Gate` holds the contracts in force, the opted-out subjects and the area the hub
serves, and answers with `contracts.decisions.decide`, the same pure function the
producer calls; the worker builds one per batch writer and refreshes it, and `hub
quarantine release` builds one to check a message again. Each event and extract
manifest is checked against the party whose topic it arrived on (`topic_party`): a
partner publishes only on its own topic; a contract must be in force on the day the hub
received the event (`received_on`), never the day its sender says it recorded it.
Pure: no I/O, no clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from contracts.decisions import Area, Candidate, Decision, decide, decide_manifest
from contracts.models import Contract
from schemas.catalogue import Catalogue
from schemas.manifest import ExtractManifest
from schemas.topics import SOURCE_BY_SYSTEM


def topic_party(topic: str) -> str | None:
    """The party that owns a source topic as read (any topic prefix allowed), or None."""
    for party, name in SOURCE_BY_SYSTEM.items():
        if topic.endswith(name):
            return party
    return None


@dataclass(frozen=True)
class Gate:
    """What the gatekeeper checks events against: the contracts in force, the opt-outs
    and (when given) the area the hub serves: its one contract and area code."""

    contracts: Mapping[str, Contract]
    opted_out: frozenset[str] = frozenset()
    area: Area | None = None
    _decisions: dict[dt.date, dict[tuple[Any, ...], Decision]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def decide(
        self,
        record: Mapping[str, Any],
        catalogue: Catalogue,
        topic_party: str | None,
        received_on: dt.date,
    ) -> Decision:
        """The contract's decision on a decoded record that arrived on `topic_party`'s topic
        and was received by the hub on the UK day `received_on`.

        `decide` reads the subject only to meet it with the opt-out list, so records of
        one shape (topic, type, party, contract, area, key, fields present) received on
        one day whose pseudonyms are not opted out share one answer, worked out once. Only
        the latest day's answers are kept: the worker's days only move forward.
        """
        subject = record.get("subject") or {}
        pseudonyms = {subject.get("nhs_pseudonym"), subject.get("upn_pseudonym")}
        if self.opted_out and not self.opted_out.isdisjoint(pseudonyms):
            return decide(
                Candidate.from_record(record),
                self.contracts,
                catalogue,
                self.opted_out,
                received_on=received_on,
                topic_party=topic_party,
                area=self.area,
            )
        shape = (
            topic_party,
            record["event_type"],
            record["source_system"],
            record["contract_id"],
            record["area_code"],
            subject.get("key_id"),
            tuple(name for name, value in record.items() if value is not None),
        )
        answers = self._decisions.get(received_on)
        if answers is None:
            self._decisions.clear()
            answers = self._decisions[received_on] = {}
        decision = answers.get(shape)
        if decision is None:
            decision = decide(
                Candidate.from_record(record),
                self.contracts,
                catalogue,
                received_on=received_on,
                topic_party=topic_party,
                area=self.area,
            )
            answers[shape] = decision
        return decision

    def admit_manifest(self, manifest: ExtractManifest, topic_party: str | None) -> Decision:
        """The same check of who may publish, for an extract manifest."""
        return decide_manifest(manifest, self.contracts, topic_party=topic_party, area=self.area)
