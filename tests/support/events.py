"""Building events for tests: any event of one person (`event`), and `EhcPlanIssued` events
as the producer would build them (`plan_event`)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from schemas.envelope import Event


def event(
    kind: str,
    day: dt.date,
    payload: dict[str, Any],
    *,
    nhs: str | None = "p",
    event_id: uuid.UUID | None = None,
) -> Event:
    """An event of type `kind` that occurred on `day`, for the person with NHS pseudonym
    `nhs`; the envelope's other fields are fixed, as no rule under test reads them."""
    return Event(
        event_id=event_id or uuid.uuid4(),
        event_type=kind,
        schema_version=1,
        schema_fingerprint="00",
        occurred_at=dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC),
        recorded_at=dt.datetime(2026, 11, 30, tzinfo=dt.UTC),
        source_system="education",
        contract_id="c",
        area_code="E10000018",
        extract_id=None,
        nhs_pseudonym=nhs,
        upn_pseudonym=None,
        payload=payload,
    )


def plan_event(
    request: dt.date,
    issue: dt.date,
    *,
    exception: bool = False,
    pseudonym: str | None = "p" * 64,
    extract_id: uuid.UUID | None = None,
    event_id: uuid.UUID | None = None,
) -> Event:
    return Event(
        event_id=event_id or uuid.uuid4(),
        event_type="EhcPlanIssued",
        schema_version=1,
        schema_fingerprint="100a4ec7c4fa8b22",
        occurred_at=dt.datetime.combine(issue, dt.time(), tzinfo=dt.UTC),
        recorded_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        source_system="education",
        contract_id="leics-send-sharing-2026",
        area_code="E10000018",
        extract_id=extract_id,
        nhs_pseudonym=pseudonym,
        upn_pseudonym=None,
        payload={
            "request_date": request.isoformat(),
            "issue_date": issue.isoformat(),
            "permitted_exception": exception,
            "primary_need": "ASD",
        },
    )
