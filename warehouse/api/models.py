"""The shapes the API answers with, declared for OpenAPI and checked by schemathesis.

The scorecard and JSNA documents name the fields every consumer relies on and allow
more (disclosure control adds its markings to them); the cross-tab, partner, audit and
token answers are closed: a field not declared here is never sent.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


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
