"""Which partner record a row is, and which revision of it: the ids corrections turn on.

A row's record id is a keyed hash of its record reference (`plan_reference`,
`referral_id`, ...): the same record always has the same record id. Its event id also
hashes the row's content, so a row sent again unchanged is the same event (the hub
ignores it) and a row sent again with a field changed is a new revision that
supersedes the earlier one. A row whose `withdrawn` column says yes withdraws the
record instead: it becomes a `RecordWithdrawn` event naming the record, and nobody.

The record id is what the event id was before revisions existed, so a record first
sent then is recognised as the same record when it is sent again now.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import TYPE_CHECKING, Any

from producers.identity import Pseudonymiser
from schemas.envelope import ENVELOPE_FIELDS

if TYPE_CHECKING:  # the row readers import this module
    from producers.ehc_plans import PublishContext

WITHDRAWN_COLUMN = "withdrawn"
WITHDRAWAL = "RecordWithdrawn"
WITHDRAWAL_SCHEMA_VERSION = 1
# what a revision's content is: who it is about, when it happened and its own fields
CONTENT_ENVELOPE = ("occurred_at", "subject")


def _plain(value: object) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not part of a revision's content")


def content_digest(record: dict[str, Any]) -> str:
    """SHA-256 of the record's content as canonical JSON (keys sorted, no spaces, dates in
    ISO 8601, empty fields left out, so a field a later schema adds changes nothing)."""
    content = {
        name: value
        for name, value in record.items()
        if value is not None and (name not in ENVELOPE_FIELDS or name in CONTENT_ENVELOPE)
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=_plain)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def with_revision_ids(
    record: dict[str, Any], reference: str, pseudonymiser: Pseudonymiser
) -> dict[str, Any]:
    """The record with its record id (from the reference) and event id (reference and
    content) set."""
    parts = (record["contract_id"], record["source_system"], record["event_type"], reference)
    record_id = pseudonymiser.event_id(*parts)
    event_id = pseudonymiser.event_id(*parts, f"revision:{content_digest(record)}")
    return {**record, "event_id": str(event_id), "record_id": str(record_id)}


def withdrawal_record(
    event_type: str, reference: str, context: PublishContext, pseudonymiser: Pseudonymiser
) -> dict[str, Any]:
    """The `RecordWithdrawn` event for the record `reference` of `event_type`.

    It names the record by its record id and carries no pseudonym: withdrawing a plan
    needs no NHS number. Sent twice, it is one event.
    """
    parts = (context.contract_id, context.source_system, event_type, reference)
    return {
        "event_id": str(
            pseudonymiser.event_id(
                context.contract_id, context.source_system, WITHDRAWAL, event_type, reference
            )
        ),
        "event_type": WITHDRAWAL,
        "schema_version": WITHDRAWAL_SCHEMA_VERSION,
        "occurred_at": dt.datetime.combine(context.today, dt.time(), tzinfo=dt.UTC),
        "recorded_at": context.recorded_at,
        "source_system": context.source_system,
        "contract_id": context.contract_id,
        "area_code": context.area_code,
        "extract_id": str(context.extract_id),
        "record_id": str(pseudonymiser.event_id(*parts)),
        "subject": {"nhs_pseudonym": None, "upn_pseudonym": None, "key_id": pseudonymiser.key_id},
        "withdrawn_event_type": event_type,
    }
