"""Loading the opt-out list: record it, erase what it covers, rebuild every projection.

The one function `hub opt-out load` calls, as `pipelines.retention` is for retention:
the list is recorded and the subjects' events from the contract's opt-out sources are
erased in one transaction (`warehouse.opt_out.apply_opt_outs`), then the event store is
replayed into the live projections, so no figure still counts an erased event.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import psycopg

from contracts.models import Contract
from contracts.opt_out_list import OptOutList
from pipelines.replay import ReplayReport, replay
from warehouse.cohort_store import projection_settings
from warehouse.opt_out import OptOutsApplied, apply_opt_outs


@dataclass(frozen=True)
class OptOutLoad:
    """What a load did, in counts; the rebuild when anything was erased."""

    applied: OptOutsApplied
    rebuild: ReplayReport | None


def load_opt_outs(
    conn: psycopg.Connection,
    opt_outs: OptOutList,
    contract: Contract,
    at: dt.datetime,
    *,
    dsn: str | None = None,
) -> OptOutLoad:
    """Record the list (already checked against the contract's key), erase, rebuild."""
    applied = apply_opt_outs(conn, opt_outs.pseudonyms, contract, at)
    rebuild = None
    if applied.events_erased:
        rebuild = replay(conn, projection_settings(conn), apply=True, dsn=dsn)
    return OptOutLoad(applied, rebuild)
