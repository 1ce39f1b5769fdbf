"""Keeping the cohort register and JSNA cells current, one batch of new events at a time.

For each batch: link the pseudonyms the new events reveal, find every person the
batch touches, recompute their history from all of their events (old and new),
and turn the change in history into retract-and-add deltas for the JSNA cells and
for the KPI measures that need the person's status on the day (exclusions, absence).
The storage is behind `ProjectionStore`, so the same code runs on PostgreSQL (the
worker and `hub replay`) and in memory (the reference the tests compare with).

Only events the event store has just accepted may be passed in: idempotency is the
event store's job, so a re-delivered event never reaches this code twice. A new event
that corrects or withdraws a record (`streams/revisions.py`) takes the record's earlier
revision out of its person's history: the store returns only revisions in effect, and
the revision that went out of effect is retracted from the person it counted for, who
may be another person if the correction changed the identifiers.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from schemas.envelope import Event
from streams.cohort import Span, timeline
from streams.jsna import Cell, contribution_delta, total
from streams.linkage import link, pseudonym_keys
from streams.measures import MeasureDelta, add_up, retract
from streams.person_measures import person_contributions, reads_any
from streams.revisions import RevisionChange, in_effect, revision_change


class ProjectionStore(Protocol):
    """What the projection reads and writes; one call of `project` is one transaction."""

    def people_with(self, pseudonyms: frozenset[str]) -> dict[str, frozenset[str]]:
        """Every known person holding any of these pseudonyms, with all their pseudonyms."""
        ...

    def events_with(self, pseudonyms: frozenset[str]) -> list[Event]:
        """Every stored event in effect carrying any of these pseudonyms (including the
        new ones): no superseded revision, no withdrawal."""
        ...

    def revisions(self, records: frozenset[uuid.UUID]) -> list[Event]:
        """Every stored revision of these records (superseded ones and withdrawals too)."""
        ...

    def histories(self, person_ids: Iterable[str]) -> dict[str, list[Span]]: ...

    def save(
        self,
        people: Mapping[str, frozenset[str]],
        histories: Mapping[str, list[Span]],
        retired: Iterable[str],
        cells: Counter[Cell],
        measures: Sequence[MeasureDelta],
    ) -> None:
        """Replace the people's histories and links, add the cell and KPI measure deltas."""
        ...


@dataclass(frozen=True)
class ProjectionSettings:
    """The month ends the JSNA cells are kept for, and the LSOA -> locality reference."""

    first_month: dt.date = dt.date(2019, 1, 1)
    last_month: dt.date = field(default_factory=dt.date.today)
    locality_of: Mapping[str, str] = field(default_factory=dict)

    def month_ends(self) -> list[dt.date]:
        from streams.jsna import month_ends

        return month_ends(self.first_month, self.last_month)


@dataclass(frozen=True)
class ProjectionOutcome:
    people_changed: int
    people_retired: int
    cells_changed: int
    measures_changed: int = 0


def changed_revisions(store: ProjectionStore, new_events: Sequence[Event]) -> RevisionChange:
    """Which revisions `new_events` bring into effect and take out of it."""
    records = frozenset(event.record_key for event in new_events)
    return revision_change(store.revisions(records), new_events)


