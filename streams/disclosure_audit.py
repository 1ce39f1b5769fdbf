"""The disclosure audit: the attacker's linear programme, solved for every suppressed count.

Given everything published (each count as shown, the sums tying counts together, and
counts known to be at most another), an attacker knows each true count lies in the
interval its shown value allows (`Rule.possible`: 0 exactly, a rounded v within its
rounding, `c` from 1 up, `x` withheld from 0 up) and that every sum holds. For each
suppressed or withheld count the audit
minimises and maximises it over all of that (`scipy.optimize.linprog`, HiGHS), one
connected group of counts at a time. It passes when every suppressed count keeps at
least `suppress_below` possible values. Pure: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

from streams.disclosure import HIDDEN, Key, Rule, Shown, Status, Sum


@dataclass(frozen=True)
class AtMost:
    """A published count known never to exceed another (a flag's count and its status's)."""

    part: Key
    whole: Key


@dataclass(frozen=True)
class Interval:
    """What the attacker can narrow one suppressed count to."""

    key: Key
    low: float
    high: float

    @property
    def values(self) -> float:
        """How many whole counts remain possible (inf when unbounded above)."""
        if self.high == math.inf:
            return math.inf
        return math.floor(self.high + 1e-6) - math.ceil(self.low - 1e-6) + 1


@dataclass(frozen=True)
class AuditReport:
    published: int  # counts published (numbers and symbols)
    suppressed: int  # of which suppressed
    intervals: tuple[Interval, ...]  # one per suppressed count, narrowest first
    threshold: int
    inconsistent: tuple[Key, ...] = ()  # counts shown two ways in two places
    withheld: int = 0  # cells of a cross-tab's withheld lines, shown `x`

    @property
    def failures(self) -> tuple[Interval, ...]:
        return tuple(i for i in self.intervals if i.values < self.threshold)

    @property
    def passed(self) -> bool:
        return not self.failures and not self.inconsistent

    @property
    def narrowest(self) -> Interval | None:
        return self.intervals[0] if self.intervals else None


def _groups(keys: Sequence[Key], links: Sequence[tuple[Key, ...]]) -> list[list[Key]]:
    """Keys joined by any relation, as connected groups (union-find)."""
    parent = {key: key for key in keys}

    def root(key: Key) -> Key:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for link in links:
        first = root(link[0])
        for other in link[1:]:
            parent[root(other)] = first
    groups: dict[Key, list[Key]] = {}
    for key in keys:
        groups.setdefault(root(key), []).append(key)
    return list(groups.values())


def _solve(
    rule: Rule,
    shown: Mapping[Key, Shown],
    unpublished: set[Key],
    group: Sequence[Key],
    sums: Sequence[Sum],
    at_most: Sequence[AtMost],
) -> list[Interval]:
    index = {key: i for i, key in enumerate(group)}
    bounds = [rule.possible(shown[key]) for key in group]
    equalities = []
    for relation in sums:
        row = np.zeros(len(group))
        row[index[relation.total]] = -1.0
        for part in relation.parts:
            row[index[part]] += 1.0
        equalities.append(row)
    inequalities = []
    for pair in at_most:
        row = np.zeros(len(group))
        row[index[pair.part]] += 1.0
        row[index[pair.whole]] -= 1.0
        inequalities.append(row)
    found = []
    for key in group:
        if shown[key].status not in HIDDEN or key in unpublished:
            continue
        ends = []
        for sign in (1.0, -1.0):
            objective = np.zeros(len(group))
            objective[index[key]] = sign
            solution = linprog(
                objective,
                A_ub=np.array(inequalities) if inequalities else None,
                b_ub=np.zeros(len(inequalities)) if inequalities else None,
                A_eq=np.array(equalities) if equalities else None,
                b_eq=np.zeros(len(equalities)) if equalities else None,
                bounds=[(low, None if high == math.inf else high) for low, high in bounds],
                method="highs",
            )
            if solution.status == 3:  # unbounded: the count can be as large as you like
                ends.append(math.inf)
            elif solution.status != 0:
                raise ValueError(f"the published figures around {key!r} are inconsistent")
            else:
                ends.append(sign * float(solution.fun))
        found.append(Interval(key, ends[0], ends[1]))
    return found


def audit(
    rule: Rule,
    shown: Mapping[Key, Shown],
    sums: Sequence[Sum],
    at_most: Sequence[AtMost] = (),
    inconsistent: Sequence[Key] = (),
    unpublished: Sequence[Key] = (),
) -> AuditReport:
    """Every suppressed count's narrowest interval given all that is published beside it.

    `unpublished` counts are shown nowhere but tie published ones together (a cross-tab's
    row adds up to the one-way cells of every SEND status): each is a free count, 0 up."""
    published = len(shown)
    shown = {**shown, **{key: Shown(None, Status.NOT_AVAILABLE) for key in unpublished}}
    keys = list(shown)
    known = set(keys)
    for relation in sums:
        missing = {relation.total, *relation.parts} - known
        if missing:
            raise ValueError(
                f"a sum names counts that are not published: {sorted(map(repr, missing))}"
            )
    groups = _groups(
        keys,
        [(r.total, *r.parts) for r in sums] + [(p.part, p.whole) for p in at_most],
    )
    group_of = {key: n for n, group in enumerate(groups) for key in group}
    intervals: list[Interval] = []
    for n, group in enumerate(groups):
        if not any(shown[key].status in HIDDEN for key in group):
            continue
        intervals += _solve(
            rule,
            shown,
            set(unpublished),
            group,
            [r for r in sums if group_of[r.total] == n],
            [p for p in at_most if group_of[p.part] == n],
        )
    intervals.sort(key=lambda i: (i.values, repr(i.key)))
    return AuditReport(
        published=published,
        suppressed=sum(1 for v in shown.values() if v.status is Status.SUPPRESSED),
        withheld=sum(
            1
            for k, v in shown.items()
            if v.status is Status.NOT_AVAILABLE and k not in set(unpublished)
        ),
        intervals=tuple(intervals),
        threshold=rule.suppress_below,
        inconsistent=tuple(inconsistent),
    )
