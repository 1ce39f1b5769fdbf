"""Turning an extract into encoded events in the outbox, chunk by chunk, with refusals.

The file is read as it goes, never whole: its id is an HMAC taken block by block, and each
chunk of rows is committed to the outbox, with the ledger's note of how far staging got,
before it is handed on. The publisher sends a chunk while the next is checked, nothing
reaches the broker that is not on disk, and an interrupted run resumes after its last
chunk. The manifest parts come last, their event ids read back from the ledger.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from contracts.decisions import uk_date
from contracts.loading import shipped_contracts
from contracts.models import Contract
from producers import ehc_plans

# re-exported: the synthetic area and the publisher's callers know them from here
from producers.entry_checks import EntryChecks as EntryChecks
from producers.entry_checks import PublishTarget as PublishTarget
from producers.extract_reader import (
    ExtractRow,
    RowRefusal,
    iter_lines,
    open_extract,
    read_blocks,
)
from producers.identity import Pseudonymiser
from producers.outbox import Outbox, OutboxEntry
from producers.staging_ledger import (
    LedgerEntry,
    StagedEventIds,
    StagedRecord,
    StagingLedger,
    StagingProgress,
)
from schemas.catalogue import Catalogue, EventSchema
from schemas.codec import encode

CHUNK_ROWS = 2_000
MANIFEST_IDS_PER_PART = 10_000
MANIFEST_PARTS_PER_CHUNK = 5
REFUSALS_KEPT = 1_000  # refusals a summary holds; the ledger holds them all


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


@dataclass
class PublishSummary:
    """What publishing one extract did, over every run of it: rows an interrupted run read
    count too. `refusals` holds the first REFUSALS_KEPT by line, `rows_refused` counts all."""

    extract_id: str
    rows_read: int = 0
    rows_sent: int = 0
    rows_refused: int = 0
    refusals: list[RowRefusal] = field(default_factory=list)
    send_failures: int = 0
    unknown_columns: tuple[str, ...] = ()
    event_ids: Collection[str] = ()
    broker_unavailable: bool = False
    refusals_file: Path | None = None  # every refusal, when there are more than it holds

    @property
    def rows_staged(self) -> int:
        return len(self.event_ids)

    @property
    def clean(self) -> bool:
        return not self.rows_refused and not self.send_failures and not self.broker_unavailable


@dataclass(frozen=True)
class StagingStart:
    """What a run finds before it reads a row, for the person publishing to be told."""

    extract_id: str
    rows_estimate: int  # lines after the header, from counting line ends
    resumed_after_line: int  # 0 when staging starts at the top of the file
    rows_read_before: int
    staged_in_full: bool  # an earlier run staged every row and the manifest: only sending is left
    published_before: bool  # an earlier run staged and sent it all: this run sends it again

    @property
    def resuming(self) -> bool:
        return self.resumed_after_line > 0 or self.staged_in_full


def scan_extract(path: Path, pseudonymiser: Pseudonymiser) -> tuple[uuid.UUID, int]:
    """The extract's id and its rows as line ends after the header, in one pass over its
    bytes; the id is the one `Pseudonymiser.extract_id` gives for the whole file."""
    line_ends, last = 0, b"\n"

    def counted() -> Iterator[bytes]:
        nonlocal line_ends, last
        for block in read_blocks(path):
            line_ends += block.count(b"\n")
            last = block[-1:]
            yield block

    extract_id = pseudonymiser.extract_id_of_blocks(counted())
    return extract_id, max(line_ends - (last == b"\n"), 0)


def staged_chunks(
    path: Path,
    target: PublishTarget,
    pseudonymiser: Pseudonymiser,
    outbox: Outbox,
    summary_out: list[PublishSummary],
    *,
    now: dt.datetime,
    catalogue: Catalogue,
    on_progress: Callable[[int], None] | None = None,
    converter: RowConverter = ehc_plans.EHC_PLANS,
    contracts: Mapping[str, Contract] | None = None,
) -> Iterator[list[OutboxEntry]]:
    """Yield chunks of entries already committed to the outbox; the summary is filled in."""
    staging = begin_staging(
        path,
        target,
        pseudonymiser,
        outbox,
        now=now,
        catalogue=catalogue,
        converter=converter,
        contracts=contracts,
    )
    summary_out.append(staging.summary)
    yield from staging.chunks(on_progress)


def begin_staging(
    path: Path,
    target: PublishTarget,
    pseudonymiser: Pseudonymiser,
    outbox: Outbox,
    *,
    now: dt.datetime,
    catalogue: Catalogue,
    converter: RowConverter = ehc_plans.EHC_PLANS,
    contracts: Mapping[str, Contract] | None = None,
) -> ExtractStaging:
    """Identify the extract, check its header and find in the ledger where to start.

    Raises ExtractUnreadable. A resumed extract keeps the time its first run recorded, so
    every event and manifest part of it carries the same `recorded_at`.
    """
    extract_id, rows_estimate = scan_extract(path, pseudonymiser)
    with open_extract(path) as text:
        header, _ = iter_lines(text, converter.required_columns, converter.known_columns)
    ledger = StagingLedger(outbox)
    entry = ledger.start(str(extract_id), now)
    context = ehc_plans.PublishContext(
        source_system=target.source_system,
        contract_id=target.contract_id,
        area_code=target.area_code,
        extract_id=extract_id,
        recorded_at=entry.recorded_at,
        today=entry.recorded_at.date(),
    )
    schema = catalogue.latest(converter.event_type)
    contracts = shipped_contracts() if contracts is None else contracts
    start = StagingStart(
        entry.extract_id,
        rows_estimate,
        entry.progress.last_line,
        entry.progress.rows_read,
        entry.staged_in_full,
        entry.published_before,
    )
    return ExtractStaging(
        path=path,
        converter=converter,
        context=context,
        pseudonymiser=pseudonymiser,
        checks=EntryChecks(schema, catalogue, contracts, target, entry.extract_id, uk_date(now)),
        ledger=ledger,
        entry=entry,
        start=start,
        summary=PublishSummary(entry.extract_id, unknown_columns=header.unknown_columns),
    )


@dataclass
class Chunk:
    """The rows read since the last commit: what the next transaction writes."""

    candidates: list[tuple[OutboxEntry, StagedRecord]] = field(default_factory=list)
    refusals: list[RowRefusal] = field(default_factory=list)
    entries: list[OutboxEntry] = field(default_factory=list)
    records: list[StagedRecord] = field(default_factory=list)
    rows: int = 0
    last_line: int = 0

    def add(self, line: int, outcome: tuple[OutboxEntry, StagedRecord] | RowRefusal) -> None:
        self.rows += 1
        self.last_line = line
        if isinstance(outcome, RowRefusal):
            self.refusals.append(outcome)
        else:
            self.candidates.append(outcome)

    def settle(self, staged_before: Mapping[str, int]) -> None:
        """Keep each record's first line only: a record staged by an earlier chunk (found in
        `staged_before`, by key) or earlier in this one is refused as a repeat."""
        first_lines = dict(staged_before)
        for entry, record in self.candidates:
            first = first_lines.get(record.record_key)
            if first is not None:
                message = f"same record as line {first}"
                self.refusals.append(RowRefusal(record.line, "duplicate_row", message))
                continue
            first_lines[record.record_key] = record.line
            self.entries.append(entry)
            self.records.append(record)
        self.candidates = []

    def progress_after(self, before: StagingProgress) -> StagingProgress:
        return replace(
            before,
            last_line=self.last_line,
            rows_read=before.rows_read + self.rows,
            rows_refused=before.rows_refused + len(self.refusals),
            rows_staged=before.rows_staged + len(self.records),
        )


@dataclass
class ExtractStaging:
    """One run staging one extract: its context and checks, and the ledger's entry for it."""

    path: Path
    converter: RowConverter
    context: ehc_plans.PublishContext
    pseudonymiser: Pseudonymiser
    checks: EntryChecks
    ledger: StagingLedger
    entry: LedgerEntry
    start: StagingStart
    summary: PublishSummary

    @property
    def progress(self) -> StagingProgress:
        return self.entry.progress

    def chunks(
        self, on_progress: Callable[[int], None] | None = None
    ) -> Iterator[list[OutboxEntry]]:
        """The rows an earlier run did not stage, then the manifest parts, chunk by chunk,
        each committed before it is yielded; `on_progress` hears the line reached."""
        if not self.entry.staged_in_full:
            yield from self._row_chunks(on_progress)
            yield from self._manifest_chunks()
        self._fill_summary(refusals=True)

    def _row_chunks(self, on_progress: Callable[[int], None] | None) -> Iterator[list[OutboxEntry]]:
        chunk = Chunk()
        with open_extract(self.path) as text:
            _, rows = iter_lines(
                text, self.converter.required_columns, self.converter.known_columns
            )
            for row in rows:
                if row.line <= self.progress.last_line:
                    continue  # staged by an earlier run
                chunk.add(row.line, self._outcome(row))
                if chunk.rows >= CHUNK_ROWS:
                    yield self._commit(chunk, on_progress)
                    chunk = Chunk()
        if chunk.rows:
            yield self._commit(chunk, on_progress)

    def _outcome(
        self, row: ExtractRow | RowRefusal
    ) -> tuple[OutboxEntry, StagedRecord] | RowRefusal:
        """The row's entry with the key that finds a repeat of its record (`record_id`, or
        the event id), or why it is refused."""
        if isinstance(row, RowRefusal):
            return row
        record = self.converter.record_or_refusal(row, self.context, self.pseudonymiser)
        if isinstance(record, RowRefusal):
            return record
        entry = self.checks.entry(record, row.line)
        if isinstance(entry, RowRefusal):
            return entry
        key = str(record.get("record_id") or record["event_id"])
        return entry, StagedRecord(row.line, key, entry.event_id)

    def _commit(self, chunk: Chunk, on_progress: Callable[[int], None] | None) -> list[OutboxEntry]:
        """Refuse repeats, however far apart, then stage the chunk and note how far staging got."""
        keys = [record.record_key for _, record in chunk.candidates]
        chunk.settle(self.ledger.first_lines(self.entry.key, keys))
        progress = chunk.progress_after(self.progress)
        self.ledger.commit(self.entry.key, chunk.entries, chunk.records, chunk.refusals, progress)
        self.entry = replace(self.entry, progress=progress)
        self._fill_summary()
        if on_progress is not None:
            on_progress(chunk.last_line)
        return chunk.entries

    def _manifest_chunks(self) -> Iterator[list[OutboxEntry]]:
        """The manifest in parts of up to MANIFEST_IDS_PER_PART ids, a few parts a chunk; the
        last chunk marks the extract staged in full. Parts an earlier run staged are skipped."""
        schema = self.checks.catalogue.latest("ExtractPublished")
        parts = max(1, math.ceil(self.progress.rows_staged / MANIFEST_IDS_PER_PART))
        batch: list[OutboxEntry] = []
        pages = self.ledger.event_id_pages(self.entry.key, MANIFEST_IDS_PER_PART)
        for part, event_ids in enumerate(pages, start=1):
            if part <= self.progress.manifest_parts:
                continue
            batch.append(self._manifest_part(schema, part, parts, event_ids))
            if len(batch) == MANIFEST_PARTS_PER_CHUNK or part == parts:
                progress = replace(self.progress, manifest_parts=part)
                self.ledger.commit(self.entry.key, batch, (), (), progress, in_full=part == parts)
                self.entry = replace(self.entry, progress=progress)
                yield batch
                batch = []

    def _manifest_part(
        self, schema: EventSchema, part: int, parts: int, event_ids: list[str]
    ) -> OutboxEntry:
        target, extract_id = self.checks.target, self.entry.extract_id
        manifest = {
            "extract_id": extract_id,
            "event_type": self.converter.event_type,
            "source_system": target.source_system,
            "contract_id": target.contract_id,
            "area_code": target.area_code,
            "published_at": self.entry.recorded_at,
            "rows_read": self.progress.rows_read,
            "rows_sent": self.progress.rows_staged,
            "rows_refused": self.progress.rows_refused,
            "part": part,
            "parts": parts,
            "event_ids": event_ids,
        }
        return OutboxEntry(
            event_id=f"manifest:{extract_id}:{part}",
            topic=target.topic,
            key=extract_id.encode("ascii"),
            value=encode(schema, manifest),
            extract_id=extract_id,
            kind="manifest",
        )

    def _fill_summary(self, *, refusals: bool = False) -> None:
        """The summary's counts from the ledger's; the first refusals once staging is done."""
        summary, progress = self.summary, self.progress
        summary.rows_read, summary.rows_refused = progress.rows_read, progress.rows_refused
        summary.event_ids = StagedEventIds(
            self.ledger.outbox.path, self.entry.key, progress.rows_staged
        )
        if refusals:
            summary.refusals = list(self.ledger.refusals(self.entry.key, limit=REFUSALS_KEPT))
