"""The council's extract of issued EHC plans, row by row into `EhcPlanIssued` records.

Columns are documented in docs/extracts/ehc-plans-issued.md. Every check here is a
plain function of one row, so a partner gets one clear reason per refused line.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import Any

from producers.extract_reader import ExtractRow, RowRefusal
from producers.identity import InvalidIdentifier, Pseudonymiser, valid_nhs_number, valid_upn
from producers.revisions import WITHDRAWN_COLUMN, with_revision_ids, withdrawal_record

EVENT_TYPE = "EhcPlanIssued"
SCHEMA_VERSION = 2
REQUIRED_COLUMNS = ("plan_reference", "nhs_number", "request_date", "issue_date")
OPTIONAL_COLUMNS = ("upn", "permitted_exception", "primary_need", WITHDRAWN_COLUMN)
KNOWN_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
PRIMARY_NEEDS = frozenset(
    {"SPLD", "MLD", "SLD", "PMLD", "SEMH", "SLCN", "HI", "VI", "MSI", "PD", "ASD", "OTH", "NSA"}
)
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
UK_DATE = re.compile(r"\d{1,2}/\d{1,2}/\d{4}")
TRUE_FLAGS = frozenset({"y", "yes", "true", "1"})
FALSE_FLAGS = frozenset({"", "n", "no", "false", "0"})


@dataclass(frozen=True)
class PublishContext:
    """What every event of one extract shares."""

    source_system: str
    contract_id: str
    area_code: str
    extract_id: uuid.UUID
    recorded_at: dt.datetime
    today: dt.date


class RowInvalid(ValueError):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def parse_date(value: str, column: str) -> dt.date:
    """ISO (2024-03-31) or UK (31/03/2024) dates; the column name, not the value, in errors."""
    if not value:
        raise RowInvalid(f"missing_{column}", f"{column} is missing")
    try:
        if UK_DATE.fullmatch(value):
            day, month, year = value.split("/")
            return dt.date(int(year), int(month), int(day))
        if ISO_DATE.fullmatch(value):
            return dt.date.fromisoformat(value)
        raise ValueError("neither format")
    except ValueError:
        raise RowInvalid(
            "invalid_date", f"{column} is not a date (use YYYY-MM-DD or DD/MM/YYYY)"
        ) from None


def parse_flag(value: str, column: str) -> bool:
    lowered = value.lower()
    if lowered in TRUE_FLAGS:
        return True
    if lowered in FALSE_FLAGS:
        return False
    raise RowInvalid(f"invalid_{column}", f"{column} must be Y or N")


def plan_record(
    row: ExtractRow, context: PublishContext, pseudonymiser: Pseudonymiser
) -> dict[str, Any]:
    """The Avro record for one valid row, or RowInvalid / InvalidIdentifier saying why not.

    A row with `withdrawn` = Y withdraws the plan with that reference: only the
    reference is read, and the record is a `RecordWithdrawn` naming the plan.
    """
    values = row.values
    reference = values["plan_reference"]
    if not reference:
        raise RowInvalid("missing_plan_reference", "plan_reference is missing")
    if parse_flag(values.get(WITHDRAWN_COLUMN, ""), WITHDRAWN_COLUMN):
        return withdrawal_record(EVENT_TYPE, reference, context, pseudonymiser)
    nhs_number = valid_nhs_number(values["nhs_number"])
    pupil_number = values.get("upn", "")
    upn_pseudonym = pseudonymiser.upn_pseudonym(valid_upn(pupil_number)) if pupil_number else None
    request_date = parse_date(values["request_date"], "request_date")
    issue_date = parse_date(values["issue_date"], "issue_date")
    if issue_date < request_date:
        raise RowInvalid("issue_before_request", "issue_date is before request_date")
    if issue_date > context.today:
        raise RowInvalid("issue_in_future", "issue_date is in the future")
    need = values.get("primary_need", "").upper() or None
    if need is not None and need not in PRIMARY_NEEDS:
        raise RowInvalid("invalid_primary_need", "primary_need is not a DfE need code")
    issued_at = dt.datetime.combine(issue_date, dt.time(), tzinfo=dt.UTC)
    record = {
        "event_type": EVENT_TYPE,
        "schema_version": SCHEMA_VERSION,
        "occurred_at": issued_at,
        "recorded_at": context.recorded_at,
        "source_system": context.source_system,
        "contract_id": context.contract_id,
        "area_code": context.area_code,
        "extract_id": str(context.extract_id),
        "subject": {
            "nhs_pseudonym": pseudonymiser.nhs_pseudonym(nhs_number),
            "upn_pseudonym": upn_pseudonym,
            "key_id": pseudonymiser.key_id,
        },
        "request_date": request_date,
        "issue_date": issue_date,
        "permitted_exception": parse_flag(
            values.get("permitted_exception", ""), "permitted_exception"
        ),
        "primary_need": need,
    }
    return with_revision_ids(record, reference, pseudonymiser)


def record_or_refusal(
    row: ExtractRow, context: PublishContext, pseudonymiser: Pseudonymiser
) -> dict[str, Any] | RowRefusal:
    try:
        return plan_record(row, context, pseudonymiser)
    except (RowInvalid, InvalidIdentifier) as error:
        return RowRefusal(row.line, error.reason, str(error))


@dataclass(frozen=True)
class EhcPlansExtract:
    """The EHC plans extract as a row converter for the publisher."""

    event_type: str = EVENT_TYPE
    required_columns: tuple[str, ...] = REQUIRED_COLUMNS
    known_columns: tuple[str, ...] = KNOWN_COLUMNS

    def record_or_refusal(
        self, row: ExtractRow, context: PublishContext, pseudonymiser: Pseudonymiser
    ) -> dict[str, Any] | RowRefusal:
        return record_or_refusal(row, context, pseudonymiser)


EHC_PLANS = EhcPlansExtract()
