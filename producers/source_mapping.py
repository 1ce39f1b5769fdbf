"""Column mappings: how one partner system's CSV extract becomes one event type.

Each source system ships a YAML file in `producers/mappings/` naming its extracts.
An extract maps CSV columns onto the fields of an event schema: which column
identifies the record (for the idempotent `event_id`), which holds the date the
event happened, which hold the NHS number and UPN (pseudonymised at source), and
how the partner's codes translate into the schema's enum symbols. A field not
listed is read from the column of the same name, so a partner whose columns
already match the catalogue writes almost nothing.

A mapping is checked against its schema when it is loaded: every required field
must be reachable, every code must land on a real symbol.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from schemas.catalogue import Catalogue, EventSchema, default_catalogue
from schemas.envelope import ENVELOPE_FIELDS

MAPPING_DIR = Path(__file__).parent / "mappings"


class MappingInvalid(ValueError):
    """A mapping file cannot be used; the message names the file and each problem."""


class FieldMapping(BaseModel):
    """Where one event field comes from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    column: str | None = None
    codes: dict[str, str] = Field(default_factory=dict)
    coarsen: str | None = Field(None, pattern="^(month)$")
    constant: str | int | bool | None = None


class ExtractMapping(BaseModel):
    """One CSV extract of one source system, read into one event type."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: str
    description: str = ""
    reference: list[str] = Field(min_length=1)
    occurred_on: str
    nhs_number: str | None = None
    upn: str | None = None
    fields: dict[str, FieldMapping] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _needs_an_identifier(self) -> ExtractMapping:
        if self.nhs_number is None and self.upn is None:
            raise ValueError("name an nhs_number or upn column: events are about a person")
        return self


class SourceMapping(BaseModel):
    """Every extract one source system publishes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source_system: str
    extracts: dict[str, ExtractMapping]


def schema_fields(schema: EventSchema) -> dict[str, Any]:
    """The event-specific fields of a schema, named types resolved (the producer fills the
    envelope)."""
    named = named_types(schema.definition)
    return {
        field["name"]: {**field, "type": resolve(field["type"], named)}
        for field in schema.definition["fields"]
        if field["name"] not in ENVELOPE_FIELDS
    }


def is_optional(avro_type: Any) -> bool:
    return isinstance(avro_type, list) and "null" in avro_type


def non_null(avro_type: Any) -> Any:
    if isinstance(avro_type, list):
        others = [t for t in avro_type if t != "null"]
        return others[0] if len(others) == 1 else others
    return avro_type


def named_types(definition: Any, found: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every named type (enum, record, fixed) defined anywhere in a schema, by short name."""
    found = {} if found is None else found
    if isinstance(definition, list):
        for item in definition:
            named_types(item, found)
    elif isinstance(definition, dict):
        if definition.get("type") in ("enum", "record", "fixed") and "name" in definition:
            found[str(definition["name"]).rsplit(".", 1)[-1]] = definition
        for key in ("type", "fields", "items", "values"):
            if key in definition:
                named_types(definition[key], found)
    return found


def resolve(avro_type: Any, named: dict[str, Any]) -> Any:
    """Replace a reference to a named type by its definition (top level and union members)."""
    if isinstance(avro_type, list):
        return [resolve(member, named) for member in avro_type]
    if isinstance(avro_type, str):
        return named.get(avro_type.rsplit(".", 1)[-1], avro_type)
    return avro_type


def enum_symbols(avro_type: Any) -> tuple[str, ...] | None:
    inner = non_null(avro_type)
    if isinstance(inner, dict) and inner.get("type") == "enum":
        return tuple(inner["symbols"])
    return None


def check_extract(name: str, extract: ExtractMapping, catalogue: Catalogue) -> list[str]:
    """Problems with one extract mapping against the newest schema of its event type."""
    try:
        schema = catalogue.latest(extract.event_type)
    except KeyError:
        return [f"{name}: event type {extract.event_type} is not in the schema catalogue"]
    fields = schema_fields(schema)
    problems = [
        f"{name}: {field} is not a field of {extract.event_type}"
        for field in extract.fields
        if field not in fields
    ]
    for field_name, mapping in extract.fields.items():
        symbols = enum_symbols(fields.get(field_name, {}).get("type"))
        if mapping.codes and symbols is None:
            problems.append(f"{name}: {field_name} has codes but is not an enum")
        for code, symbol in mapping.codes.items():
            if symbols is not None and symbol not in symbols:
                problems.append(f"{name}: code {code} of {field_name} maps to unknown {symbol}")
    return problems


def load_mapping(path: Path, catalogue: Catalogue | None = None) -> SourceMapping:
    """Read and check one source system's mapping file."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        mapping = SourceMapping.model_validate(raw)
    except (OSError, yaml.YAMLError) as error:
        raise MappingInvalid(f"{path.name}: cannot read: {error}") from None
    except ValidationError as error:
        reasons = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise MappingInvalid(f"{path.name}: {reasons}") from None
    catalogue = catalogue or default_catalogue()
    problems = [
        problem
        for name, extract in mapping.extracts.items()
        for problem in check_extract(name, extract, catalogue)
    ]
    if problems:
        raise MappingInvalid(f"{path.name}: " + "; ".join(problems))
    return mapping


@cache
def shipped_mappings() -> dict[str, SourceMapping]:
    """The mappings in the repository, by source system."""
    mappings = [load_mapping(path) for path in sorted(MAPPING_DIR.glob("*.yaml"))]
    return {mapping.source_system: mapping for mapping in mappings}


def find_extract(source_system: str, extract: str) -> ExtractMapping:
    """The named extract of a source system, or MappingInvalid listing what exists."""
    mappings = shipped_mappings()
    if source_system not in mappings:
        known = ", ".join(sorted(mappings))
        raise MappingInvalid(f"no mapping for source system {source_system!r} (known: {known})")
    extracts = mappings[source_system].extracts
    if extract not in extracts:
        known = ", ".join(sorted(extracts))
        raise MappingInvalid(f"{source_system} has no extract {extract!r} (known: {known})")
    return extracts[extract]
