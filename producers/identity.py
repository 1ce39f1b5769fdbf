"""Checking identifiers and pseudonymising them before anything leaves the partner.

NHS numbers are checked with the mod-11 rule and UPNs with their check letter
(python-stdnum); a pseudonym is an HMAC-SHA256 under the contract's key, never a
plain hash, because a 10-digit number space is brute-forced in seconds.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Iterable

from stdnum.exceptions import ValidationError
from stdnum.gb import nhs, upn


class InvalidIdentifier(ValueError):
    """An identifier failed its check. The message never contains the identifier."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def valid_nhs_number(value: str) -> str:
    """The NHS number in compact form, or InvalidIdentifier (reason code, no value shown)."""
    if not value.strip():
        raise InvalidIdentifier("missing_nhs_number", "NHS number is missing")
    try:
        return str(nhs.validate(value))
    except ValidationError as error:
        raise InvalidIdentifier(
            "invalid_nhs_number", f"NHS number is not valid ({_why(error)})"
        ) from None


def valid_upn(value: str) -> str:
    compact = upn.compact(value)
    try:
        return str(upn.validate(compact))
    except ValidationError as error:
        raise InvalidIdentifier("invalid_upn", f"UPN is not valid ({_why(error)})") from None


def _why(error: ValidationError) -> str:
    return {
        "InvalidChecksum": "check digit does not match",
        "InvalidLength": "wrong length",
        "InvalidFormat": "wrong format",
        "InvalidComponent": "invalid component",
    }.get(type(error).__name__, "failed its check")


class Pseudonymiser:
    """Keyed pseudonyms and event ids under one contract's key. The key never leaves it."""

    def __init__(self, key: bytes, key_id: str) -> None:
        if len(key) < 32:
            raise ValueError("the pseudonymisation key must be at least 32 bytes")
        self._key = key
        self.key_id = key_id

    def _digest(self, domain: str, value: str) -> bytes:
        return hmac.new(self._key, f"{domain}:{value}".encode(), hashlib.sha256).digest()

    def nhs_pseudonym(self, nhs_number: str) -> str:
        return self._digest("nhs", nhs_number).hex()

    def upn_pseudonym(self, pupil_number: str) -> str:
        return self._digest("upn", pupil_number).hex()

    def event_id(self, *parts: str) -> uuid.UUID:
        """A stable event id from a partner's record reference: same record, same id."""
        return uuid.UUID(bytes=self._digest("event", "|".join(parts))[:16], version=5)

    def extract_id(self, content: bytes) -> uuid.UUID:
        """A stable id for an extract's bytes: publishing the same file again reuses it."""
        return self.extract_id_of_blocks([content])

    def extract_id_of_blocks(self, blocks: Iterable[bytes]) -> uuid.UUID:
        """`extract_id` of the blocks' concatenation, computed a block at a time, so a large
        extract is identified without being held in memory."""
        digest = hmac.new(self._key, b"extract:", hashlib.sha256)
        for block in blocks:
            digest.update(block)
        return uuid.UUID(bytes=digest.digest()[:16], version=5)

    def __repr__(self) -> str:
        return f"Pseudonymiser(key_id={self.key_id!r})"
