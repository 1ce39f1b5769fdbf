"""Everything the hub would publish for an as-at date and the month before, put to the audit.

The JSNA as at both month ends (every breakdown, the totals, the year before each), its
cross-tabulations (every pair of breakdowns unless told fewer) and the scorecard up to
both months are built by the same functions the API and the CLI call (`published_jsna`,
`published_crosstabs`, `published_scorecard`); their ledgers are merged and the
attacker's linear programme is solved for every suppressed count
(`streams/disclosure_audit.py`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg

from streams.crosstab_publication import every_pair
from streams.disclosure import Rule
from streams.disclosure_audit import AuditReport, audit
from streams.publication import Ledger
from warehouse.crosstab import published_crosstabs
from warehouse.jsna import month_end_on_or_before, published_jsna
from warehouse.publication import publication_rule
from warehouse.scorecard import published_scorecard, scorecard_as_at


@dataclass(frozen=True)
class PublicationAudit:
    as_at: dt.date  # the month end audited, with the one before it
    month_before: dt.date
    report: AuditReport
    primary: int  # suppressed because the count is 1 to 7
    secondary: int  # suppressed so that no other suppressed count can be worked out
    crosstabs: tuple[tuple[str, str], ...] = ()  # the pairs of breakdowns audited


def published_ledger(
    conn: psycopg.Connection,
    as_at: dt.date,
    rule: Rule,
    crosstabs: Sequence[tuple[str, str]] = (),
) -> Ledger:
    """Every count published as at `as_at` and the month end before, with their sums."""
    month_end = month_end_on_or_before(as_at)
    before = month_end.replace(day=1) - dt.timedelta(days=1)
    ledger = Ledger()
    for day in (month_end, before):
        ledger.merge(published_jsna(conn, day, rule).ledger)
        for crosstab in published_crosstabs(conn, day, crosstabs, rule):
            ledger.merge(crosstab.ledger)
        ledger.merge(published_scorecard(conn, None, day.replace(day=1), rule).ledger)
    return ledger


def audit_publication(
    conn: psycopg.Connection,
    as_at: dt.date | None = None,
    rule: Rule | None = None,
    crosstabs: Sequence[tuple[str, str]] | None = None,
) -> PublicationAudit:
    """Audit what the hub publishes as at `as_at` (default: its latest event's day, and then
    the scorecard as it is published now too), with the cross-tabs of these pairs of
    breakdowns (default: every pair)."""
    rule = rule or publication_rule()
    pairs = tuple(every_pair() if crosstabs is None else crosstabs)
    day = as_at or scorecard_as_at(conn) or dt.date.today()
    month_end = month_end_on_or_before(day)
    ledger = published_ledger(conn, month_end, rule, pairs)
    if as_at is None:  # the scorecard as published now runs to the latest event's month
        ledger.merge(published_scorecard(conn, None, None, rule).ledger)
    report = audit(
        rule,
        ledger.shown,
        sorted(ledger.sums, key=repr),
        sorted(ledger.at_most, key=repr),
        sorted(ledger.inconsistent, key=repr),
        sorted(ledger.unpublished, key=repr),
    )
    return PublicationAudit(
        as_at=month_end,
        month_before=month_end.replace(day=1) - dt.timedelta(days=1),
        report=report,
        primary=len(ledger.primary),
        secondary=len(ledger.secondary),
        crosstabs=pairs,
    )
