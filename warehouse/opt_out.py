"""The national data opt-out list, held only as pseudonyms under the contract's key.

The health partner pseudonymises the list on its own machine (`hub opt-out prepare`);
the hub records the pseudonyms and never sees a number. The list only grows: a load
adds, nothing removes. The gatekeeper reads the pseudonyms, and the worker checks the
list's version (its size) under the event store's append lock before writing each
batch, so a load reaches the very next batch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import psycopg

from contracts.models import Contract
from warehouse.erasure import erase, quarantined_with
from warehouse.event_store import APPEND_LOCK


def opted_out(conn: psycopg.Connection) -> frozenset[str]:
    rows = conn.execute("SELECT pseudonym FROM opted_out_subjects").fetchall()
    return frozenset(str(row[0]) for row in rows)


def version_for_append(conn: psycopg.Connection) -> int:
    """The list's version (how many pseudonyms it holds: it only grows), read after taking
    the append lock, which is held until the caller's transaction ends. A load changes the
    list and erases under the same lock, so a batch written in this transaction under
    this version met the list as it now is."""
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK,))
    row = conn.execute("SELECT count(*) FROM opted_out_subjects").fetchone()
    return int(row[0]) if row else 0


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


@dataclass(frozen=True)
class OptOutsApplied:
    """What a load did, in counts only."""

    added: int  # pseudonyms new to the list
    not_in_file: int  # already on the list, not in this file: they stay on it
    events_erased: int
    quarantined_erased: int
    erasure_id: int | None  # the deletion record, when anything was erased


def apply_opt_outs(
    conn: psycopg.Connection, pseudonyms: frozenset[str], contract: Contract, at: dt.datetime
) -> OptOutsApplied:
    """Add the pseudonyms to the list and erase the stored events that carry one of them and
    came from one of the contract's opt-out sources (every revision of their records with
    them), and the bytes of every quarantined message carrying one, in one transaction
    under the append lock: a batch the worker writes either went in before (and is
    erased here) or meets the new list (`version_for_append`). The projections still
    count the erased events until the caller rebuilds them."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK,))
        before = opted_out(conn)
        added = record_opt_outs(conn, pseudonyms)
        sources = list(contract.opt_out.sources) if contract.opt_out.applies else []
        listed = sorted(pseudonyms)
        rows = conn.execute(
            "SELECT event_id FROM events WHERE erased_at IS NULL AND source_system = ANY(%s)"
            " AND (nhs_pseudonym = ANY(%s) OR upn_pseudonym = ANY(%s))",
            (sources, listed, listed),
        ).fetchall()
        record = None
        if sources and (rows or quarantined_with(conn, listed)):
            record = erase(
                conn,
                [row[0] for row in rows],
                kind="opt_out",
                contract_id=contract.contract_id,
                rule=contract.opt_out.rule,
                at=at,
                also_pseudonyms=listed,
            )
    return OptOutsApplied(
        added=added,
        not_in_file=len(before - pseudonyms),
        events_erased=record.events_erased if record else 0,
        quarantined_erased=record.quarantined_erased if record else 0,
        erasure_id=record.erasure_id if record else None,
    )
