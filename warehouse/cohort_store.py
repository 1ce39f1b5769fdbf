"""The cohort register and JSNA cells in PostgreSQL: the `ProjectionStore` the worker writes.

Every call happens inside the event store's batch transaction, so the register,
the cells and the idempotency record (the events table) commit together or not
at all. Person histories are replaced whole; JSNA cells receive deltas.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
import psycopg
from psycopg.types.json import Jsonb

from schemas.envelope import Event
from streams.cohort import PersonState, Span
from streams.jsna import Cell
from streams.measures import MeasureDelta
from streams.projection import ProjectionSettings
from warehouse.event_store import EVENT_COLUMNS, in_effect_sql, revisions_of
from warehouse.measures import upsert_measures


def event_from_row(row: tuple[Any, ...]) -> Event:
    return Event(*row)


def state_jsonb(state: PersonState) -> Jsonb:
    """A state as stored: a JSON object of its fields, tuples as arrays. orjson writes a
    dataclass that way itself, several times faster than building the dict first (a
    replay writes one per span)."""
    return Jsonb(state, dumps=orjson.dumps)


def state_from_json(data: Mapping[str, Any]) -> PersonState:
    values: dict[str, Any] = {
        name: tuple(tuple(item) for item in value) if isinstance(value, list) else value
        for name, value in data.items()
    }
    return PersonState(**values)


class PostgresProjectionStore:
    """ProjectionStore over one open connection (the caller owns the transaction)."""

    def __init__(self, conn: psycopg.Connection, up_to_sequence: int | None = None) -> None:
        self.conn = conn
        self.up_to_sequence = up_to_sequence  # a replay sees the store as it was then

    def _stage(self) -> None:
        """Session-local staging tables, so bulk writes go through COPY."""
        self.conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS staged_links (pseudonym text, person_id text)"
        )
        self.conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS staged_cells (as_at date, send_status text,"
            " dimension text, value text, change bigint)"
        )

    def people_with(self, pseudonyms: frozenset[str]) -> dict[str, frozenset[str]]:
        rows = self.conn.execute(
            """
            SELECT l.person_id, l.pseudonym FROM person_links l
            WHERE l.person_id IN (SELECT person_id FROM person_links WHERE pseudonym = ANY(%s))
            """,
            (list(pseudonyms),),
        ).fetchall()
        people: dict[str, set[str]] = {}
        for person_id, pseudonym in rows:
            people.setdefault(person_id, set()).add(pseudonym)
        return {pid: frozenset(members) for pid, members in people.items()}

    def events_with(self, pseudonyms: frozenset[str]) -> list[Event]:
        nhs = [p[4:] for p in pseudonyms if p.startswith("nhs:")]
        upn = [p[4:] for p in pseudonyms if p.startswith("upn:")]
        limit = self.up_to_sequence
        in_effect = in_effect_sql("events", "%(limit)s")
        rows = self.conn.execute(
            f"""
            SELECT {EVENT_COLUMNS} FROM events
            WHERE nhs_pseudonym = ANY(%(nhs)s)
              AND (%(limit)s::bigint IS NULL OR sequence <= %(limit)s) AND {in_effect}
            UNION
            SELECT {EVENT_COLUMNS} FROM events
            WHERE upn_pseudonym = ANY(%(upn)s)
              AND (%(limit)s::bigint IS NULL OR sequence <= %(limit)s) AND {in_effect}
            """,
            {"nhs": nhs, "upn": upn, "limit": limit},
        ).fetchall()
        return [event_from_row(row) for row in rows]

    def revisions(self, records: frozenset[uuid.UUID]) -> list[Event]:
        return [r.event for r in revisions_of(self.conn, records, self.up_to_sequence)]

    def histories(self, person_ids: Iterable[str]) -> dict[str, list[Span]]:
        rows = self.conn.execute(
            """
            SELECT person_id, valid_from, valid_to, state, caused_by FROM cohort_history
            WHERE person_id = ANY(%s) ORDER BY person_id, valid_from
            """,
            (list(set(person_ids)),),
        ).fetchall()
        histories: dict[str, list[Span]] = {}
        for person_id, valid_from, valid_to, state, caused_by in rows:
            histories.setdefault(person_id, []).append(
                Span(valid_from, valid_to, state_from_json(state), tuple(caused_by))
            )
        return histories

    def save(
        self,
        people: Mapping[str, frozenset[str]],
        histories: Mapping[str, list[Span]],
        retired: Iterable[str],
        cells: Counter[Cell],
        measures: Sequence[MeasureDelta],
    ) -> None:
        replaced = [*set(retired), *histories]
        self.conn.execute("DELETE FROM cohort_history WHERE person_id = ANY(%s)", (replaced,))
        self._stage()
        with self.conn.cursor() as cursor:
            with cursor.copy("COPY staged_links (pseudonym, person_id) FROM STDIN") as copy:
                for pid, members in people.items():
                    for pseudonym in members:
                        copy.write_row((pseudonym, pid))
            with cursor.copy(
                "COPY cohort_history (person_id, valid_from, valid_to, state, caused_by) FROM STDIN"
            ) as copy:
                for pid, spans in histories.items():
                    for span in spans:
                        copy.write_row(
                            (
                                pid,
                                span.valid_from,
                                span.valid_to,
                                state_jsonb(span.state),
                                list(span.caused_by),
                            )
                        )
            with cursor.copy(
                "COPY staged_cells (as_at, send_status, dimension, value, change) FROM STDIN"
            ) as copy:
                for cell, n in cells.items():
                    copy.write_row((*cell, n))
        self.conn.execute(
            """
            INSERT INTO person_links (pseudonym, person_id)
            SELECT pseudonym, person_id FROM staged_links
            ON CONFLICT (pseudonym) DO UPDATE SET person_id = EXCLUDED.person_id
            WHERE person_links.person_id <> EXCLUDED.person_id
            """
        )
        self.conn.execute(
            """
            INSERT INTO jsna_cell_changes (as_at, send_status, dimension, value, change)
            SELECT as_at, send_status, dimension, value, change FROM staged_cells
            ON CONFLICT (as_at, send_status, dimension, value)
            DO UPDATE SET change = jsna_cell_changes.change + EXCLUDED.change
            """
        )
        self.conn.execute(
            """
            DELETE FROM jsna_cell_changes j USING staged_cells s
            WHERE j.change = 0 AND j.as_at = s.as_at AND j.send_status = s.send_status
              AND j.dimension = s.dimension AND j.value = s.value
            """
        )
        self.conn.execute("TRUNCATE staged_links, staged_cells")
        upsert_measures(self.conn, measures)


def jsna_horizon(conn: psycopg.Connection, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The month ends JSNA cells are kept for: fixed in the warehouse on first use (from
    January 2019 to the December after next), so the worker and every replay agree however
    many month ends pass between them. Cells for a state hold forward to the horizon."""
    row = conn.execute("SELECT first_month, last_month FROM jsna_horizon").fetchone()
    if row is None:
        year = (today or dt.date.today()).year + 1
        conn.execute(
            "INSERT INTO jsna_horizon (first_month, last_month) VALUES (%s, %s)"
            " ON CONFLICT DO NOTHING",
            (dt.date(2019, 1, 1), dt.date(year, 12, 1)),
        )
        row = conn.execute("SELECT first_month, last_month FROM jsna_horizon").fetchone()
    assert row is not None
    return row[0], row[1]


