"""Retention in the warehouse: read whose events are stored, erase those past retention.

The rule is `streams.retention` (pure); this module gives it the people the register
knows (their month of birth, their live events by contract) and erases what it finds
due, one deletion record per contract. A record's events belong to the person any of
its revisions names, so a withdrawal naming nobody leaves with the record it withdraws.
Rebuilding the projections afterwards is the caller's (`pipelines/retention.py`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict

import psycopg

from streams.retention import Person, RetentionPlan
from warehouse.erasure import DeletionRecord, erase, would_erase

PEOPLE_SQL = """
WITH live AS (
    SELECT event_id, contract_id, coalesce(record_id, event_id) AS record_key,
           CASE WHEN nhs_pseudonym IS NOT NULL THEN 'nhs:' || nhs_pseudonym
                WHEN upn_pseudonym IS NOT NULL THEN 'upn:' || upn_pseudonym END AS pseudonym
    FROM events WHERE erased_at IS NULL
), owners AS (
    SELECT DISTINCT ON (live.record_key) live.record_key, l.person_id
    FROM live JOIN person_links l ON l.pseudonym = live.pseudonym
    ORDER BY live.record_key, l.person_id
)
SELECT o.person_id, r.state ->> 'month_of_birth', live.contract_id, live.event_id
FROM live
LEFT JOIN owners o USING (record_key)
LEFT JOIN cohort_register r ON r.person_id = o.person_id
"""


def stored_people(conn: psycopg.Connection) -> list[Person]:
    """Everyone with live events, as the register knows them; events naming nobody as one
    person with no id."""
    births: dict[str | None, str | None] = {}
    events: dict[str | None, dict[str, list[uuid.UUID]]] = defaultdict(lambda: defaultdict(list))
    for person_id, month_of_birth, contract_id, event_id in conn.execute(PEOPLE_SQL):
        births[person_id] = month_of_birth
        events[person_id][contract_id].append(event_id)
    return [
        Person(
            person_id,
            births[person_id],
            {contract: tuple(ids) for contract, ids in by_contract.items()},
        )
        for person_id, by_contract in events.items()
    ]


def preview(conn: psycopg.Connection, plan: RetentionPlan) -> dict[str, dict[str, int]]:
    """What applying the plan would erase: by contract, counts by event type."""
    return {due.contract_id: would_erase(conn, due.event_ids) for due in plan.due}


def apply_plan(
    conn: psycopg.Connection, plan: RetentionPlan, at: dt.datetime
) -> list[DeletionRecord]:
    """Erase what the plan finds due: one erasure (and deletion record) per contract."""
    return [
        erase(
            conn, due.event_ids, kind="retention", contract_id=due.contract_id, rule=due.rule, at=at
        )
        for due in plan.due
        if due.event_ids
    ]
