"""Publishing: staged outbox chunks go to the broker; acknowledgements are recorded.

Events go to the source's topic keyed by the subject's pseudonym, so one person's
events stay ordered on one partition; an `ExtractPublished` manifest follows them.
Whatever the broker does not confirm stays in the outbox for `hub outbox flush`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from producers.ehc_plans import EHC_PLANS
from producers.identity import Pseudonymiser
from producers.outbox import Outbox, OutboxEntry
from producers.staging import PublishSummary, PublishTarget, RowConverter, staged_chunks
from schemas.catalogue import Catalogue, default_catalogue

__all__ = [
    "BrokerUnavailable",
    "PublishSummary",
    "PublishTarget",
    "SendOutcome",
    "open_producer",
    "publish_extract",
    "send_pending",
]

SEND_TIMEOUT_S = 30.0
BOOTSTRAP_TIMEOUT_MS = 5000


class BrokerUnavailable(RuntimeError):
    """No broker answered at the bootstrap address."""


@dataclass(frozen=True)
class SendOutcome:
    acknowledged: tuple[str, ...]
    failed: int
    broker_unavailable: bool = False


def open_producer(bootstrap: str) -> KafkaProducer:
    try:
        return KafkaProducer(
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


def send_pending(outbox: Outbox, bootstrap: str, *, batch: int = 5_000) -> SendOutcome:
    """Send everything the outbox holds unacknowledged; mark what the broker confirms."""
    try:
        producer = open_producer(bootstrap)
    except BrokerUnavailable:
        return SendOutcome((), 0, broker_unavailable=True)
    acknowledged: list[str] = []
    failed = 0
    try:
        while entries := outbox.pending(limit=batch):
            outbox.count_attempt([e.event_id for e in entries])
            futures = [(e, producer.send(e.topic, key=e.key, value=e.value)) for e in entries]
            producer.flush(timeout=SEND_TIMEOUT_S)
            confirmed, missed = _confirm(outbox, futures)
            acknowledged.extend(confirmed)
            failed += missed
            if missed:
                break  # the broker is failing: leave the rest for the next flush
    finally:
        producer.close(timeout=SEND_TIMEOUT_S)
    outbox.remove_acknowledged_manifests()
    return SendOutcome(tuple(acknowledged), failed)


def publish_extract(
    path: Path,
    target: PublishTarget,
    pseudonymiser: Pseudonymiser,
    outbox: Outbox,
    *,
    now: dt.datetime,
    catalogue: Catalogue | None = None,
    on_row: Callable[[], None] | None = None,
    converter: RowConverter = EHC_PLANS,
) -> PublishSummary:
    """Stage an extract in the outbox chunk by chunk, sending each chunk once it is on disk.

    Rows refused at source are listed with line and reason; events the broker did not
    confirm stay in the outbox. Anything left from earlier runs is sent afterwards.
    """
    catalogue = catalogue or default_catalogue()
    summaries: list[PublishSummary] = []
    chunks = staged_chunks(
        path,
        target,
        pseudonymiser,
        outbox,
        summaries,
        now=now,
        catalogue=catalogue,
        on_row=on_row,
        converter=converter,
    )
    try:
        producer = open_producer(target.bootstrap)
    except BrokerUnavailable:
        for _ in chunks:
            pass  # keep every event in the outbox for a later flush
        summaries[0].broker_unavailable = True
        summaries[0].send_failures = len(summaries[0].event_ids)
        return summaries[0]
    futures: list[tuple[OutboxEntry, Any]] = []
    try:
        for chunk in chunks:
            futures.extend((e, producer.send(e.topic, key=e.key, value=e.value)) for e in chunk)
        producer.flush(timeout=SEND_TIMEOUT_S)
        confirmed, _ = _confirm(outbox, futures)
    finally:
        producer.close(timeout=SEND_TIMEOUT_S)
    outbox.remove_acknowledged_manifests()
    summary = summaries[0]
    mine = set(summary.event_ids)
    summary.rows_sent = sum(1 for event_id in confirmed if event_id in mine)
    summary.send_failures = len(mine) - summary.rows_sent
    if outbox.status().pending and not summary.send_failures:
        send_pending(outbox, target.bootstrap)  # leftovers of earlier, interrupted runs
    return summary
