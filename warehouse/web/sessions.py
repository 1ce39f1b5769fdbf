"""Dashboard sessions: a browser that signed in with a token holds a random session id.

The table keeps only the id's SHA-256 (`web_sessions`, migration 0015), the token's name,
the CSRF token the session's forms carry, and when it was opened, expires and ended. A
session stands only while its token does: revoking or expiry of the token ends it at
the next request (the lookup joins `api_tokens`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import psycopg

from warehouse.tokens import Caller, Role

LIFETIME = dt.timedelta(hours=8)  # a working day; signing in again costs one paste


@dataclass(frozen=True)
class Session(Caller):
    """A signed-in browser: who it is (a `Caller`, as the access log records it) and the
    CSRF token its forms must carry (`csrf_token`)."""

    csrf_token: str = ""
    expires_at: dt.datetime | None = None


def session_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def open_session(
    conn: psycopg.Connection, caller: Caller, lifetime: dt.timedelta = LIFETIME
) -> tuple[str, Session]:
    """A new session for a caller a token signed in: its id (for the cookie, never stored) and
    the session. It ends no later than the token expires."""
    session_id = secrets.token_urlsafe(32)
    csrf_token = secrets.token_urlsafe(32)
    row = conn.execute(
        "INSERT INTO web_sessions (session_hash, token_name, csrf_token, expires_at)"
        " SELECT %s, name, %s, LEAST(now() + %s, COALESCE(expires_at, 'infinity'))"
        " FROM api_tokens WHERE name = %s RETURNING expires_at",
        (session_hash(session_id), csrf_token, lifetime, caller.token_name),
    ).fetchone()
    assert row is not None, "the token was deleted while signing in"
    return session_id, Session(caller.token_name, caller.role, caller.party, csrf_token, row[0])


def find_session(conn: psycopg.Connection, session_id: str) -> Session | None:
    """The open session of this id, or None: unknown, ended, expired, or its token revoked
    or expired."""
    row = conn.execute(
        "SELECT t.name, t.role, t.party, s.csrf_token, s.expires_at"
        " FROM web_sessions s JOIN api_tokens t ON t.name = s.token_name"
        " WHERE s.session_hash = %s AND s.ended_at IS NULL AND s.expires_at > now()"
        " AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())",
        (session_hash(session_id),),
    ).fetchone()
    if row is None:
        return None
    name, role, party, csrf_token, expires_at = row
    return Session(name, Role(role), party, csrf_token, expires_at)


def end_session(conn: psycopg.Connection, session_id: str) -> None:
    """Sign out: the session no longer signs anyone in (ending it twice keeps the first time)."""
    conn.execute(
        "UPDATE web_sessions SET ended_at = now() WHERE session_hash = %s AND ended_at IS NULL",
        (session_hash(session_id),),
    )
