"""Opening warehouse connections the same way everywhere (UTC, clear errors, no secrets shown).

JSON and JSONB values go through orjson rather than the standard library: the worker
writes a payload and a register state per event and a replay reads every payload
back, and orjson does both several times faster. PostgreSQL parses the text into
JSONB, so only the values matter, and they are the same (decision 0011).
"""

from __future__ import annotations

from typing import Any

import orjson
import psycopg
from psycopg.types.json import set_json_dumps, set_json_loads


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
    configure(conn)
    return conn


def configure(conn: psycopg.Connection) -> None:
    """Set a new connection up as the hub reads and writes: UTC, JSON through orjson."""
    conn.execute("SET TIME ZONE 'UTC'")
    set_json_dumps(_json_dumps, conn)
    set_json_loads(orjson.loads, conn)


def _json_dumps(value: Any) -> bytes:
    # keys that are not strings become strings, as with the standard library
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
