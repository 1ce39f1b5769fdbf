"""Subject access: what the hub holds about the person a partner's pseudonym names.

A partner computes the pseudonym with its key (the hub never holds the key) and an
administrator asks the warehouse, with the owner's connection, for everything linked to
it: the events carrying it or any pseudonym linked to it (type, source and dates only,
never the payload), the register's spans for the person(s) it links to, whether it is
on the opt-out list, and how many quarantined messages carry it. `look_up` records
every look-up in the append-only access log, without the pseudonym.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg

from warehouse.access_log import Access, record_access

ROUTE = "hub subject-access"


@dataclass(frozen=True)
class SubjectEvent:
    """One stored event: what kind, from whom, when; `state` is `in effect`,
    `superseded` (a later revision replaced it) or `withdrawal`."""

    event_id: uuid.UUID
    event_type: str
    source_system: str
    occurred_at: dt.datetime
    recorded_at: dt.datetime
    received_at: dt.datetime
    state: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "event_id": str(self.event_id),
            "event_type": self.event_type,
            "source_system": self.source_system,
            "occurred_at": self.occurred_at.isoformat(),
            "recorded_at": self.recorded_at.isoformat(),
            "received_at": self.received_at.isoformat(),
            "state": self.state,
        }


@dataclass(frozen=True)
class RegisterSpan:
    """One span of a person's register history; `valid_to` None is the current state."""

    person_id: str
    valid_from: dt.date
    valid_to: dt.date | None
    state: Mapping[str, Any]
    caused_by: tuple[str, ...]

    @property
    def send_status(self) -> str:
        return str(self.state.get("send_status", ""))

    @property
    def current(self) -> bool:
        return self.valid_to is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "person_id": self.person_id,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
            "current": self.current,
            "send_status": self.send_status,
            "state": dict(self.state),
            "caused_by": list(self.caused_by),
        }


