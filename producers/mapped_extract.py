"""Any mapped partner extract, row by row into event records, with one reason per refused row.

The rules follow the event schema: a date field must hold a date, an enum field a
known code, a required field a value. Identifiers are validated (mod-11 NHS
number, UPN check letter) and pseudonymised here, at source; a field tagged as a
quasi-identifier with `coarsen: month` leaves as a month, never the full date.
Refusal messages name the column, never the value. A row with `withdrawn` = Y
withdraws the record with its reference (`producers/revisions.py`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from producers.ehc_plans import PublishContext, RowInvalid, parse_date, parse_flag
from producers.extract_reader import ExtractRow, RowRefusal, normalise_column
from producers.identity import InvalidIdentifier, Pseudonymiser, valid_nhs_number, valid_upn
from producers.revisions import WITHDRAWN_COLUMN, with_revision_ids, withdrawal_record
from producers.source_mapping import (
    ExtractMapping,
    FieldMapping,
    enum_symbols,
    is_optional,
    non_null,
    schema_fields,
)
from schemas.catalogue import Catalogue, EventSchema


@dataclass(frozen=True)
class MappedField:
    """One event field with the column it is read from and how."""

    name: str
    column: str | None
    avro_type: Any
    optional: bool
    mapping: FieldMapping


@dataclass(frozen=True)
class MappedExtract:
    """A row converter for one mapped extract (the same shape as the EHC plans converter)."""

    event_type: str
    schema_version: int
    mapping: ExtractMapping
    fields: tuple[MappedField, ...]
    required_columns: tuple[str, ...]
    known_columns: tuple[str, ...]

    def record_or_refusal(
        self, row: ExtractRow, context: PublishContext, pseudonymiser: Pseudonymiser
    ) -> dict[str, Any] | RowRefusal:
        try:
            return self.record(row, context, pseudonymiser)
        except (RowInvalid, InvalidIdentifier) as error:
            return RowRefusal(row.line, error.reason, str(error))

    def record(
        self, row: ExtractRow, context: PublishContext, pseudonymiser: Pseudonymiser
    ) -> dict[str, Any]:
        values = row.values
        parts = [values.get(column, "") for column in self.mapping.reference]
        if not any(parts):
            raise RowInvalid("missing_reference", f"{'/'.join(self.mapping.reference)} is missing")
        reference = "|".join(parts)
        if parse_flag(values.get(WITHDRAWN_COLUMN, ""), WITHDRAWN_COLUMN):
            return withdrawal_record(self.event_type, reference, context, pseudonymiser)
        subject = self._subject(values, pseudonymiser)
        occurred_on = parse_date(values.get(self.mapping.occurred_on, ""), self.mapping.occurred_on)
        if occurred_on > context.today:
            raise RowInvalid("date_in_future", f"{self.mapping.occurred_on} is in the future")
        record: dict[str, Any] = {
            "event_type": self.event_type,
            "schema_version": self.schema_version,
            "occurred_at": dt.datetime.combine(occurred_on, dt.time(), tzinfo=dt.UTC),
            "recorded_at": context.recorded_at,
            "source_system": context.source_system,
            "contract_id": context.contract_id,
            "area_code": context.area_code,
            "extract_id": str(context.extract_id),
            "subject": subject,
        }
        for field in self.fields:
            record[field.name] = _field_value(field, values)
        return with_revision_ids(record, reference, pseudonymiser)

    def _subject(self, values: dict[str, str], pseudonymiser: Pseudonymiser) -> dict[str, Any]:
        nhs_column, upn_column = self.mapping.nhs_number, self.mapping.upn
        nhs_number = values.get(nhs_column, "") if nhs_column else ""
        pupil_number = values.get(upn_column, "") if upn_column else ""
        if not nhs_number and not pupil_number:
            names = " or ".join(c for c in (nhs_column, upn_column) if c)
            raise RowInvalid("missing_identifier", f"{names} is missing")
        return {
            "nhs_pseudonym": (
                pseudonymiser.nhs_pseudonym(valid_nhs_number(nhs_number)) if nhs_number else None
            ),
            "upn_pseudonym": (
                pseudonymiser.upn_pseudonym(valid_upn(pupil_number)) if pupil_number else None
            ),
            "key_id": pseudonymiser.key_id,
        }


def _field_value(field: MappedField, values: dict[str, str]) -> Any:
    if field.mapping.constant is not None:
        return field.mapping.constant
    column = field.column or field.name
    raw = values.get(column, "").strip()
    if not raw:
        if field.optional:
            return None
        raise RowInvalid(f"missing_{column}", f"{column} is missing")
    return _convert(field, column, raw)


def _convert(field: MappedField, column: str, raw: str) -> Any:
    avro_type = non_null(field.avro_type)
    symbols = enum_symbols(field.avro_type)
    if symbols is not None:
        symbol = field.mapping.codes.get(raw, field.mapping.codes.get(raw.upper(), raw.upper()))
        if symbol not in symbols:
            raise RowInvalid(
                "unknown_code", f"{column} holds a code that is not a known {field.name}"
            )
        return symbol
    logical = avro_type.get("logicalType") if isinstance(avro_type, dict) else None
    if logical == "date":
        return parse_date(raw, column)
    if logical in ("timestamp-millis", "timestamp-micros"):
        return dt.datetime.combine(parse_date(raw[:10], column), dt.time(), tzinfo=dt.UTC)
    base = avro_type.get("type") if isinstance(avro_type, dict) else avro_type
    if base == "boolean":
        return parse_flag(raw, column)
    if base in ("int", "long"):
        try:
            return int(raw)
        except ValueError:
            raise RowInvalid(f"invalid_{column}", f"{column} must be a whole number") from None
    if base in ("float", "double"):
        try:
            return float(raw)
        except ValueError:
            raise RowInvalid(f"invalid_{column}", f"{column} must be a number") from None
    if field.mapping.coarsen == "month":
        return parse_date(raw, column).strftime("%Y-%m")
    return raw


def normalised(mapping: ExtractMapping) -> ExtractMapping:
    """The mapping with column names as the extract reader sees headers (lower case)."""

    def column(name: str | None) -> str | None:
        return normalise_column(name) if name is not None else None

    return mapping.model_copy(
        update={
            "reference": [normalise_column(c) for c in mapping.reference],
            "occurred_on": normalise_column(mapping.occurred_on),
            "nhs_number": column(mapping.nhs_number),
            "upn": column(mapping.upn),
            "fields": {
                name: field.model_copy(update={"column": column(field.column)})
                for name, field in mapping.fields.items()
            },
        }
    )


def mapped_extract(mapping: ExtractMapping, catalogue: Catalogue) -> MappedExtract:
    """The converter for `mapping`, reading the newest schema of its event type."""
    mapping = normalised(mapping)
    schema: EventSchema = catalogue.latest(mapping.event_type)
    fields = []
    for name, definition in schema_fields(schema).items():
        field_mapping = mapping.fields.get(name, FieldMapping())
        optional = is_optional(definition["type"]) or "default" in definition
        fields.append(
            MappedField(name, field_mapping.column, definition["type"], optional, field_mapping)
        )
    field_columns = [(f.column or f.name, f.optional) for f in fields if f.mapping.constant is None]
    identifiers = [c for c in (mapping.nhs_number, mapping.upn) if c]
    required = [*mapping.reference, mapping.occurred_on]
    if len(identifiers) == 1:
        required.append(identifiers[0])
    required += [column for column, optional in field_columns if not optional]
    known = [*required, *identifiers, *(column for column, _ in field_columns), WITHDRAWN_COLUMN]
    return MappedExtract(
        event_type=mapping.event_type,
        schema_version=schema.version,
        mapping=mapping,
        fields=tuple(fields),
        required_columns=tuple(dict.fromkeys(required)),
        known_columns=tuple(dict.fromkeys(known)),
    )