def record_horizon(conn: psycopg.Connection, settings: ProjectionSettings) -> None:
    """Fix the horizon to the one these cells are computed for, if none is fixed yet: the
    `jsna_cells` view adds the changes up to each month end of the recorded horizon."""
    conn.execute(
        "INSERT INTO jsna_horizon (first_month, last_month) VALUES (%s, %s) ON CONFLICT DO NOTHING",
        (settings.first_month.replace(day=1), settings.last_month.replace(day=1)),
    )


def projection_settings(conn: psycopg.Connection) -> ProjectionSettings:
    """The projection's settings as the warehouse holds them: horizon and localities."""
    first, last = jsna_horizon(conn)
    return ProjectionSettings(
        first_month=first, last_month=last, locality_of=locality_reference(conn)
    )


def locality_reference(conn: psycopg.Connection) -> dict[str, str]:
    """LSOA code -> locality, as loaded for the area (empty until reference data is loaded)."""
    return dict(conn.execute("SELECT lsoa_code, locality FROM reference_localities").fetchall())


def register_counts(conn: psycopg.Connection) -> dict[str, int]:
    """People in the register now, by SEND status."""
    rows = conn.execute(
        "SELECT state ->> 'send_status', count(*) FROM cohort_register GROUP BY 1"
    ).fetchall()
    return {str(status): int(count) for status, count in rows}


def jsna_cells_at(conn: psycopg.Connection, as_at: dt.date) -> dict[tuple[str, str, str], int]:
    rows = conn.execute(
        "SELECT send_status, dimension, value, people FROM jsna_cells WHERE as_at = %s",
        (as_at,),
    ).fetchall()
    return {(s, d, v): int(n) for s, d, v, n in rows}
