"""Publishing over HTTP: a partner token posts its own events, the hub puts them on its topic.

`POST /submissions/events` takes a small batch of events, each the Avro single-object
bytes the partner's producer would put on the broker (base64 in JSON, as Kafka's REST
proxy carries binary). The token binds the party: an event naming another
`source_system` refuses the whole batch (403). Every event is then decided as the
gatekeeper decides it (`contracts.decisions.decide`, on the partner's own topic, for the
hub's area, on the UK day the hub received it, that is today); any refusal refuses the
whole batch (422, each refused event with its reason). Only a batch that passes entirely
is published, to the party's own source topic, keyed as the producer keys it, and the
worker's gatekeeper checks it again on arrival (with the opt-out list, which is not
applied here, as at source).
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import Response
from kafka import KafkaProducer
from kafka.errors import KafkaError

from contracts.decisions import Area, Candidate, decide, uk_date
from contracts.models import Contract
from schemas.broker_access import BrokerAccess
from schemas.catalogue import Catalogue
from schemas.codec import UndecodableMessage, decode
from schemas.envelope import partition_key
from schemas.manifest import MANIFEST_TYPE
from schemas.topics import SOURCE_BY_SYSTEM
from warehouse.api.access import returned
from warehouse.api.models import EventSubmission
from warehouse.api.policy import SignedIn
from warehouse.api.problems import problem

SEND_TIMEOUT_S = 10.0
NOT_CONFIGURED = "Publishing over HTTP is not configured on this hub (no broker address)."
NOT_ANSWERED = "The hub's broker does not answer at the moment: send the batch again later."
NOT_CONFIRMED = (
    "The broker did not confirm every event: send the same batch again (the hub keeps each"
    " event once, by its event id)."
)


class BrokerUnavailable(RuntimeError):
    """The broker is not configured, did not answer, or did not confirm every event."""


@dataclass(frozen=True)
class Refused:
    """One event of a batch the hub will not take, by its position (no content)."""

    index: int
    reason: str
    detail: str

    def as_error(self) -> dict[str, str]:
        return {"event": str(self.index), "reason": self.reason, "detail": self.detail}


@dataclass
class Judgement:
    """A batch judged: events of another party (by position), refusals, and what may go."""

    foreign: list[int] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)
    accepted: list[tuple[uuid.UUID, bytes, bytes]] = field(default_factory=list)  # id, key, value


def judge(
    values: Sequence[bytes],
    party: str,
    contracts: Mapping[str, Contract],
    catalogue: Catalogue,
    area: Area | None,
    received_on: dt.date,
) -> Judgement:
    """Decode each event and decide it as the gatekeeper would for `party`'s topic. Pure."""
    judged = Judgement()
    for index, value in enumerate(values):
        try:
            decoded = decode(catalogue, value)
        except UndecodableMessage as error:
            judged.refused.append(Refused(index, error.reason, str(error)))
            continue
        record = decoded.record
        if decoded.schema.name == MANIFEST_TYPE:
            detail = "extract manifests are published with their extract, not over HTTP"
            judged.refused.append(Refused(index, "not_an_event", detail))
            continue
        if record["source_system"] != party:
            judged.foreign.append(index)
            continue
        decision = decide(
            Candidate.from_record(record),
            contracts,
            catalogue,
            received_on=received_on,
            topic_party=party,
            area=area,
        )
        if not decision.accepted:
            judged.refused.append(Refused(index, decision.reason.value, decision.detail))
            continue
        judged.accepted.append((uuid.UUID(str(record["event_id"])), partition_key(record), value))
    return judged


class Broker:
    """The API's one producer, opened on first use (the broker may start after the API)."""

    def __init__(self, bootstrap: str | None, access: BrokerAccess | None = None) -> None:
        self.bootstrap = bootstrap
        self.access = access or BrokerAccess()  # in production, the API's SCRAM principal
        self._producer: KafkaProducer | None = None
        self._lock = threading.Lock()

    def publish(self, topic: str, messages: Sequence[tuple[bytes, bytes]]) -> None:
        """Send (key, value) pairs and wait until the broker confirms each; BrokerUnavailable
        when it does not (some may have been written: a retry is skipped by event id)."""
        if self.bootstrap is None:
            raise BrokerUnavailable(NOT_CONFIGURED)
        with self._lock:
            if self._producer is None:
                try:
                    self._producer = KafkaProducer(
                        bootstrap_servers=self.bootstrap,
                        acks="all",
                        client_id="hub-api",
                        request_timeout_ms=int(SEND_TIMEOUT_S * 1000),
                        bootstrap_timeout_ms=int(SEND_TIMEOUT_S * 1000),
                        **self.access.kafka_python(),
                    )
                except KafkaError:
                    raise BrokerUnavailable(NOT_ANSWERED) from None
            producer = self._producer
        try:
            futures = [producer.send(topic, key=key, value=value) for key, value in messages]
            producer.flush(timeout=SEND_TIMEOUT_S)
            for future in futures:
                future.get(timeout=SEND_TIMEOUT_S)
        except KafkaError:
            raise BrokerUnavailable(NOT_CONFIRMED) from None

    def close(self) -> None:
        with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            producer.close(timeout=SEND_TIMEOUT_S)


def submit_events(
    request: Request, caller: SignedIn, submission: EventSubmission
) -> dict[str, Any] | Response:
    """Publish the caller's own events to its own topic, once every one passes the contract.

    Each event is the Avro single-object bytes (base64) of one event of the caller's party;
    the batch is taken whole or not at all: 403 if any names another party, 422 (each
    refused event, its reason and why) if any is outside the contract, 503 if the broker
    does not confirm.
    """
    state = request.app.state
    party = caller.party or ""
    returned(request, 0)
    if party not in SOURCE_BY_SYSTEM:
        raise HTTPException(403, "this token names no party with a source topic")
    received_on = uk_date(dt.datetime.now(dt.UTC))  # the hub's receipt: the contract's day
    judged = judge(
        submission.events, party, state.contracts, state.catalogue, state.area, received_on
    )
    if judged.foreign:
        where = ", ".join(str(index) for index in judged.foreign[:10])
        raise HTTPException(
            403,
            f"a {party} token publishes only {party}'s own events; the events at {where}"
            " name another source_system. Nothing was published.",
        )
    if judged.refused:
        return problem(
            422,
            f"{len(judged.refused)} of {len(submission.events)} events are outside the"
            " contract or unreadable. Nothing was published.",
            errors=[refused.as_error() for refused in judged.refused],
        )
    topic = state.topic_prefix + SOURCE_BY_SYSTEM[party]
    if judged.accepted:
        try:
            state.broker.publish(topic, [(key, value) for _, key, value in judged.accepted])
        except BrokerUnavailable as error:
            return problem(503, str(error))
    returned(request, len(judged.accepted))
    return {"topic": topic, "published": [event_id for event_id, _, _ in judged.accepted]}
