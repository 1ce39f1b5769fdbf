"""Secondary suppression: further cells suppressed until the attacker's programme fails.

After the heuristic of `streams/disclosure.protect`, a table is attacked with the audit's
linear programme (`streams/disclosure_audit.py`), and while a hidden count can still be
narrowed too far a further published cell beside it is suppressed (`secured`); the
attack is the proof. Pure: no I/O.
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

from streams.disclosure import HIDDEN, SUPPRESSED, Key, Protected, Rule, Shown, Status, Sum, exact
from streams.disclosure_audit import (
    AtMost,
    Bounds,
    Interval,
    System,
    connected_groups,
    whole_values,
)

CERTIFYING_ROUNDS = 2  # programmes pushing every count in doubt together, before one by one
TRIALS = 24  # cells tried as the one to suppress next for a count narrowed too far
HEADROOM = 64  # how far above its truth a count may go while proving it safe (`_unsafe`)


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


Copy = tuple[System, NDArray[np.float64], Bounds]  # a group, what to minimise, its bounds


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

    system: System
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
            if not (
                self.high[i] >= self.low[i] and whole_values(self.low[i], self.high[i]) >= threshold
            )
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
    attacked: Mapping[int, tuple[System, Sequence[Key]]],
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
    system: System,
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
    return [whole_values(low[at], high[at]) for low, high in zip(lows, highs, strict=True)]


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
    groups = connected_groups(list(shown), relations)
    group_of = {key: n for n, group in enumerate(groups) for key in group}
    own_sums: dict[int, list[Sum]] = {}
    own_at_most: dict[int, list[AtMost]] = {}
    for tie in sums:
        own_sums.setdefault(group_of[tie.total], []).append(tie)
    for pair in at_most:
        own_at_most.setdefault(group_of[pair.part], []).append(pair)
    systems: dict[int, System] = {}
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
                systems[n] = System.of(groups[n], own_sums.get(n, []), own_at_most.get(n, []))
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
