"""Calling the API in-process as a signed-in caller, with tokens from the real token store."""

from __future__ import annotations

import datetime as dt
import uuid

from fastapi.testclient import TestClient

from warehouse.api import create_app
from warehouse.connection import connect
from warehouse.tokens import Role, issue_token, revoke_token


def issue(
    owner_dsn: str,
    role: str,
    party: str | None = None,
    *,
    expires_at: dt.datetime | None = None,
    revoked: bool = False,
) -> str:
    """A token issued as `hub tokens create` does (the owner's connection); its secret."""
    name = f"{role}-{uuid.uuid4().hex[:8]}"
    with connect(owner_dsn) as conn:
        secret, _ = issue_token(conn, name, Role(role), party, expires_at)
        if revoked:
            revoke_token(conn, name)
    return secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def signed_in(
    owner_dsn: str, api_dsn: str, role: str, party: str | None = None, topic_prefix: str = ""
) -> TestClient:
    """A client of the API (connected as its least-privilege role) holding a token of `role`."""
    client = TestClient(create_app(api_dsn, topic_prefix))
    client.headers.update(bearer(issue(owner_dsn, role, party)))
    return client
