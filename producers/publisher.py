"""Publishing: staged outbox chunks go to the broker; acknowledgements are recorded.

Events go to the source's topic keyed by the subject's pseudonym, so one person's
events stay ordered on one partition; an `ExtractPublished` manifest follows them.
Whatever the broker does not confirm stays in the outbox for `hub outbox flush`.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from producers.ehc_plans import EHC_PLANS
from producers.entry_checks import PublishTarget
from producers.identity import Pseudonymiser
from producers.outbox import Outbox, OutboxEntry
from producers.staging import PublishSummary, RowConverter, StagingStart, begin_staging
from schemas.broker_access import BrokerAccess
from schemas.catalogue import Catalogue, default_catalogue

__all__ = [
    "BrokerUnavailable",
    "PublishSummary",
    "PublishTarget",
    "SendOutcome",
    "StagingStart",
    "open_producer",
    "publish_extract",
    "send_pending",
]

SEND_TIMEOUT_S = 30.0
BOOTSTRAP_TIMEOUT_MS = 5000
CHUNKS_IN_FLIGHT = 4  # chunks sent and not yet confirmed, at most


class BrokerUnavailable(RuntimeError):
    """No broker answered at the bootstrap address."""


@dataclass(frozen=True)
class SendOutcome:
    acknowledged: tuple[str, ...]
    failed: int
    broker_unavailable: bool = False


def open_producer(bootstrap: str, access: BrokerAccess | None = None) -> KafkaProducer:
    """A producer signed in as this partner's principal (`access`; none on the embedded stack)."""
    try:
        return KafkaProducer(
            **(access or BrokerAccess()).kafka_python(),
            bootstrap_servers=bootstrap,
            acks="all",
            linger_ms=5,
            batch_size=256 * 1024,
            retries=5,
            client_id="hub-producer",
            request_timeout_ms=int(SEND_TIMEOUT_S * 1000),
            bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
        )
    except KafkaError:
        raise BrokerUnavailable(
            f"no broker answered at {bootstrap}: is `hub up` running? (HUB_BROKER_HOST/PORT)"
        ) from None


def _confirm(outbox: Outbox, futures: Sequence[tuple[OutboxEntry, Any]]) -> tuple[list[str], int]:
    confirmed: list[str] = []
    failed = 0
    for entry, future in futures:
        try:
            future.get(timeout=SEND_TIMEOUT_S)
            confirmed.append(entry.event_id)
        except KafkaError:
            failed += 1
    outbox.mark_acknowledged(confirmed)
    return confirmed, failed


def send_pending(
    outbox: Outbox, bootstrap: str, *, batch: int = 5_000, access: BrokerAccess | None = None
) -> SendOutcome:
    """Send everything the outbox holds unacknowledged; mark what the broker confirms."""
    try:
        producer = open_producer(bootstrap, access)
    except BrokerUnavailable:
        return SendOutcome((), 0, broker_unavailable=True)
    try:
        outcome = _send_pending_with(producer, outbox, batch=batch)
    finally:
        producer.close(timeout=SEND_TIMEOUT_S)
    outbox.remove_acknowledged_manifests()
    return outcome


def _send_pending_with(
    producer: KafkaProducer, outbox: Outbox, *, batch: int = 5_000
) -> SendOutcome:
    acknowledged: list[str] = []
    failed = 0
    while entries := outbox.pending(limit=batch):
        outbox.count_attempt([e.event_id for e in entries])
        futures = [(e, producer.send(e.topic, key=e.key, value=e.value)) for e in entries]
        producer.flush(timeout=SEND_TIMEOUT_S)
        confirmed, missed = _confirm(outbox, futures)
        acknowledged.extend(confirmed)
        failed += missed
        if missed:
            break  # the broker is failing: leave the rest for the next flush
    return SendOutcome(tuple(acknowledged), failed)


def _send_chunks(
    producer: KafkaProducer, outbox: Outbox, chunks: Iterator[list[OutboxEntry]]
) -> int:
    """Send each chunk once it is on disk; how many the broker did not confirm.

    Confirmations are awaited a few chunks behind the sending, so memory stays flat
    however large the extract, and are recorded even when the run is interrupted, so a
    resumed run knows what the broker already has.
    """
    in_flight: deque[list[tuple[OutboxEntry, Any]]] = deque()
    failed = 0
    try:
        for chunk in chunks:
            sending: list[tuple[OutboxEntry, Any]] = []
            in_flight.append(sending)  # before sending: an interruption still confirms it
            for entry in chunk:
                sending.append(
                    (entry, producer.send(entry.topic, key=entry.key, value=entry.value))
                )
            if len(in_flight) > CHUNKS_IN_FLIGHT:
                failed += _confirm(outbox, in_flight[0])[1]
                in_flight.popleft()  # only once its confirmations are recorded
    finally:
        producer.flush(timeout=SEND_TIMEOUT_S)
        while in_flight:
            failed += _confirm(outbox, in_flight.popleft())[1]
    return failed


def publish_extract(
    path: Path,
    target: PublishTarget,
    pseudonymiser: Pseudonymiser,
    outbox: Outbox,
    *,
    now: dt.datetime,
    catalogue: Catalogue | None = None,
    on_start: Callable[[StagingStart], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    converter: RowConverter = EHC_PLANS,
) -> PublishSummary:
    """Stage an extract in the outbox chunk by chunk, sending each chunk once it is on disk.

    Rows refused at source are listed with line and reason; events the broker did not
    confirm stay in the outbox. A run resuming an interrupted one first sends what that
    run left unsent, then stages only the rows it did not reach; anything else left from
    earlier runs is sent afterwards. Raises ExtractUnreadable.
    """
    staging = begin_staging(
        path,
        target,
        pseudonymiser,
        outbox,
        now=now,
        catalogue=catalogue or default_catalogue(),
        converter=converter,
    )
    if on_start is not None:
        on_start(staging.start)
    try:
        producer = open_producer(target.bootstrap, target.access)
    except BrokerUnavailable:
        for _ in staging.chunks(on_progress):
            pass  # keep every event in the outbox for a later flush
        staging.summary.broker_unavailable = True
        return _with_sent(staging.summary, outbox)
    try:
        # what an interrupted run of this extract left unsent goes before the rest of it
        failed = _send_pending_with(producer, outbox).failed if staging.start.resuming else 0
        failed += _send_chunks(producer, outbox, staging.chunks(on_progress))
    finally:
        producer.close(timeout=SEND_TIMEOUT_S)
    outbox.remove_acknowledged_manifests()
    if outbox.status().pending and not failed:
        # leftovers of earlier, interrupted runs
        send_pending(outbox, target.bootstrap, access=target.access)
    return _with_sent(staging.summary, outbox)


def _with_sent(summary: PublishSummary, outbox: Outbox) -> PublishSummary:
    """Sent means confirmed by the broker, in this run or an earlier one of the extract."""
    summary.send_failures = outbox.pending_of_extract(summary.extract_id, kind="event")
    summary.rows_sent = summary.rows_staged - summary.send_failures
    return summary
