"""The disclosure audit: the attacker's linear programme, solved for every suppressed count.

Given everything published (each count as shown, the sums tying counts together, and
counts known to be at most another), an attacker knows each true count lies in the
interval its shown value allows (`Rule.possible`: 0 exactly, a rounded v within its
rounding, `c` from 1 up, `x` withheld from 0 up) and that every sum holds. For each
suppressed or withheld count the audit
minimises and maximises it over all of that (`scipy.optimize.linprog`, HiGHS), one
connected group of counts at a time. It passes when every suppressed count keeps at
least `suppress_below` possible values.

The same programme is the oracle of secondary suppression (`secured`): after the
heuristic of `streams/disclosure.protect`, a table is attacked, and while a hidden count
can still be narrowed too far a further published cell beside it is suppressed. Pure: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.optimize import linprog

from streams.disclosure import (
    HIDDEN,
    SUPPRESSED,
    Key,
    Protected,
    Rule,
    Shown,
    Status,
    Sum,
    exact,
)

Bounds = Sequence[tuple[float, float]]
CERTIFYING_ROUNDS = 2  # programmes pushing every count in doubt together, before one by one
TRIALS = 24  # cells tried as the one to suppress next for a count narrowed too far
HEADROOM = 64  # how far above its truth a count may go while proving it safe (`_unsafe`)


@dataclass(frozen=True)
class AtMost:
    """A published count known never to exceed another (a flag's count and its status's)."""

    part: Key
    whole: Key


def _values(low: float, high: float) -> float:
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
        return _values(self.low, self.high)


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


@dataclass(frozen=True)
class _System:
    """One connected group of counts as the linear programme sees it: sums as equations
    (parts minus total is 0), "at most" relations as inequalities (part minus whole <= 0)."""

    keys: tuple[Key, ...]
    index: Mapping[Key, int]
    equalities: NDArray[np.float64] | None
    inequalities: NDArray[np.float64] | None

    @classmethod
    def of(cls, group: Sequence[Key], sums: Sequence[Sum], at_most: Sequence[AtMost]) -> _System:
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
    system = _System.of(group, sums, at_most)
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


@dataclass
class _Stack:
    """Copies of relation matrices along a diagonal, as sparse entries."""

    rows: list[NDArray[np.intp]] = field(default_factory=list)
    columns: list[NDArray[np.intp]] = field(default_factory=list)
    values: list[NDArray[np.float64]] = field(default_factory=list)
    height: int = 0

    def add(self, matrix: NDArray[np.float64] | None, column: int) -> None:
        if matrix is None:
            return
        rows, columns = np.nonzero(matrix)
        self.rows.append(rows + self.height)
        self.columns.append(columns + column)
        self.values.append(matrix[rows, columns])
        self.height += len(matrix)

    def matrix(self, width: int) -> sparse.csr_array | None:
        if not self.height:
            return None
        entries = (np.concatenate(self.rows), np.concatenate(self.columns))
        return sparse.csr_array((np.concatenate(self.values), entries), (self.height, width))


Copy = tuple[_System, NDArray[np.float64], Bounds]  # a group, what to minimise, its bounds


def _stacked(copies: Sequence[Copy]) -> list[NDArray[np.float64]]:
    """A point minimising each copy's objective within its bounds, from one programme.

    The copies share nothing (the matrix is block-diagonal), so each is solved as if
    alone, while HiGHS is called once rather than once per copy."""
    objectives: list[NDArray[np.float64]] = []
    limits: list[tuple[float, float | None]] = []
    stacks = {"eq": _Stack(), "ub": _Stack()}
    column = 0
    for system, objective, bounds in copies:
        objectives.append(objective)
        limits += [(low, None if high == math.inf else high) for low, high in bounds]
        stacks["eq"].add(system.equalities, column)
        stacks["ub"].add(system.inequalities, column)
        column += len(system.keys)
    equalities, inequalities = stacks["eq"].matrix(column), stacks["ub"].matrix(column)
    solution = linprog(
        np.concatenate(objectives),
        A_ub=inequalities,
        b_ub=None if inequalities is None else np.zeros(inequalities.shape[0]),
        A_eq=equalities,
        b_eq=None if equalities is None else np.zeros(equalities.shape[0]),
        bounds=limits,
        method="highs",
    )
    if solution.status != 0:
        raise ValueError("the published figures are inconsistent")
    points, column = [], 0
    for system, _, _ in copies:
        points.append(solution.x[column : column + len(system.keys)])
        column += len(system.keys)
    return points


@dataclass
class _Doubt:
    """What is known of one group's hidden counts while they are proved safe or not:
    the least and greatest value each has been seen at in possible truths."""

    system: _System
    bounds: Bounds  # as published
    held: Bounds  # each within HEADROOM of its truth (no programme unbounded); none unseeded
    low: NDArray[np.float64]
    high: NDArray[np.float64]
    pending: list[int]  # counts not yet seen at enough values apart

    def see(self, point: NDArray[np.float64]) -> None:
        np.minimum(self.low, point, out=self.low)
        np.maximum(self.high, point, out=self.high)

    def settle(self, threshold: int) -> bool:
        """Drop the counts seen far enough apart; whether any was."""
        before = len(self.pending)
        self.pending = [
            i
            for i in self.pending
            if not (self.high[i] >= self.low[i] and _values(self.low[i], self.high[i]) >= threshold)
        ]
        return len(self.pending) < before

    def held_back(self, point: NDArray[np.float64]) -> bool:
        """Whether some count at `point` is at its hold, below its published bound (if none
        is, the holds are inactive there and an optimum found with them is one without)."""
        return any(
            held < high and value >= held - 1e-9
            for value, (_, held), (_, high) in zip(point, self.held, self.bounds, strict=True)
        )

    def objective(self, indices: Sequence[int], sign: float) -> NDArray[np.float64]:
        objective = np.zeros(len(self.system.keys))
        objective[list(indices)] = sign
        return objective


def _unsafe(
    rule: Rule,
    shown: Mapping[Key, Shown],
    true: Mapping[Key, int],
    attacked: Mapping[int, tuple[_System, Sequence[Key]]],
) -> dict[int, list[Interval]]:
    """For each group attacked, the counts in doubt the attack narrows to fewer values
    than the rule suppresses, each with its exact interval: the audit's verdict, in fewer
    programmes.

    Every point a programme finds is a possible truth, and so is the truth itself: a count
    seen at values far enough apart is safe. Points are sought first that push every
    count still in doubt up together (each held within HEADROOM of its truth, so the
    programme stays bounded), then down; then each count left is pushed up and down on
    its own (all in two stacked programmes, `_stacked`); holding counts can only narrow
    an interval, so only a count still in doubt after that is solved again, unheld.
    """
    threshold = rule.suppress_below
    doubts: dict[int, _Doubt] = {}
    for n, (system, doubted) in attacked.items():
        bounds: Bounds = [rule.possible(shown[key]) for key in system.keys]
        truth = np.array([float(true.get(key, 0)) for key in system.keys])
        held = [_held(rule, shown[key], true.get(key, 0)) for key in system.keys]
        pending = [system.index[key] for key in doubted]
        if system.possible(bounds, truth):
            doubts[n] = _Doubt(system, bounds, held, truth.copy(), truth, pending)
        else:  # not a possible truth: every count is solved on its own
            doubts[n] = _Doubt(system, bounds, [], truth + math.inf, truth - math.inf, pending)
    seeded = [d for d in doubts.values() if d.held]
    together = seeded
    for _ in range(CERTIFYING_ROUNDS):
        together = [d for d in together if d.pending]
        if not together:
            break
        up = _stacked([(d.system, d.objective(d.pending, -1.0), d.held) for d in together])
        down = _stacked([(d.system, d.objective(d.pending, 1.0), d.bounds) for d in together])
        for doubt, higher, lower in zip(together, up, down, strict=True):
            doubt.see(higher)
            doubt.see(lower)
        together = [d for d in together if d.settle(threshold)]  # the others are stuck
    alone = [(d, i) for d in seeded for i in d.pending]
    solved: dict[tuple[int, int], tuple[float, float]] = {}  # (doubt, count): its interval
    if alone:
        up = _stacked([(d.system, d.objective([i], -1.0), d.held) for d, i in alone])
        down = _stacked([(d.system, d.objective([i], 1.0), d.bounds) for d, i in alone])
        for (doubt, i), higher, lower in zip(alone, up, down, strict=True):
            doubt.see(higher)
            doubt.see(lower)
            if not doubt.held_back(higher):  # the greatest value found is the greatest
                solved[(id(doubt), i)] = (lower[i], higher[i])
    failing: dict[int, list[Interval]] = {}
    for n, doubt in doubts.items():
        doubt.settle(threshold)
        found = [
            Interval(
                doubt.system.keys[i],
                *solved.get((id(doubt), i))
                or doubt.system.range(doubt.bounds, doubt.system.keys[i]),
            )
            for i in doubt.pending
        ]
        failing[n] = [interval for interval in found if interval.values < threshold]
    return failing


def _held(rule: Rule, shown: Shown, true: int) -> tuple[float, float]:
    """A count's published bounds, held within HEADROOM of its truth."""
    low, high = rule.possible(shown)
    return low, min(high, max(low, true) + HEADROOM)