@dataclass(frozen=True)
class SubjectRecord:
    """Everything held about the person(s) one pseudonym links to."""

    person_ids: tuple[str, ...] = ()
    linked_pseudonyms: int = 0  # how many pseudonyms (this one included) are linked
    events: tuple[SubjectEvent, ...] = ()
    history: tuple[RegisterSpan, ...] = ()
    opted_out: bool = False
    quarantined_messages: int = 0

    @property
    def empty(self) -> bool:
        return not (
            self.person_ids
            or self.events
            or self.history
            or self.opted_out
            or self.quarantined_messages
        )

    @property
    def rows(self) -> int:
        return len(self.events) + len(self.history)

    @property
    def current(self) -> tuple[RegisterSpan, ...]:
        return tuple(span for span in self.history if span.current)

    def events_by_type(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for event in self.events:
            counts[event.event_type] = counts.get(event.event_type, 0) + 1
        return dict(sorted(counts.items()))

    def as_dict(self) -> dict[str, Any]:
        return {
            "holds_anything": not self.empty,
            "person_ids": list(self.person_ids),
            "linked_pseudonyms": self.linked_pseudonyms,
            "opted_out": self.opted_out,
            "events_by_type": self.events_by_type(),
            "events": [event.as_dict() for event in self.events],
            "register_current": [span.as_dict() for span in self.current],
            "register_history": [span.as_dict() for span in self.history],
            "quarantined_messages": self.quarantined_messages,
        }


def linked_pseudonyms(conn: psycopg.Connection, pseudonym: str) -> tuple[set[str], set[str]]:
    """(person ids, tagged pseudonyms) linked to a raw pseudonym of either kind.

    The tagged set always holds the pseudonym itself as both kinds, so events carrying
    it are found even before the projection has linked them.
    """
    tagged = {f"nhs:{pseudonym}", f"upn:{pseudonym}"}
    rows = conn.execute(
        "SELECT person_id, pseudonym FROM person_links WHERE person_id IN"
        " (SELECT person_id FROM person_links WHERE pseudonym = ANY(%s))",
        (sorted(tagged),),
    ).fetchall()
    return {str(row[0]) for row in rows}, tagged | {str(row[1]) for row in rows}


def subject_events(conn: psycopg.Connection, tagged: set[str]) -> list[SubjectEvent]:
    nhs = sorted(p[4:] for p in tagged if p.startswith("nhs:"))
    upn = sorted(p[4:] for p in tagged if p.startswith("upn:"))
    rows = conn.execute(
        """
        SELECT e.event_id, e.event_type, e.source_system, e.occurred_at, e.recorded_at,
               e.received_at,
               CASE WHEN e.event_type = 'RecordWithdrawn' THEN 'withdrawal'
                    WHEN s.event_id IS NOT NULL THEN 'superseded'
                    ELSE 'in effect' END
        FROM events e LEFT JOIN event_supersessions s ON s.event_id = e.event_id
        WHERE e.nhs_pseudonym = ANY(%(nhs)s) OR e.upn_pseudonym = ANY(%(upn)s)
        ORDER BY e.occurred_at, e.sequence
        """,
        {"nhs": nhs, "upn": upn},
    ).fetchall()
    return [SubjectEvent(*row) for row in rows]


def register_history(conn: psycopg.Connection, person_ids: set[str]) -> list[RegisterSpan]:
    rows = conn.execute(
        "SELECT person_id, valid_from, valid_to, state, caused_by FROM cohort_history"
        " WHERE person_id = ANY(%s) ORDER BY person_id, valid_from",
        (sorted(person_ids),),
    ).fetchall()
    return [
        RegisterSpan(pid, start, end, dict(state), tuple(causes))
        for pid, start, end, state, causes in rows
    ]


def quarantined_count(conn: psycopg.Connection, raw_pseudonyms: set[str]) -> int:
    """Quarantined messages whose bytes carry any of these pseudonyms (Avro and JSON keep a
    string's UTF-8 bytes as they are), held or released."""
    if not raw_pseudonyms:
        return 0
    row = conn.execute(
        "SELECT count(*) FROM quarantined_messages q WHERE EXISTS (SELECT 1"
        " FROM unnest(%s::text[]) p WHERE position(convert_to(p, 'UTF8') IN q.message) > 0)",
        (sorted(raw_pseudonyms),),
    ).fetchone()
    return int(row[0]) if row else 0


def subject_record(conn: psycopg.Connection, pseudonym: str) -> SubjectRecord:
    """What the hub holds linked to one pseudonym (empty if it knows nothing of it)."""
    person_ids, tagged = linked_pseudonyms(conn, pseudonym)
    raw = {p[4:] for p in tagged}
    events = subject_events(conn, tagged)
    history = register_history(conn, person_ids)
    opted = conn.execute(
        "SELECT count(*) FROM opted_out_subjects WHERE pseudonym = ANY(%s)", (sorted(raw),)
    ).fetchone()
    known = {p for p in tagged if p != f"nhs:{pseudonym}" and p != f"upn:{pseudonym}"}
    held_as = {
        f"{kind}:{value}"
        for kind, value in conn.execute(
            "SELECT DISTINCT 'nhs', nhs_pseudonym FROM events WHERE nhs_pseudonym = %(p)s"
            " UNION SELECT DISTINCT 'upn', upn_pseudonym FROM events WHERE upn_pseudonym = %(p)s",
            {"p": pseudonym},
        ).fetchall()
    }
    return SubjectRecord(
        person_ids=tuple(sorted(person_ids)),
        linked_pseudonyms=len(known | held_as),
        events=tuple(events),
        history=tuple(history),
        opted_out=bool(opted and opted[0]),
        quarantined_messages=quarantined_count(conn, raw),
    )


@dataclass(frozen=True)
class LookUp:
    """A logged look-up: what was found and the access-log entry written for it."""

    record: SubjectRecord
    access: Access = field(repr=False)


def look_up(
    conn: psycopg.Connection, pseudonym: str, requested_by: str, output_format: str = "table"
) -> LookUp:
    """Read the subject's record and log the look-up, in one transaction: no record is
    returned without its log row. The log holds who asked, never the pseudonym."""
    started = time.perf_counter()
    with conn.transaction():
        record = subject_record(conn, pseudonym)
        access = Access(
            token_name=requested_by,
            role="admin",
            party=None,
            method="CLI",
            route=ROUTE,
            parameters={"subject": "given", "format": output_format},
            status=200,
            duration_ms=(time.perf_counter() - started) * 1000,
            rows_returned=record.rows,
        )
        record_access(conn, access)
    return LookUp(record, access)
