"""The catalogue of event schemas shipped in `schemas/avro/`, looked up by name or fingerprint.

Schemas are parsed once with fastavro; each carries its CRC-64-AVRO fingerprint,
the key of Avro single-object encoding.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from fastavro import parse_schema
from fastavro.schema import fingerprint, to_parsing_canonical_form

SCHEMA_DIR = Path(__file__).parent / "avro"


@dataclass(frozen=True)
class EventSchema:
    """One version of one event type's Avro schema."""

    name: str
    version: int
    owner: str
    doc: str
    definition: dict[str, Any]
    parsed: Any
    fingerprint: bytes

    def pii_fields(self) -> dict[str, str]:
        """Dotted field paths tagged as personal data, with their tag."""
        return dict(_pii_fields(self.definition))


def _pii_fields(record: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for field in record.get("fields", []):
        path = f"{prefix}{field['name']}"
        if "pii" in field:
            found.append((path, field["pii"]))
        if isinstance(field["type"], dict) and field["type"].get("type") == "record":
            found.extend(_pii_fields(field["type"], prefix=f"{path}."))
    return found


def load_schema(path: Path) -> EventSchema:
    definition = json.loads(path.read_text(encoding="utf-8"))
    # with fastavro's "already parsed" hint, so readers and writers do not parse it again
    # on every message; the canonical form (and so the fingerprint) is of the plain schema
    parsed = parse_schema(definition)
    canonical = to_parsing_canonical_form(parse_schema(definition, _write_hint=False))
    return EventSchema(
        name=definition["name"],
        version=int(definition["version"]),
        owner=definition.get("owner", ""),
        doc=definition.get("doc", ""),
        definition=definition,
        parsed=parsed,
        fingerprint=bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO")),
    )


@dataclass(frozen=True)
class Catalogue:
    """Every schema we know, by (name, version) and by fingerprint."""

    schemas: tuple[EventSchema, ...]

    def latest(self, name: str) -> EventSchema:
        versions = [s for s in self.schemas if s.name == name]
        if not versions:
            raise KeyError(f"no schema for event type {name!r}")
        return max(versions, key=lambda s: s.version)

    @cached_property
    def _by_fingerprint(self) -> dict[bytes, EventSchema]:
        return {schema.fingerprint: schema for schema in self.schemas}

    def by_fingerprint(self, fp: bytes) -> EventSchema | None:
        return self._by_fingerprint.get(fp)


@cache
def default_catalogue() -> Catalogue:
    return Catalogue(tuple(load_schema(p) for p in sorted(SCHEMA_DIR.glob("*.avsc"))))
