"""Turning an extract into encoded events in the outbox, chunk by chunk, with refusals.

Each chunk is committed to the outbox before it is handed on, so the publisher can
send it while the next chunk is being checked: nothing reaches the broker that is not
already on disk. The manifest parts come last, once every event id is known.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from contracts.decisions import Candidate, Decision, decide
from contracts.loading import shipped_contracts
from contracts.models import Contract
from producers import ehc_plans
from producers.extract_reader import ExtractRow, RowRefusal, decode_extract, iter_rows
from producers.identity import Pseudonymiser
from producers.outbox import Outbox, OutboxEntry
from schemas.catalogue import Catalogue, EventSchema
from schemas.codec import encode

CHUNK_ROWS = 2_000
MANIFEST_IDS_PER_PART = 10_000


class RowConverter(Protocol):
    """Turns the rows of one kind of extract into event records, or says why not."""

    @property
    def event_type(self) -> str: ...

    @property
    def required_columns(self) -> tuple[str, ...]: ...

    @property
    def known_columns(self) -> tuple[str, ...]: ...

    def record_or_refusal(
        self, row: ExtractRow, context: ehc_plans.PublishContext, pseudonymiser: Pseudonymiser
    ) -> dict[str, Any] | RowRefusal: ...


@dataclass(frozen=True)
class PublishTarget:
    bootstrap: str
    topic: str
    source_system: str
    contract_id: str
    area_code: str


@dataclass
class PublishSummary:
    extract_id: str
    rows_read: int = 0
    rows_sent: int = 0
    refusals: list[RowRefusal] = field(default_factory=list)
    send_failures: int = 0
    unknown_columns: tuple[str, ...] = ()
    event_ids: list[str] = field(default_factory=list)
    broker_unavailable: bool = False

    @property
    def rows_refused(self) -> int:
        return len(self.refusals)

    @property
    def clean(self) -> bool:
        return not self.refusals and not self.send_failures and not self.broker_unavailable


def staged_chunks(
    path: Path,
    target: PublishTarget,
    pseudonymiser: Pseudonymiser,
    outbox: Outbox,
    summary_out: list[PublishSummary],
    *,
    now: dt.datetime,
    catalogue: Catalogue,
    on_row: Callable[[], None] | None = None,
    converter: RowConverter = ehc_plans.EHC_PLANS,
    contracts: Mapping[str, Contract] | None = None,
) -> Iterator[list[OutboxEntry]]:
    """Yield chunks of entries already committed to the outbox; the summary is filled in.

    Every record is checked against its schema and the contract before it is staged:
    a row the gatekeeper would refuse is refused here, at source, with its line.
    """
    contracts = shipped_contracts() if contracts is None else contracts
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
        decode_extract(content), converter.required_columns, converter.known_columns
    )
    summary = PublishSummary(str(context.extract_id), unknown_columns=header.unknown_columns)
    summary_out.append(summary)
    schema = catalogue.latest(converter.event_type)
    checks = EntryChecks(schema, catalogue, contracts, target, summary.extract_id)
    first_line: dict[str, int] = {}  # a record repeated in one extract is sent once
    chunk: list[OutboxEntry] = []
    for row in rows:
        summary.rows_read += 1
        record = (
            row
            if isinstance(row, RowRefusal)
            else converter.record_or_refusal(row, context, pseudonymiser)
        )
        entry = record if isinstance(record, RowRefusal) else checks.entry(record, row.line)
        if not isinstance(entry, RowRefusal) and entry.event_id in first_line:
            entry = RowRefusal(
                row.line, "duplicate_row", f"same record as line {first_line[entry.event_id]}"
            )
        if isinstance(entry, RowRefusal):
            summary.refusals.append(entry)
        else:
            first_line[entry.event_id] = row.line
            chunk.append(entry)
            summary.event_ids.append(entry.event_id)
        if on_row is not None:
            on_row()
        if len(chunk) >= CHUNK_ROWS:
            outbox.enqueue(chunk)
            yield chunk
            chunk = []
    chunk.extend(manifest_entries(summary, target, catalogue, now, converter.event_type))
    outbox.enqueue(chunk)
    yield chunk


@dataclass(frozen=True)
class EntryChecks:
    """What every record of one extract is checked against before it is staged."""

    schema: EventSchema
    catalogue: Catalogue
    contracts: Mapping[str, Contract]
    target: PublishTarget
    extract_id: str
    _decisions: dict[tuple[Any, ...], Decision] = field(default_factory=dict)

    def _decision(self, record: dict[str, Any]) -> Decision:
        """The contract's answer; at source no opt-out list applies, so rows of the same
        shape (type, party, contract, key, day, which fields are empty) get the same one."""
        recorded = record["recorded_at"]
        shape = (
            record["event_type"],
            record["source_system"],
            record["contract_id"],
            record["area_code"],
            record["subject"]["key_id"],
            recorded.date() if isinstance(recorded, dt.datetime) else recorded,
            tuple(name for name, value in record.items() if value is None),
        )
        decision = self._decisions.get(shape)
        if decision is None:
            decision = decide(Candidate.from_record(record), self.contracts, self.catalogue)
            self._decisions[shape] = decision
        return decision

    def entry(self, record: dict[str, Any], line: int) -> OutboxEntry | RowRefusal:
        """The outbox entry for a record, or a refusal if its contract or schema says no."""
        decision = self._decision(record)
        if not decision.accepted:
            return RowRefusal(line, f"contract_{decision.reason.value}", decision.detail)
        try:
            value = encode(self.schema, record)
        except (ValueError, TypeError, KeyError):  # fastavro's message may quote the value
            return RowRefusal(line, "schema_invalid", f"the row does not fit {self.schema.name}")
        return OutboxEntry(
            event_id=record["event_id"],
            topic=self.target.topic,
            key=partition_key(record),
            value=value,
            extract_id=self.extract_id,
        )


def partition_key(record: dict[str, Any]) -> bytes:
    """One person's events share a partition, so they are applied in order."""
    subject = record["subject"]
    pseudonym = subject["nhs_pseudonym"] or subject["upn_pseudonym"]
    return str(pseudonym).encode("ascii")


def manifest_entries(
    summary: PublishSummary,
    target: PublishTarget,
    catalogue: Catalogue,
    now: dt.datetime,
    event_type: str = ehc_plans.EVENT_TYPE,
) -> list[OutboxEntry]:
    """The extract's manifest, in parts small enough for one broker message each."""
    schema = catalogue.latest("ExtractPublished")
    ids = summary.event_ids
    chunks = [
        ids[i : i + MANIFEST_IDS_PER_PART] for i in range(0, len(ids), MANIFEST_IDS_PER_PART)
    ] or [[]]
    entries = []
    for part, chunk in enumerate(chunks, start=1):
        manifest = {
            "extract_id": summary.extract_id,
            "event_type": event_type,
            "source_system": target.source_system,
            "contract_id": target.contract_id,
            "area_code": target.area_code,
            "published_at": now,
            "rows_read": summary.rows_read,
            "rows_sent": len(ids),
            "rows_refused": summary.rows_refused,
            "part": part,
            "parts": len(chunks),
            "event_ids": chunk,
        }
        entries.append(
            OutboxEntry(
                event_id=f"manifest:{summary.extract_id}:{part}",
                topic=target.topic,
                key=summary.extract_id.encode("ascii"),
                value=encode(schema, manifest),
                extract_id=summary.extract_id,
                kind="manifest",
            )
        )
    return entries