def project(
    store: ProjectionStore,
    new_events: Sequence[Event],
    settings: ProjectionSettings,
    change: RevisionChange | None = None,
) -> ProjectionOutcome:
    """Bring the register and the JSNA cells up to date with `new_events`.

    `change` is what the events did to their records' revisions, if the caller has
    worked it out already (`changed_revisions` otherwise).
    """
    change = changed_revisions(store, new_events) if change is None else change
    groups = [
        keys for keys in (pseudonym_keys(e) for e in [*new_events, *change.retracted]) if keys
    ]
    if not groups:
        return ProjectionOutcome(0, 0, 0)
    touched = frozenset().union(*groups)
    known = store.people_with(touched)
    outcome = link(known, groups)
    affected = {
        pid: members for pid, members in outcome.people.items() if members & touched or pid in known
    }
    owner = {p: pid for pid, members in affected.items() for p in members}
    old_owner = {p: pid for pid, members in known.items() for p in members}
    fresh = {event.event_id for event in new_events}
    events_by_person: dict[str, list[Event]] = {pid: [] for pid in affected}
    old_events: dict[str, list[Event]] = {pid: [] for pid in known}
    # Every stored event with a pseudonym was linked when it was appended, so the store
    # holds nothing for a pseudonym no link names but the new events themselves: those
    # in effect are taken as they are, and only known people's events are read back.
    unread = [
        e for e in change.applied if (keys := pseudonym_keys(e)) and not keys & old_owner.keys()
    ]
    stored = store.events_with(frozenset(old_owner)) if old_owner else []
    for event in [*stored, *unread]:
        key = next(iter(pseudonym_keys(event)))
        events_by_person[owner[key]].append(event)
        if event.event_id not in fresh and key in old_owner:
            old_events[old_owner[key]].append(event)
    for event in change.retracted:  # no longer in effect, so no longer read back
        keys = pseudonym_keys(event)
        if keys and (key := next(iter(keys))) in old_owner:
            old_events[old_owner[key]].append(event)
    old = store.histories([*known, *affected])
    new = {pid: timeline(events) for pid, events in events_by_person.items()}
    ends = settings.month_ends()
    cells = total(
        contribution_delta(old.get(pid, []), new.get(pid, []), ends, settings.locality_of)
        for pid in {*known, *affected}
    )
    measures = add_up(
        [
            *(
                delta
                for pid, events in events_by_person.items()
                if reads_any(events)
                for delta in person_contributions(events, new[pid])
            ),
            *(
                delta
                for pid, events in old_events.items()
                if reads_any(events)
                for delta in retract(person_contributions(events, old.get(pid, [])))
            ),
        ]
    )
    store.save(affected, new, outcome.retired, cells, measures)
    return ProjectionOutcome(len(new), len(outcome.retired), len(cells), len(measures))


@dataclass
class InMemoryStore:
    """A ProjectionStore in dictionaries: the tests' reference and the replay's scratch."""

    events: dict[str, Event] = field(default_factory=dict)
    records: dict[uuid.UUID, list[Event]] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    people: dict[str, list[Span]] = field(default_factory=dict)
    cells: Counter[Cell] = field(default_factory=Counter)
    measures: Counter[tuple[str, dt.date, str]] = field(default_factory=Counter)

    def append(self, events: Iterable[Event]) -> list[Event]:
        """Store events idempotently; return the ones not seen before (as the event store does)."""
        new = []
        for event in events:
            key = str(event.event_id)
            if key not in self.events:
                self.events[key] = event
                self.records.setdefault(event.record_key, []).append(event)
                new.append(event)
        return new

    def people_with(self, pseudonyms: frozenset[str]) -> dict[str, frozenset[str]]:
        ids = {self.links[p] for p in pseudonyms if p in self.links}
        return {pid: frozenset(p for p, owner in self.links.items() if owner == pid) for pid in ids}

    def events_with(self, pseudonyms: frozenset[str]) -> list[Event]:
        return [
            e for e in self.events.values() if pseudonym_keys(e) & pseudonyms and self._in_effect(e)
        ]

    def _in_effect(self, event: Event) -> bool:
        current = in_effect(self.records.get(event.record_key, []))
        return current is not None and current.event_id == event.event_id

    def revisions(self, records: frozenset[uuid.UUID]) -> list[Event]:
        return [e for key in records for e in self.records.get(key, [])]

    def histories(self, person_ids: Iterable[str]) -> dict[str, list[Span]]:
        return {pid: self.people[pid] for pid in person_ids if pid in self.people}

    def save(
        self,
        people: Mapping[str, frozenset[str]],
        histories: Mapping[str, list[Span]],
        retired: Iterable[str],
        cells: Counter[Cell],
        measures: Sequence[MeasureDelta],
    ) -> None:
        for pid in retired:
            self.people.pop(pid, None)
        for pid, members in people.items():
            for pseudonym in members:
                self.links[pseudonym] = pid
        self.people.update(histories)
        self.cells.update(cells)
        self.cells = Counter({cell: n for cell, n in self.cells.items() if n != 0})
        for delta in measures:
            self.measures[(delta.kpi_id, delta.period, "numerator")] += delta.numerator
            self.measures[(delta.kpi_id, delta.period, "denominator")] += delta.denominator
        self.measures = Counter({key: n for key, n in self.measures.items() if n != 0})
