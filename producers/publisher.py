"""Publishing one extract: read, check, pseudonymise, encode, store in the outbox, send.

Events go to the source's topic keyed by the subject's pseudonym, so one person's
events stay ordered on one partition. An `ExtractPublished` manifest follows them,
listing the event ids the extract produced, for reconciliation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kafka import KafkaProducer
from kafka.errors import KafkaError

from producers import ehc_plans
from producers.extract_reader import RowRefusal, decode_extract, iter_rows
from producers.identity import Pseudonymiser
from producers.outbox import Outbox, OutboxEntry
from schemas.catalogue import Catalogue, default_catalogue
from schemas.codec import encode

SEND_TIMEOUT_S = 30.0
BOOTSTRAP_TIMEOUT_MS = 5000


class BrokerUnavailable(RuntimeError):
    """No broker answered at the bootstrap address."""


@dataclass
class PublishSummary:
    extract_id: str
    rows_read: int = 0
    rows_sent: int = 0
    refusals: list[RowRefusal] = field(default_factory=list)
    send_failures: int = 0
    unknown_columns: tuple[str, ...] = ()
    event_ids: tuple[str, ...] = ()
    broker_unavailable: bool = False

    @property
    def rows_refused(self) -> int:
        return len(self.refusals)

    @property
    def clean(self) -> bool:
        return not self.refusals and not self.send_failures


@dataclass(frozen=True)
class PublishTarget:
    bootstrap: str
    topic: str
    source_system: str
    contract_id: str
    area_code: str


def open_producer(bootstrap: str) -> KafkaProducer:
    try:
        return KafkaProducer(
            bootstrap_servers=bootstrap,
            acks="all",
            linger_ms=5,
            retries=5,
            client_id="hub-producer",
            request_timeout_ms=int(SEND_TIMEOUT_S * 1000),
            bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
        )
    except KafkaError:
        raise BrokerUnavailable(
            f"no broker answered at {bootstrap}: is `hub up` running? (HUB_BROKER_HOST/PORT)"
        ) from None


@dataclass(frozen=True)
class SendOutcome:
    acknowledged: tuple[str, ...]
    failed: int
    broker_unavailable: bool = False


def stage_extract(
    path: Path,
    target: PublishTarget,
    pseudonymiser: Pseudonymiser,
    outbox: Outbox,
    *,
    now: dt.datetime,
    catalogue: Catalogue | None = None,
    on_row: Callable[[], None] | None = None,
) -> PublishSummary:
    """Check, pseudonymise and encode every row, and store the good ones (and a manifest)
    in the outbox in one transaction. Nothing is sent yet."""
    catalogue = catalogue or default_catalogue()
    content = path.read_bytes()
    context = ehc_plans.PublishContext(
        source_system=target.source_system,
        contract_id=target.contract_id,
        area_code=target.area_code,
        extract_id=pseudonymiser.extract_id(content),
        recorded_at=now,
        today=now.date(),
    )
    header, rows = iter_rows(
        decode_extract(content), ehc_plans.REQUIRED_COLUMNS, ehc_plans.KNOWN_COLUMNS
    )
    summary = PublishSummary(str(context.extract_id), unknown_columns=header.unknown_columns)
    schema = catalogue.latest(ehc_plans.EVENT_TYPE)
    entries: list[OutboxEntry] = []
    for row in rows:
        summary.rows_read += 1
        result = (
            row
            if isinstance(row, RowRefusal)
            else ehc_plans.record_or_refusal(row, context, pseudonymiser)
        )
        if isinstance(result, RowRefusal):
            summary.refusals.append(result)
        else:
            entries.append(
                OutboxEntry(
                    event_id=result["event_id"],
                    topic=target.topic,
                    key=result["subject"]["nhs_pseudonym"].encode("ascii"),
                    value=encode(schema, result),
                    extract_id=summary.extract_id,
                )
            )
        if on_row is not None:
            on_row()
    summary.event_ids = tuple(e.event_id for e in entries)
    manifest = {
        "extract_id": summary.extract_id,
        "event_type": ehc_plans.EVENT_TYPE,
        "source_system": target.source_system,
        "contract_id": target.contract_id,
        "area_code": target.area_code,
        "published_at": now,
        "rows_read": summary.rows_read,
        "rows_sent": len(entries),
        "rows_refused": summary.rows_refused,
        "event_ids": list(summary.event_ids),
    }
    entries.append(
        OutboxEntry(
            event_id=f"manifest:{summary.extract_id}",
            topic=target.topic,
            key=summary.extract_id.encode("ascii"),
            value=encode(catalogue.latest("ExtractPublished"), manifest),
            extract_id=summary.extract_id,
            kind="manifest",
        )
    )
    outbox.enqueue(entries)
    return summary


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
            confirmed = []
            for entry, future in futures:
                try:
                    future.get(timeout=SEND_TIMEOUT_S)
                    confirmed.append(entry.event_id)
                except KafkaError:
                    failed += 1
            outbox.mark_acknowledged(confirmed)
            acknowledged.extend(confirmed)
            if len(confirmed) < len(entries):
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
) -> PublishSummary:
    """Stage an extract in the outbox, then send it. Rows refused at source are listed
    with line and reason; events the broker did not confirm stay in the outbox."""
    summary = stage_extract(
        path, target, pseudonymiser, outbox, now=now, catalogue=catalogue, on_row=on_row
    )
    outcome = send_pending(outbox, target.bootstrap)
    mine = set(summary.event_ids)
    summary.rows_sent = sum(1 for event_id in outcome.acknowledged if event_id in mine)
    summary.send_failures = len(mine) - summary.rows_sent
    summary.broker_unavailable = outcome.broker_unavailable
    return summary