def _widths(
    rule: Rule,
    shown: Mapping[Key, Shown],
    true: Mapping[Key, int],
    system: _System,
    key: Key,
    candidates: Sequence[Key],
) -> list[float]:
    """How many values the attack leaves `key` once each candidate alone is suppressed too
    (at least: counts are held within HEADROOM of their truth), in two stacked programmes."""
    target = np.zeros(len(system.keys))
    target[system.index[key]] = 1.0
    copies = [
        {k: SUPPRESSED if k == candidate else shown[k] for k in system.keys}
        for candidate in candidates
    ]
    lows = _stacked([(system, target, [rule.possible(c[k]) for k in system.keys]) for c in copies])
    highs = _stacked(
        [
            (system, -target, [_held(rule, c[k], true.get(k, 0)) for k in system.keys])
            for c in copies
        ]
    )
    at = system.index[key]
    return [_values(low[at], high[at]) for low, high in zip(lows, highs, strict=True)]


def _beside(
    key: Key,
    touching: Mapping[Key, Sequence[tuple[Key, ...]]],
    shown: Mapping[Key, Shown],
    counts: Mapping[Key, int],
    fixed: Container[Key],
    widths: Callable[[Sequence[Key]], list[float]],
    values: float,
    threshold: int,
) -> Key | None:
    """The published cell to suppress for a hidden count narrowed to `values` values.

    Of the published counts in the relations touching it (else in those touching the
    hidden counts in them, and so on outwards; never one `fixed` as published elsewhere),
    the smallest whose suppression leaves it `threshold` values (`widths` says how many),
    else the one that widens it most, else the smallest of the nearest; at most TRIALS
    are tried. None when every count around it is hidden, zero or fixed.
    """
    reached, frontier = {key}, [key]
    looked: set[tuple[Key, ...]] = set()
    nearest: Key | None = None
    trials = TRIALS
    while frontier and trials > 0:
        members: set[Key] = set()
        for hidden in frontier:
            for relation in touching.get(hidden, ()):
                if relation not in looked:
                    looked.add(relation)
                    members.update(relation)
        candidates = sorted(
            (
                k
                for k in members
                if shown[k].status is Status.ROUNDED and counts.get(k, 0) > 0 and k not in fixed
            ),
            key=lambda k: (counts.get(k, 0), repr(k)),
        )[:trials]
        nearest = nearest or next(iter(candidates), None)
        if candidates:
            found = widths(candidates)
            enough = [k for k, width in zip(candidates, found, strict=True) if width >= threshold]
            if enough:
                return enough[0]
            widest = max(found)
            if widest > values:
                return candidates[found.index(widest)]
            trials -= len(candidates)
        frontier = [k for k in members if k not in reached and shown[k].status in HIDDEN]
        reached.update(frontier)
    return nearest


