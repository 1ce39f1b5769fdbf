"""Corrections and withdrawals: which revision of a partner's record is in effect.

A partner record (one plan, one referral, one census return) reaches the hub as one
or more revisions: events sharing a record key (`Event.record_key`). Sending a row
again with changed fields makes a new revision; a `RecordWithdrawn` event withdraws
the record. The revision in effect is the newest by the partner's `recorded_at`
(ties broken by event id), unless that newest one is a withdrawal: then none is.
Choosing by `recorded_at` rather than by arrival makes the answer a function of the
set of revisions, so a stale revision delivered late by an outbox, or a withdrawal
overtaking its record on another partition, changes nothing.

Everything here is pure. The event store records each supersession (`supersessions`)
as an index of what the events already imply; the views retract the contribution of
a revision that went out of effect and add the one that came in (`revision_change`),
live and in replay alike.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from schemas.envelope import Event

WITHDRAWAL = "RecordWithdrawn"


def is_withdrawal(event: Event) -> bool:
    return event.event_type == WITHDRAWAL


def _newness(event: Event) -> tuple[object, ...]:
    return (event.recorded_at, str(event.event_id))


def newest(revisions: Iterable[Event]) -> Event | None:
    """The newest revision of one record (a withdrawal included), or None if there is none."""
    return max(revisions, key=_newness, default=None)


def in_effect(revisions: Iterable[Event]) -> Event | None:
    """The revision whose contribution counts: the newest, unless it is a withdrawal."""
    latest = newest(revisions)
    return None if latest is None or is_withdrawal(latest) else latest


@dataclass(frozen=True)
class Revision:
    """An event with the event store's sequence number: when it arrived."""

    sequence: int
    event: Event


@dataclass(frozen=True)
class Supersession:
    """`event_id` stopped being the newest revision of its record when `superseded_by`
    arrived (or on its own arrival, if a newer revision was already there), at `sequence`."""

    event_id: uuid.UUID
    record_key: uuid.UUID
    superseded_by: uuid.UUID
    sequence: int


def _by_record(events: Iterable[Event]) -> dict[uuid.UUID, list[Event]]:
    records: dict[uuid.UUID, list[Event]] = defaultdict(list)
    for event in events:
        records[event.record_key].append(event)
    return records


def supersessions(revisions: Sequence[Revision]) -> list[Supersession]:
    """Every supersession among these revisions, replaying their arrival in order.

    A revision is superseded when a newer one arrives, or on its own arrival when a
    newer one is already stored. The sequence says from when, so the store as it was
    at any sequence (a replay's view) is known from the records alone.
    """
    records: dict[uuid.UUID, list[Revision]] = defaultdict(list)
    for revision in revisions:
        records[revision.event.record_key].append(revision)
    found: list[Supersession] = []
    for key, arrivals in records.items():
        current: Event | None = None
        for revision in sorted(arrivals, key=lambda r: r.sequence):
            event = revision.event
            if current is None:
                current = event
            elif _newness(event) > _newness(current):
                found.append(Supersession(current.event_id, key, event.event_id, revision.sequence))
                current = event
            elif event.event_id != current.event_id:
                found.append(Supersession(event.event_id, key, current.event_id, revision.sequence))
    return found


@dataclass(frozen=True)
class RevisionChange:
    """What a batch changed: revisions that came into effect (their contributions are
    added) and revisions that went out of effect (their contributions are retracted)."""

    applied: tuple[Event, ...]
    retracted: tuple[Event, ...]

    @classmethod
    def of_new(cls, batch: Iterable[Event]) -> RevisionChange:
        """Every new event in effect and nothing retracted: no record had an earlier revision."""
        return cls(tuple(e for e in batch if not is_withdrawal(e)), ())


def revision_change(stored: Iterable[Event], batch: Sequence[Event]) -> RevisionChange:
    """The change a batch of new events makes, given every stored revision of their records.

    `stored` may include the batch itself (the store has just appended it); the state
    before is read from the other revisions, the state after from all of them.
    """
    new_ids = {event.event_id for event in batch}
    earlier = _by_record(e for e in stored if e.event_id not in new_ids)
    applied: list[Event] = []
    retracted: list[Event] = []
    for key, arriving in _by_record(batch).items():
        before = in_effect(earlier.get(key, []))
        after = in_effect([*earlier.get(key, []), *arriving])
        if before is not None and after is not None and before.event_id == after.event_id:
            continue
        if before is not None:
            retracted.append(before)
        if after is not None:
            applied.append(after)
    return RevisionChange(tuple(applied), tuple(retracted))
