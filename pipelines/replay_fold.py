"""Replay's fold: each person's events read once, grouped by person, and folded with
the projections' own rules. Only revisions in effect at the replay's sequence are read:
a superseded revision or a withdrawal counts for nobody (`streams/revisions.py`).

`fold_people` reads the event store through a server-side cursor (memory stays flat),
joined to the rebuilt person links, and for each person runs the rules the worker
runs (`timeline`, `changes`, `contributions`, `person_contributions`): the register
history is written to `cohort_history` in the search path's schema, the JSNA cell
changes and KPI measures are returned. A `Share` picks the people one process folds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby

import psycopg

from streams.cohort import timeline
from streams.jsna import Cell, changes
from streams.measures import MeasureDelta, add_up, contributions
from streams.person_measures import person_contributions
from streams.projection import ProjectionSettings
from warehouse.cohort_store import event_from_row, state_jsonb
from warehouse.event_store import EVENT_COLUMNS, in_effect_sql


@dataclass(frozen=True)
class Share:
    """Which people one process folds: those whose id hashes to `index` modulo `of`."""

    index: int
    of: int


@dataclass(frozen=True)
class Folded:
    """What folding a share of the people gave, besides the histories already written."""

    events: int
    cells: Counter[Cell]
    measures: list[MeasureDelta]


def fold_people(
    conn: psycopg.Connection,
    settings: ProjectionSettings,
    up_to: int,
    share: Share,
    report: Callable[[int], None],
) -> Folded:
    """Fold each person of the share once, from all their events: histories are written
    to `cohort_history` (in the search path's schema), cells and measures returned."""
    ends = settings.month_ends()
    cells: Counter[Cell] = Counter()
    measures: list[MeasureDelta] = []
    history: list[tuple[object, ...]] = []
    done = 0
    with conn.transaction():
        with conn.cursor(name="replay_events") as events:
            events.itersize = 5_000
            events.execute(
                f"""
                SELECT l.person_id, {_prefixed(EVENT_COLUMNS)}
                FROM public.events e
                JOIN person_links l ON l.pseudonym = CASE
                    WHEN e.nhs_pseudonym IS NOT NULL THEN 'nhs:' || e.nhs_pseudonym
                    ELSE 'upn:' || e.upn_pseudonym END
                WHERE e.sequence <= %(up_to)s AND {in_effect_sql("e", "%(up_to)s")}
                  AND (hashtext(l.person_id) & 2147483647) %% %(of)s = %(index)s
                ORDER BY l.person_id
                """,
                {"up_to": up_to, "of": share.of, "index": share.index},
            )
            pending = 0
            for person_id, rows in groupby(events, key=lambda row: row[0]):
                person_events = [event_from_row(row[1:]) for row in rows]
                spans = timeline(person_events)
                history.extend(
                    (
                        person_id,
                        span.valid_from,
                        span.valid_to,
                        state_jsonb(span.state),
                        list(span.caused_by),
                    )
                    for span in spans
                )
                cells.update(changes(spans, ends, settings.locality_of))
                measures.extend(d for event in person_events for d in contributions(event))
                measures.extend(person_contributions(person_events, spans))
                done += len(person_events)
                pending += len(person_events)
                if pending >= 20_000:  # between fetches: write what has been folded
                    _copy_history(conn, history)
                    history.clear()
                    measures = add_up(measures)
                    pending = 0
                    report(done)
        _copy_history(conn, history)
    report(done)
    return Folded(done, cells, add_up(measures))


def _copy_history(conn: psycopg.Connection, rows: list[tuple[object, ...]]) -> None:
    with (
        conn.cursor() as cursor,
        cursor.copy(
            "COPY cohort_history (person_id, valid_from, valid_to, state, caused_by) FROM STDIN"
        ) as copy,
    ):
        for row in rows:
            copy.write_row(row)


def _prefixed(columns: str) -> str:
    return ", ".join(f"e.{name.strip()}" for name in columns.split(","))
