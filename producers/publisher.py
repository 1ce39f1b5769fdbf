"""Publishing one extract: read, check, pseudonymise, encode and send, then a manifest.

Events go to the source's topic keyed by the subject's pseudonym, so one person's
events stay ordered on one partition. After the broker has acknowledged them, an
`ExtractPublished` manifest lists the event ids sent, for reconciliation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from producers import ehc_plans
from producers.extract_reader import RowRefusal, decode_extract, iter_rows
from producers.identity import Pseudonymiser
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


def publish_extract(
    path: Path,
    target: PublishTarget,
    pseudonymiser: Pseudonymiser,
    *,
    now: dt.datetime,
    catalogue: Catalogue | None = None,
    on_row: Callable[[], None] | None = None,
) -> PublishSummary:
    """Publish every valid row of an EHC-plans extract; refuse the rest with line and reason."""
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
    producer = open_producer(target.bootstrap)
    try:
        pending: list[tuple[str, Any]] = []
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
                key = result["subject"]["nhs_pseudonym"].encode("ascii")
                future = producer.send(target.topic, key=key, value=encode(schema, result))
                pending.append((result["event_id"], future))
            if on_row is not None:
                on_row()
        producer.flush(timeout=SEND_TIMEOUT_S)
        acknowledged = []
        for event_id, future in pending:
            try:
                future.get(timeout=SEND_TIMEOUT_S)
                acknowledged.append(event_id)
            except KafkaError:
                summary.send_failures += 1
        summary.rows_sent = len(acknowledged)
        manifest = {
            "extract_id": str(context.extract_id),
            "event_type": ehc_plans.EVENT_TYPE,
            "source_system": target.source_system,
            "contract_id": target.contract_id,
            "area_code": target.area_code,
            "published_at": dt.datetime.now(dt.UTC),
            "rows_read": summary.rows_read,
            "rows_sent": summary.rows_sent,
            "rows_refused": summary.rows_refused,
            "event_ids": acknowledged,
        }
        producer.send(
            target.topic,
            key=str(context.extract_id).encode("ascii"),
            value=encode(catalogue.latest("ExtractPublished"), manifest),
        ).get(timeout=SEND_TIMEOUT_S)
    finally:
        producer.close(timeout=SEND_TIMEOUT_S)
    return summary
