"""The national data opt-out list, held only as pseudonyms under the contract's key.

The list arrives as NHS numbers; they are checked and pseudonymised on load and the
numbers themselves are never stored. The gatekeeper reads the pseudonyms.
"""

from __future__ import annotations

from collections.abc import Iterable

import psycopg


def opted_out(conn: psycopg.Connection) -> frozenset[str]:
    rows = conn.execute("SELECT pseudonym FROM opted_out_subjects").fetchall()
    return frozenset(str(row[0]) for row in rows)


def record_opt_outs(conn: psycopg.Connection, pseudonyms: Iterable[str]) -> int:
    """Add pseudonyms to the list; returns how many were new."""
    with conn.transaction(), conn.cursor() as cursor:
        before = cursor.execute("SELECT count(*) FROM opted_out_subjects").fetchone()
        cursor.executemany(
            "INSERT INTO opted_out_subjects (pseudonym) VALUES (%s) ON CONFLICT DO NOTHING",
            [(p,) for p in pseudonyms],
        )
        after = cursor.execute("SELECT count(*) FROM opted_out_subjects").fetchone()
    return int(after[0] if after else 0) - int(before[0] if before else 0)
