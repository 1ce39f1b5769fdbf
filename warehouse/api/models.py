"""The shapes the API answers with, declared for OpenAPI and checked by schemathesis.

The scorecard and JSNA documents name the fields every consumer relies on and allow
more (disclosure control adds its markings to them); the cross-tab, partner, audit and
token answers are closed: a field not declared here is never sent.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import Base64Bytes, BaseModel, ConfigDict, Field


class Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Health(Closed):
    status: Literal["ok"]


class Kpi(Open):
    id: str
    name: str
    perspective: str
    unit: str
    rag: str
    definition: str


class Scorecard(Open):
    as_at: dt.date | None = Field(description="The latest event's date; null with no events.")
    kpis: list[Kpi]


class JsnaCell(Open):
    send_status: str
    dimension: str
    value: str


class Jsna(Open):
    as_at: dt.date
    compared_with: dt.date
    cells: list[JsnaCell]


class Figure(Closed):
    """A published figure: the number, or null with the GSS symbol saying why."""

    value: int | float | None
    symbol: Literal["c", "low", "x", "z"] | None
    status: Literal[
        "exact", "rounded", "derived", "suppressed", "low", "not_available", "not_applicable"
    ]


class Disclosure(Open):
    rule: str
    suppressed_cells: int = Field(ge=0)
    symbols: dict[str, str]


class CrossTabCell(Closed):
    row: str
    column: str
    people: Figure


class RowTotal(Closed):
    row: str
    people: Figure


class ColumnTotal(Closed):
    column: str
    people: Figure


class CrossTab(Closed):
    as_at: dt.date = Field(description="The month end on or before the date asked.")
    rows: str
    columns: str
    disclosure: Disclosure
    note: str
    cells: list[CrossTabCell]
    row_totals: list[RowTotal]
    column_totals: list[ColumnTotal]


class ContractUse(Closed):
    contract_id: str
    version: int
    purposes: list[str]


class ExportMetadata(Open):
    """What an export says about itself (a CSV's `<file>.json`)."""

    as_at: dt.date | None
    generated_at: dt.datetime
    hub_version: str
    contracts: list[ContractUse]
    disclosure: Disclosure
    dimensions: dict[str, str]
    measures: dict[str, Any]
    layout: str


class ReceiptsQuery(Closed):
    event_ids: Annotated[list[uuid.UUID], Field(max_length=10_000)]


class Receipts(Closed):
    recorded: list[uuid.UUID] = Field(description="Those of the caller's events the hub holds.")


SingleObject = Annotated[
    Base64Bytes,
    Field(
        max_length=65_536,
        description="One event: its Avro single-object bytes (`C3 01`, fingerprint, body), base64.",
    ),
]


class EventSubmission(Closed):
    events: Annotated[
        list[SingleObject],
        Field(max_length=500, description="The caller's own events, taken whole or not at all."),
    ]


class Published(Closed):
    topic: str = Field(description="The caller's own source topic, where the events went.")
    published: list[uuid.UUID] = Field(description="The event ids the broker confirmed.")


class Submission(Closed):
    extract_id: uuid.UUID
    event_type: str
    published_at: dt.datetime
    rows_read: int
    rows_sent: int
    rows_refused: int
    received_at: dt.datetime
    events_recorded: int


class Submissions(Closed):
    party: str
    events_by_type: dict[str, int]
    extracts: list[Submission]


class Refusal(Closed):
    id: int
    topic: str
    partition: int
    offset: int
    reason: str
    detail: str
    received_at: dt.datetime
    released_at: dt.datetime | None


class Refusals(Closed):
    party: str
    held_by_reason: dict[str, int]
    messages: list[Refusal]


class AccessEntry(Closed):
    at: dt.datetime | None
    token_name: str
    role: str
    party: str | None
    method: str
    route: str
    parameters: dict[str, Any]
    status: int
    rows_returned: int | None
    cells_returned: int | None
    cells_suppressed: int | None
    duration_ms: float


class AccessLogPage(Closed):
    entries: list[AccessEntry]


class ReceivedCounts(Closed):
    messages: int
    by_party: dict[str, int]


class AcceptedCounts(Closed):
    events: int
    by_party: dict[str, int]
    by_event_type: dict[str, int]


class RefusedCounts(Closed):
    messages: int
    by_reason: dict[str, int]
    by_party: dict[str, int]
    by_party_and_reason: dict[str, dict[str, int]]
    note: str


class ErasureCounts(Closed):
    deletion_records: int
    events_erased: int
    by_event_type: dict[str, int]
    quarantined_erased: int


class Erasures(Closed):
    retention: ErasureCounts
    opt_out: ErasureCounts


class MonthsCovered(Closed):
    first: str | None
    last: str | None
    with_events: int


class ExtractFed(Closed):
    extract_id: uuid.UUID
    party: str | None
    published_at: str | None = Field(description="ISO 8601, as the manifest gave it.")
    events: int


class FigureLineage(Closed):
    figure: str
    kind: Literal["kpi", "jsna", "crosstab"]
    event_types: list[str]
    also_reads: list[str]
    events: int
    contracts: dict[str, int]
    months: MonthsCovered
    extracts: list[ExtractFed]
    events_without_extract: int


class Lineage(Closed):
    note: str
    figures: list[FigureLineage]


class TokenReads(Closed):
    token_name: str
    role: str
    party: str | None
    calls: int
    refused_calls: int
    by_route: dict[str, int]
    rows_returned: int
    cells_returned: int
    cells_suppressed: int


class IgReport(Closed):
    """One contract's month: the same document as `hub audit report --format json`."""

    contract_id: str
    month: str
    received: ReceivedCounts
    accepted: AcceptedCounts
    refused: RefusedCounts
    erasures: Erasures
    lineage: Lineage
    access: list[TokenReads]


class ChainBreakFound(Closed):
    sequence: int = Field(description="0 for a deletion record no erased row carries.")
    kind: Literal["link_broken", "content_changed", "hash_changed", "erasure_unrecorded"]
    meaning: str


class ChainVerification(Closed):
    verified_at: dt.datetime | None
    holds: bool
    rows: int
    tombstones: int
    last_sequence: int
    first_break: ChainBreakFound | None


class ChainStatus(Closed):
    """The latest `hub audit verify` (null if never run) and the rows appended since."""

    latest: ChainVerification | None
    rows_appended_since: int | None


class TokenEntry(Closed):
    name: str
    role: str
    party: str | None
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    state: Literal["active", "revoked", "expired"]


class Tokens(Closed):
    tokens: list[TokenEntry]
