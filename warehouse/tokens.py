"""Bearer tokens for the API: who may sign in, in which role, until when.

A token is 256 random bits shown once when it is issued; only its SHA-256 is kept, so
the table is useless to whoever reads it (decision 0017). `hub tokens` issues, lists
and revokes them; the API authenticates each request with `authenticate`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

import psycopg

PREFIX = "jch_"  # lets secret scanners and people recognise a hub token
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")  # as the table's CHECK says


class Role(StrEnum):
    PARTNER = "partner"
    COMMISSIONER = "commissioner"
    PUBLIC_HEALTH = "public_health"
    IG_AUDITOR = "ig_auditor"
    ADMIN = "admin"


class TokenError(ValueError):
    """A token cannot be issued or revoked as asked; the message says why."""


class TokenRefused(Exception):
    """A presented token does not sign anyone in: `reason` is unknown, revoked or expired."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Caller:
    """Who a valid token signs in: what the API checks and the access log records."""

    token_name: str
    role: Role
    party: str | None


@dataclass(frozen=True)
class Token:
    """A token as `hub tokens list` shows it: everything but the secret (never stored)."""

    name: str
    role: Role
    party: str | None
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None

    def state(self, now: dt.datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"

    def as_dict(self, now: dt.datetime) -> dict[str, str | None]:
        def iso(moment: dt.datetime | None) -> str | None:
            return moment.isoformat(timespec="seconds") if moment else None

        return {
            "name": self.name,
            "role": self.role.value,
            "party": self.party,
            "created_at": iso(self.created_at),
            "expires_at": iso(self.expires_at),
            "revoked_at": iso(self.revoked_at),
            "state": self.state(now),
        }


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def issue_token(
    conn: psycopg.Connection,
    name: str,
    role: Role,
    party: str | None = None,
    expires_at: dt.datetime | None = None,
) -> tuple[str, Token]:
    """A new token: the secret (to show once) and what is stored about it."""
    if not NAME.match(name):
        raise TokenError(
            f"{name!r} is not a token name: letters, digits, '.', '_' or '-', at most 64"
        )
    if role is Role.PARTNER and not party:
        raise TokenError("a partner token must name its party (--party)")
    if role is not Role.PARTNER and party:
        raise TokenError(f"only partner tokens are bound to a party, not {role.value} ones")
    secret = PREFIX + secrets.token_urlsafe(32)
    try:
        row = conn.execute(
            "INSERT INTO api_tokens (name, role, party, token_hash, expires_at)"
            " VALUES (%s, %s, %s, %s, %s) RETURNING created_at",
            (name, role.value, party, hash_token(secret), expires_at),
        ).fetchone()
    except psycopg.errors.UniqueViolation:
        raise TokenError(f"a token named {name!r} exists already: choose another name") from None
    assert row is not None
    return secret, Token(name, role, party, row[0], expires_at, None)


def list_tokens(conn: psycopg.Connection) -> list[Token]:
    rows = conn.execute(
        "SELECT name, role, party, created_at, expires_at, revoked_at FROM api_tokens"
        " ORDER BY created_at, name"
    ).fetchall()
    return [Token(name, Role(role), *rest) for name, role, *rest in rows]


def revoke_token(conn: psycopg.Connection, name: str) -> Token:
    """Revoke by name (from now on it signs nobody in); revoking twice keeps the first time."""
    conn.execute(
        "UPDATE api_tokens SET revoked_at = now() WHERE name = %s AND revoked_at IS NULL", (name,)
    )
    found = [token for token in list_tokens(conn) if token.name == name]
    if not found:
        raise TokenError(f"no token is named {name!r}: see `hub tokens list`")
    return found[0]


def authenticate(conn: psycopg.Connection, secret: str) -> Caller:
    """The caller a presented token signs in, or TokenRefused with the reason."""
    row = conn.execute(
        "SELECT name, role, party, revoked_at IS NOT NULL,"
        " expires_at IS NOT NULL AND expires_at <= now()"
        " FROM api_tokens WHERE token_hash = %s",
        (hash_token(secret),),
    ).fetchone()
    if row is None:
        raise TokenRefused("unknown")
    name, role, party, revoked, expired = row
    if revoked:
        raise TokenRefused("revoked")
    if expired:
        raise TokenRefused("expired")
    return Caller(name, Role(role), party)
