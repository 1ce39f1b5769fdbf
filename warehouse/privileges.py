"""The API's least-privilege login: a role that can only do what the routes need.

Migration 0010 grants the NOLOGIN group role `hub_api` exactly that; the API process
logs in as a LOGIN member of it, made here (by `hub up` and `hub warehouse migrate`),
never as the warehouse's owner.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

API_GROUP = "hub_api"


def ensure_api_login(conn: psycopg.Connection, user: str, password: str) -> None:
    """Create (or update) LOGIN role `user` with this password, a member of `hub_api` only."""
    row = conn.execute(
        "SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls FROM pg_roles"
        " WHERE rolname = %s",
        (user,),
    ).fetchone()
    if row is not None and row[0]:
        raise ValueError(f"{user} is a privileged role: the API needs a role of its own")
    role, secret = sql.Identifier(user), sql.Literal(password)
    verb = "ALTER" if row is not None else "CREATE"
    conn.execute(sql.SQL(verb + " ROLE {} WITH LOGIN INHERIT PASSWORD {}").format(role, secret))
    conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(API_GROUP), role))