def secured(
    counts: Mapping[Key, int],
    protected: Protected,
    sums: Sequence[Sum],
    rule: Rule,
    at_most: Sequence[AtMost] = (),
    fixed: Container[Key] = (),
    free: Container[Key] = (),
    around: Container[Key] | None = None,
) -> Protected:
    """`protected` (the heuristic's table) with more cells suppressed until the attack fails.

    Each connected group of counts is attacked; for every hidden count still narrowed to
    fewer than `rule.suppress_below` values a further cell is suppressed (`_beside`), and
    the groups that changed are attacked again, until none is narrowed too far. A hidden
    count with no cell left to suppress (every one beside it hidden, zero or `fixed`) is
    left `exposed`, and the audit reports it. `free` counts are published nowhere and need
    no protection; cells a relation names but `protected` lacks are zeros. Given `around`,
    only the groups holding one of those counts are attacked (the others are proved already).
    """
    if not rule.secondary_suppression:
        return protected
    relations = [(s.total, *s.parts) for s in sums] + [(p.part, p.whole) for p in at_most]
    shown = {key: exact(0) for relation in relations for key in relation} | protected.shown
    result = Protected(shown, set(protected.primary), set(protected.secondary))
    touching: dict[Key, list[tuple[Key, ...]]] = {}
    for relation in relations:
        for key in relation:
            touching.setdefault(key, []).append(relation)
    groups = _groups(list(shown), relations)
    group_of = {key: n for n, group in enumerate(groups) for key in group}
    own_sums: dict[int, list[Sum]] = {}
    own_at_most: dict[int, list[AtMost]] = {}
    for tie in sums:
        own_sums.setdefault(group_of[tie.total], []).append(tie)
    for pair in at_most:
        own_at_most.setdefault(group_of[pair.part], []).append(pair)
    systems: dict[int, _System] = {}
    failing: dict[int, list[Interval]] = {}
    stale = {
        n
        for n in own_sums.keys() | own_at_most.keys()
        if around is None or any(key in around for key in groups[n])
    }
    while stale:
        attacked = {}
        for n in stale:
            doubted = [k for k in groups[n] if shown[k].status in HIDDEN and k not in free]
            if n not in systems and doubted:
                systems[n] = _System.of(groups[n], own_sums.get(n, []), own_at_most.get(n, []))
            if doubted:
                attacked[n] = (systems[n], doubted)
            failing[n] = []
        failing |= _unsafe(rule, shown, counts, attacked) if attacked else {}
        stale = set()
        for n, found in failing.items():
            for interval in sorted(found, key=lambda i: (i.values, repr(i.key))):
                extra = _beside(
                    interval.key,
                    touching,
                    shown,
                    counts,
                    fixed,
                    partial(_widths, rule, shown, counts, systems[n], interval.key),
                    interval.values,
                    rule.suppress_below,
                )
                if extra is not None:  # one at a time: the group is attacked again first
                    shown[extra] = SUPPRESSED
                    result.secondary.add(extra)
                    stale.add(n)
                    break
    result.exposed = {i.key for found in failing.values() for i in found}
    return result
