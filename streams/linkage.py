"""Joining pseudonyms into people: a child known by UPN and by NHS number is one person.

Any event carrying both pseudonyms links them; links are transitive. A person's
id is derived from the smallest pseudonym of their linked set, so it does not
depend on the order events arrived in: when two known people turn out to be
one, the merged person takes one id and the other is retired.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from schemas.envelope import Event


def pseudonym_keys(event: Event) -> frozenset[str]:
    """The event's pseudonyms, tagged by kind so an NHS and a UPN pseudonym never collide."""
    keys = set()
    if event.nhs_pseudonym:
        keys.add(f"nhs:{event.nhs_pseudonym}")
    if event.upn_pseudonym:
        keys.add(f"upn:{event.upn_pseudonym}")
    return frozenset(keys)


def person_id(pseudonyms: Iterable[str]) -> str:
    """The hub's person id for a linked set of pseudonyms."""
    return "P" + hashlib.sha256(min(pseudonyms).encode("ascii")).hexdigest()[:24]


@dataclass(frozen=True)
class LinkOutcome:
    """People after linking: each id with its pseudonyms, and the ids that no longer exist."""

    people: dict[str, frozenset[str]]
    retired: frozenset[str]


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, item: str) -> str:
        self.parent.setdefault(item, item)
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, items: Iterable[str]) -> None:
        roots = [self.find(item) for item in items]
        for other in roots[1:]:
            self.parent[self.find(other)] = self.find(roots[0])


def link(known: Mapping[str, frozenset[str]], groups: Iterable[frozenset[str]]) -> LinkOutcome:
    """Merge known people (id -> pseudonyms) with new groups of pseudonyms seen together."""
    sets = UnionFindSets()
    for pseudonyms in known.values():
        sets.add(pseudonyms)
    for group in groups:
        if group:
            sets.add(group)
    people = {person_id(component): component for component in sets.components()}
    retired = frozenset(set(known) - set(people))
    return LinkOutcome(people, retired)


class UnionFindSets:
    """Sets of pseudonyms merged whenever they share a member."""

    def __init__(self) -> None:
        self._forest = _UnionFind()

    def add(self, members: Iterable[str]) -> None:
        self._forest.union(list(members))

    def components(self) -> list[frozenset[str]]:
        by_root: dict[str, set[str]] = {}
        for item in list(self._forest.parent):
            by_root.setdefault(self._forest.find(item), set()).add(item)
        return [frozenset(members) for members in by_root.values()]


def people_of(events: Iterable[Event]) -> dict[str, list[Event]]:
    """A batch reference: every person's events, linking from scratch."""
    event_list = [e for e in events if pseudonym_keys(e)]
    outcome = link({}, (pseudonym_keys(e) for e in event_list))
    owner = {p: pid for pid, members in outcome.people.items() for p in members}
    people: dict[str, list[Event]] = {pid: [] for pid in outcome.people}
    for event in event_list:
        people[owner[next(iter(pseudonym_keys(event)))]].append(event)
    return people
