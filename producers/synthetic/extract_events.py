"""A synthetic extract turned into the events its partner's producer would send.

Each row goes through the SDK's own converter and entry checks (contract, schema,
pseudonymisation), so `events.bin` holds exactly what `hub produce` would publish and the
refused rows are the ones a partner would see refused.
"""

from __future__ import annotations

import datetime as dt
import uuid

from producers.ehc_plans import EHC_PLANS, PublishContext
from producers.extract_reader import RowRefusal, decode_extract, iter_rows
from producers.identity import Pseudonymiser
from producers.mapped_extract import mapped_extract
from producers.source_mapping import find_extract
from producers.staging import EntryChecks, PublishTarget, RowConverter
from schemas.catalogue import Catalogue

CONTRACT_ID = "leics-send-sharing-2026"
AREA_CODE = "E10000018"


def converter_for(source: str, extract: str, catalogue: Catalogue) -> RowConverter:
    """The SDK's row converter for one of the area's extracts."""
    if (source, extract) == ("education", "ehc_plans_issued"):
        return EHC_PLANS
    return mapped_extract(find_extract(source, extract), catalogue)


def encode_extract(
    text: str,
    source: str,
    converter: RowConverter,
    pseudonymiser: Pseudonymiser,
    catalogue: Catalogue,
    recorded_at: dt.datetime,
) -> tuple[list[tuple[str, bytes]], list[RowRefusal]]:
    """The extract's events as the producer would send them; refused rows alongside."""
    from contracts.decisions import uk_date
    from contracts.loading import shipped_contracts

    schema = catalogue.latest(converter.event_type)
    target = PublishTarget("", f"{source}.events", source, CONTRACT_ID, AREA_CODE)
    checks = EntryChecks(schema, catalogue, shipped_contracts(), target, "", uk_date(recorded_at))
    context = PublishContext(
        source, CONTRACT_ID, AREA_CODE, uuid.UUID(int=0), recorded_at, recorded_at.date()
    )
    _, rows = iter_rows(
        decode_extract(text.encode()), converter.required_columns, converter.known_columns
    )
    values: list[tuple[str, bytes]] = []
    refusals: list[RowRefusal] = []
    for row in rows:
        record = (
            row
            if isinstance(row, RowRefusal)
            else converter.record_or_refusal(row, context, pseudonymiser)
        )
        entry = record if isinstance(record, RowRefusal) else checks.entry(record, row.line)
        if isinstance(entry, RowRefusal):
            refusals.append(entry)
        else:
            values.append((entry.event_id, entry.value))
    return values, refusals
