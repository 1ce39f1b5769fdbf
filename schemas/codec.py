"""Avro single-object encoding: `C3 01`, the writer schema's 8-byte fingerprint, the body.

Decoding finds the writer schema by fingerprint in the catalogue and says plainly
why bytes could not be read, without echoing the bytes themselves.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from fastavro import schemaless_reader, schemaless_writer

from schemas.catalogue import Catalogue, EventSchema

MAGIC = b"\xc3\x01"
HEADER_LENGTH = len(MAGIC) + 8


class UndecodableMessage(ValueError):
    """The bytes are not a single-object-encoded event we know. `reason` is machine-readable."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


@dataclass(frozen=True)
class DecodedMessage:
    schema: EventSchema
    record: dict[str, Any]


def encode(schema: EventSchema, record: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    buffer.write(MAGIC)
    buffer.write(schema.fingerprint)
    schemaless_writer(buffer, schema.parsed, record)
    return buffer.getvalue()


def decode(catalogue: Catalogue, data: bytes) -> DecodedMessage:
    if len(data) < HEADER_LENGTH or data[:2] != MAGIC:
        raise UndecodableMessage("not_single_object", "missing the Avro single-object header")
    schema = catalogue.by_fingerprint(data[2:HEADER_LENGTH])
    if schema is None:
        raise UndecodableMessage("schema_unknown", f"fingerprint {data[2:HEADER_LENGTH].hex()}")
    try:
        record = schemaless_reader(io.BytesIO(data[HEADER_LENGTH:]), schema.parsed, None)
    except Exception as error:  # fastavro raises many types for corrupt bodies
        raise UndecodableMessage(
            "invalid_avro", f"{schema.name} body: {type(error).__name__}"
        ) from None
    if not isinstance(record, dict):
        raise UndecodableMessage("invalid_avro", f"{schema.name} body is not a record")
    return DecodedMessage(schema=schema, record=record)
