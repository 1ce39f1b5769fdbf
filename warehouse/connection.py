"""Opening warehouse connections the same way everywhere (UTC, clear errors, no secrets shown)."""

from __future__ import annotations

import psycopg


class WarehouseUnavailable(RuntimeError):
    """PostgreSQL could not be reached; the message names host and port, never a password."""


def _where(dsn: str) -> str:
    parts = dict(item.split("=", 1) for item in dsn.split())
    return f"{parts.get('host', '?')}:{parts.get('port', '5432')}/{parts.get('dbname', '?')}"


def connect(dsn: str, *, autocommit: bool = True) -> psycopg.Connection:
    try:
        conn = psycopg.connect(dsn, autocommit=autocommit, connect_timeout=5)
    except psycopg.OperationalError:
        raise WarehouseUnavailable(
            f"cannot reach the warehouse (PostgreSQL) at {_where(dsn)}: is `hub up` running?"
        ) from None
    conn.execute("SET TIME ZONE 'UTC'")
    return conn
