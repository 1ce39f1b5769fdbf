"""Scorecard rules that need the register: what one person's events add, given their history.

Exclusions and absence are counted by the pupil's SEND status on the day, which
only the person's whole history knows (a census record may arrive after the
exclusion). So these measures are a pure function of the person's events and
timeline; when either changes, the projection retracts the old contribution and
adds the new one, exactly as it does for the JSNA cells.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence

from schemas.envelope import Event
from streams.cohort import EHC_PLAN, SEN_SUPPORT, Span, event_date, state_at
from streams.measures import MeasureDelta, month_of
from streams.scorecard import (
    ABSENCE_BY_STATUS,
    PERMANENT_EXCLUSIONS_SEND,
    REPEAT_FIXED_TERM_EXCLUSIONS,
)

READS = frozenset({"ExclusionRecorded", "AttendanceRecorded"})
REPEAT_THRESHOLD = 3  # fixed-term exclusions in one academic year


def academic_year(day: dt.date) -> int:
    """The calendar year in which the academic year (September to August) of `day` began."""
    return day.year if day.month >= 9 else day.year - 1


def status_on(spans: Sequence[Span], day: dt.date) -> str | None:
    state = state_at(spans, day)
    return state.send_status if state is not None else None


def reads_any(events: Iterable[Event]) -> bool:
    return any(event.event_type in READS for event in events)


def person_contributions(events: Iterable[Event], spans: Sequence[Span]) -> list[MeasureDelta]:
    """Exclusion and absence measures of one person, from all their events and their timeline."""
    unique = {str(e.event_id): e for e in events if e.event_type in READS}
    deltas: list[MeasureDelta] = []
    fixed_term: dict[int, list[tuple[dt.date, str, bool]]] = defaultdict(list)
    for event_id, event in sorted(unique.items()):
        p = event.payload
        if event.event_type == "AttendanceRecorded":
            kpi = ABSENCE_BY_STATUS.get(status_on(spans, event_date(event)) or "")
            if kpi is not None:
                deltas.append(
                    MeasureDelta(
                        kpi.id,
                        month_of(event_date(event)),
                        int(p["sessions_missed"]),
                        int(p["sessions_possible"]),
                    )
                )
            continue
        day = dt.date.fromisoformat(p["start_date"])
        with_send = status_on(spans, day) in (EHC_PLAN, SEN_SUPPORT)
        if p["exclusion_kind"] == "PERMANENT":
            deltas.append(
                MeasureDelta(PERMANENT_EXCLUSIONS_SEND.id, month_of(day), int(with_send), 1)
            )
        else:
            fixed_term[academic_year(day)].append((day, event_id, with_send))
    for exclusions in fixed_term.values():
        if len(exclusions) >= REPEAT_THRESHOLD:
            day, _, with_send = sorted(exclusions)[REPEAT_THRESHOLD - 1]
            deltas.append(
                MeasureDelta(REPEAT_FIXED_TERM_EXCLUSIONS.id, month_of(day), int(with_send), 1)
            )
    return deltas
