"""The disclosure audit: the attacker's linear programme, solved for every suppressed count.

Given everything published (each count as shown, the sums tying counts together, and
counts known to be at most another), an attacker knows each true count lies in the
interval its shown value allows (`Rule.possible`: 0 exactly, a rounded v within its
rounding, `c` from 1 up, `x` withheld from 0 up) and that every sum holds. For each
suppressed or withheld count the audit
minimises and maximises it over all of that (`scipy.optimize.linprog`, HiGHS), one
connected group of counts at a time. It passes when every suppressed count keeps at
least `suppress_below` possible values.

The same programme (`System`) is the oracle of secondary suppression
(`streams/secondary_suppression.py`). Pure: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linprog

from streams.disclosure import HIDDEN, Key, Rule, Shown, Status, Sum

Bounds = Sequence[tuple[float, float]]


@dataclass(frozen=True)
class AtMost:
    """A published count known never to exceed another (a flag's count and its status's)."""

    part: Key
    whole: Key


def whole_values(low: float, high: float) -> float:
    """How many whole counts lie in [low, high] (inf when unbounded above)."""
    if high == math.inf:
        return math.inf
    return math.floor(high + 1e-6) - math.ceil(low - 1e-6) + 1


@dataclass(frozen=True)
class Interval:
    """What the attacker can narrow one suppressed count to."""

    key: Key
    low: float
    high: float

    @property
    def values(self) -> float:
        """How many whole counts remain possible (inf when unbounded above)."""
        return whole_values(self.low, self.high)


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


def connected_groups(keys: Sequence[Key], links: Sequence[tuple[Key, ...]]) -> list[list[Key]]:
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


@dataclass(frozen=True)
class System:
    """One connected group of counts as the linear programme sees it: sums as equations
    (parts minus total is 0), "at most" relations as inequalities (part minus whole <= 0)."""

    keys: tuple[Key, ...]
    index: Mapping[Key, int]
    equalities: NDArray[np.float64] | None
    inequalities: NDArray[np.float64] | None

    @classmethod
    def of(cls, group: Sequence[Key], sums: Sequence[Sum], at_most: Sequence[AtMost]) -> System:
        index = {key: i for i, key in enumerate(group)}
        equalities = np.zeros((len(sums), len(group)))
        for row, relation in enumerate(sums):
            equalities[row, index[relation.total]] = -1.0
            for part in relation.parts:
                equalities[row, index[part]] += 1.0
        inequalities = np.zeros((len(at_most), len(group)))
        for row, pair in enumerate(at_most):
            inequalities[row, index[pair.part]] += 1.0
            inequalities[row, index[pair.whole]] -= 1.0
        return cls(
            tuple(group),
            index,
            equalities if len(sums) else None,
            inequalities if len(at_most) else None,
        )

    def possible(self, bounds: Bounds, point: NDArray[np.float64]) -> bool:
        """Whether `point` keeps every bound and relation (the truth always should)."""
        lows, highs = (np.array(ends) for ends in zip(*bounds, strict=True))
        if np.any(point < lows - 1e-9) or np.any(point > highs + 1e-9):
            return False
        if self.equalities is not None and np.any(np.abs(self.equalities @ point) > 1e-9):
            return False
        return self.inequalities is None or not np.any(self.inequalities @ point > 1e-9)

    def solve(self, objective: NDArray[np.float64], bounds: Bounds) -> NDArray[np.float64] | None:
        """A point minimising `objective` within `bounds`; None when unbounded below."""
        equalities, inequalities = self.equalities, self.inequalities
        solution = linprog(
            objective,
            A_ub=inequalities,
            b_ub=None if inequalities is None else np.zeros(len(inequalities)),
            A_eq=equalities,
            b_eq=None if equalities is None else np.zeros(len(equalities)),
            bounds=[(low, None if high == math.inf else high) for low, high in bounds],
            method="highs",
        )
        if solution.status == 3:  # unbounded: a count can be as large as you like
            return None
        if solution.status != 0:
            raise ValueError(f"the published figures around {self.keys[0]!r} are inconsistent")
        point: NDArray[np.float64] = solution.x
        return point

    def extreme(
        self, bounds: Bounds, key: Key, sign: float
    ) -> tuple[float, NDArray[np.float64] | None]:
        """The least (`sign` 1) or greatest (`sign` -1) value of one count, and a point there."""
        objective = np.zeros(len(self.keys))
        objective[self.index[key]] = sign
        point = self.solve(objective, bounds)
        if point is None:
            return -sign * math.inf, None
        return float(point[self.index[key]]), point

    def range(self, bounds: Bounds, key: Key) -> tuple[float, float]:
        """The least and greatest value of one count (the greatest first: often unbounded)."""
        most, _ = self.extreme(bounds, key, -1.0)
        if most == math.inf:
            return bounds[self.index[key]][0], most
        least, _ = self.extreme(bounds, key, 1.0)
        return least, most


def _solve(
    rule: Rule,
    shown: Mapping[Key, Shown],
    unpublished: set[Key],
    group: Sequence[Key],
    sums: Sequence[Sum],
    at_most: Sequence[AtMost],
) -> list[Interval]:
    system = System.of(group, sums, at_most)
    bounds: Bounds = [rule.possible(shown[key]) for key in group]
    found = []
    for key in group:
        if shown[key].status not in HIDDEN or key in unpublished:
            continue
        low, _ = system.extreme(bounds, key, 1.0)
        high, _ = system.extreme(bounds, key, -1.0)
        found.append(Interval(key, low, high))
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
    groups = connected_groups(
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
