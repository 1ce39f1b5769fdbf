"""Disclosure control: what a count, a rate or a table of linked counts may show outside the hub.

Every figure that leaves (API, CLI, exports) passes through here, under the contract's
`disclosure_control` rule; decision 0016 says why each choice was made.

The rule England's health and care statistics use (NHS England's HES/ECDS rule since
2018, also OpenSAFELY's): a count from 1 to 7 is suppressed, every other count is
rounded to the nearest 5, and a true zero is shown as 0. What cannot be shown carries
a GSS symbol and a machine-readable status, never a 0 or an empty cell:

    c    suppressed                low  rounds to zero but is not zero
    x    not available             z    not applicable

Rates, percentages and differences are worked out from protected figures only, so they
tell a reader nothing the protected figures do not. Counts tied by sums (a breakdown
adding up to its total, one status beside the sum over statuses) are protected together
by `protect`: primary suppression, then a quick secondary suppression sum by sum; the
audit's linear programme then attacks the table and suppresses more until no suppressed
cell can be worked back from the cells published beside it
(`streams/secondary_suppression.secured`; the same programme is the proof, over everything
published).
"""

from __future__ import annotations

import math
from collections.abc import Container, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from contracts.models import Contract

Key = Hashable  # names one published count, the same wherever it is published


class Status(StrEnum):
    """What a published figure is, for a machine reading it."""

    EXACT = "exact"  # shown as it is: a true zero, or reference data published elsewhere
    ROUNDED = "rounded"  # a count rounded to the rule's multiple
    DERIVED = "derived"  # a rate, percentage or difference of protected figures
    SUPPRESSED = "suppressed"  # c
    LOW = "low"  # low: rounds to zero at the precision shown, but is not zero
    NOT_AVAILABLE = "not_available"  # x
    NOT_APPLICABLE = "not_applicable"  # z


SYMBOLS = {
    Status.SUPPRESSED: "c",
    Status.LOW: "low",
    Status.NOT_AVAILABLE: "x",
    Status.NOT_APPLICABLE: "z",
}


@dataclass(frozen=True)
class Shown:
    """A figure as published: a number, or the GSS symbol standing in for one."""

    value: float | None
    status: Status

    @property
    def symbol(self) -> str | None:
        return SYMBOLS.get(self.status)

    @property
    def is_number(self) -> bool:
        return self.value is not None

    def as_json(self) -> dict[str, Any]:
        value = self.value
        if value is not None and self.status in (Status.EXACT, Status.ROUNDED):
            value = int(value)
        return {"value": value, "symbol": self.symbol, "status": self.status.value}

    def text(self, digits: int = 0) -> str:
        """As a table shows it: the symbol, or the number with thousands separators."""
        if self.value is None:
            return self.symbol or ""
        return f"{self.value:,.{digits}f}"


SUPPRESSED = Shown(None, Status.SUPPRESSED)
NOT_AVAILABLE = Shown(None, Status.NOT_AVAILABLE)
NOT_APPLICABLE = Shown(None, Status.NOT_APPLICABLE)
LOW = Shown(None, Status.LOW)


def exact(value: float) -> Shown:
    """A figure published as it is (a true zero, or public reference data)."""
    return Shown(value, Status.EXACT)


@dataclass(frozen=True)
class Rule:
    """A disclosure-control rule: suppress counts 1 to `suppress_below - 1`, round the rest."""

    suppress_below: int = 8
    round_to: int = 5
    secondary_suppression: bool = True

    @classmethod
    def of(cls, contracts: Iterable[Contract]) -> Rule:
        """The strictest of the contracts' rules: an output drawing on all obeys each."""
        rules = [contract.disclosure_control for contract in contracts]
        if not rules:
            return cls()
        return cls(
            suppress_below=max(r.suppress_below for r in rules),
            round_to=max(r.round_to for r in rules),
            secondary_suppression=any(r.secondary_suppression for r in rules),
        )

    def count(self, people: int) -> Shown:
        """One count on its own: 0 shown, 1 to 7 suppressed, the rest rounded (halves up)."""
        if people < 0:
            raise ValueError("a count cannot be negative")
        if people == 0:
            return exact(0)
        if people < self.suppress_below:
            return SUPPRESSED
        step = self.round_to
        return Shown((people + step // 2) // step * step, Status.ROUNDED)

    def possible(self, shown: Shown) -> tuple[int, float]:
        """The true counts a published count may have come from, as [low, high].

        0 is exact; a rounded v came from the counts that round to v and are not
        suppressed; `c` (primary or secondary) is any count from 1 up, unbounded; `x`
        (a withheld line of a cross-tab, zeros included) is any count from 0 up.
        """
        if shown.status is Status.EXACT and shown.value is not None:
            return int(shown.value), shown.value
        if shown.status is Status.ROUNDED and shown.value is not None:
            low = int(shown.value) - self.round_to // 2
            return max(low, self.suppress_below), low + self.round_to - 1
        if shown.status is Status.NOT_AVAILABLE:
            return 0, math.inf
        return 1, math.inf

    def total(self, people: int, parts: Sequence[Shown]) -> Shown:
        """A total over parts published separately (a span of months): suppressed with them.

        A total beside a suppressed part would give the part away by subtraction, and the
        hub publishes totals over any span a caller asks for, so no choice of other parts
        to suppress can hold for every span: the total goes with its parts (unless
        secondary suppression is off, as only the attack tests have it).
        """
        hidden = any(part.status is Status.SUPPRESSED for part in parts)
        if hidden and self.secondary_suppression:
            return SUPPRESSED
        return self.count(people)


def ratio(numerator: Shown, denominator: Shown, scale: int, digits: int = 1) -> Shown:
    """`scale` x numerator / denominator from protected figures; `c` if either is suppressed."""
    for status in (Status.NOT_APPLICABLE, Status.NOT_AVAILABLE, Status.SUPPRESSED):
        if status in (numerator.status, denominator.status):
            return Shown(None, status)
    assert numerator.value is not None and denominator.value is not None
    if denominator.value == 0:
        return NOT_APPLICABLE  # a share of nobody
    value = round(scale * numerator.value / denominator.value, digits)
    if value == 0 and numerator.value > 0:
        return LOW
    return Shown(value, Status.DERIVED)


def difference(now: Shown, before: Shown) -> Shown:
    """`now - before` from protected figures; `c` if either is suppressed."""
    for status in (Status.NOT_APPLICABLE, Status.NOT_AVAILABLE, Status.SUPPRESSED):
        if status in (now.status, before.status):
            return Shown(None, status)
    assert now.value is not None and before.value is not None
    return Shown(now.value - before.value, Status.DERIVED)


def change_percent(now: Shown, before: Shown) -> Shown:
    """The % change from `before` to `now` (values already protected); `x` if none before."""
    if before.value == 0:
        return NOT_AVAILABLE  # no change can be stated from nothing
    if now.status is Status.LOW or before.status is Status.LOW:
        return SUPPRESSED
    step = difference(now, before)
    if not step.is_number:
        return step
    assert step.value is not None and before.value is not None
    return Shown(round(100.0 * step.value / before.value, 1), Status.DERIVED)


@dataclass(frozen=True)
class Sum:
    """Counts the hub publishes that add up: `total` is the sum of `parts`."""

    total: Key
    parts: tuple[Key, ...]


@dataclass
class Protected:
    """A table of counts as published, with which cells were suppressed and why."""

    shown: dict[Key, Shown]
    primary: set[Key] = field(default_factory=set)
    secondary: set[Key] = field(default_factory=set)
    exposed: set[Key] = field(default_factory=set)  # hidden, but no cell left to protect it


HIDDEN = (Status.SUPPRESSED, Status.NOT_AVAILABLE)  # a count not shown: `c`, or `x` (withheld)
PROPAGATION_ROUNDS = 20


def _bounds(rule: Rule, cells: Mapping[Key, Shown], keys: Iterable[Key]) -> tuple[int, float]:
    low, high = 0, 0.0
    for key in keys:
        a, b = rule.possible(cells[key])
        low, high = low + a, high + b
    return low, high


def _values(rule: Rule, cells: Mapping[Key, Shown], relation: Sum, key: Key) -> float:
    """How many true values this one sum leaves a suppressed cell (inf: unbounded)."""
    others = [k for k in (relation.total, *relation.parts) if k != key]
    if key == relation.total:
        low, high = _bounds(rule, cells, relation.parts)
    else:
        total_low, total_high = rule.possible(cells[relation.total])
        rest_low, rest_high = _bounds(rule, cells, [k for k in others if k != relation.total])
        low, high = int(total_low - rest_high) if rest_high < math.inf else 0, total_high - rest_low
    own_low, own_high = rule.possible(cells[key])
    low, high = max(low, own_low), min(high, own_high)
    return high - low + 1


def _complement(
    counts: Mapping[Key, int], cells: Mapping[Key, Shown], relation: Sum, fixed: Container[Key]
) -> Key | None:
    """The cell to suppress next in a sum: the smallest published part, else the total
    (never a cell `fixed` as published elsewhere)."""
    published = [
        k
        for k in relation.parts
        if cells[k].status is Status.ROUNDED and counts.get(k, 0) > 0 and k not in fixed
    ]
    if published:
        return min(published, key=lambda k: (counts.get(k, 0), repr(k)))
    if cells[relation.total].status is Status.ROUNDED and relation.total not in fixed:
        return relation.total
    return None


def narrowed(
    rule: Rule, cells: Mapping[Key, Shown], sums: Sequence[Sum], rounds: int = PROPAGATION_ROUNDS
) -> dict[Key, tuple[float, float]]:
    """Each count's interval once every sum has narrowed it, over and over (to a fixed point or
    `rounds`): a cheap stand-in for the audit's linear programme, which sees the same and more."""
    bounds: dict[Key, tuple[float, float]] = {k: rule.possible(v) for k, v in cells.items()}
    for _ in range(rounds):
        changed = False
        for relation in sums:
            parts = [bounds[k] for k in relation.parts]
            low = sum(a for a, _ in parts)
            unbounded = sum(1 for _, b in parts if b == math.inf)
            finite = sum(b for _, b in parts if b < math.inf)
            total_low, total_high = bounds[relation.total]
            high = math.inf if unbounded else finite
            tightened = {relation.total: (max(total_low, low), min(total_high, high))}
            for key, (a, b) in zip(relation.parts, parts, strict=True):
                others_unbounded = unbounded - (1 if b == math.inf else 0)
                rest_high = math.inf if others_unbounded else finite - (b if b < math.inf else 0)
                tightened[key] = (
                    max(a, total_low - rest_high) if rest_high < math.inf else a,
                    min(b, total_high - (low - a)),
                )
            for key, interval in tightened.items():
                if interval != bounds[key]:
                    bounds[key], changed = interval, True
        if not changed:
            break
    return bounds


def _width(interval: tuple[float, float]) -> float:
    low, high = interval
    return high - math.ceil(low) + 1 if high < math.inf else math.inf


def protect(
    counts: Mapping[Key, int],
    sums: Sequence[Sum],
    rule: Rule,
    fixed: Mapping[Key, Shown] | None = None,
    propagate: bool = False,
    free: Container[Key] = (),
) -> Protected:
    """Protect counts tied by sums: each count by the rule, then secondary suppression.

    A sum holding exactly one hidden cell would give it away by subtraction, and one
    whose published cells, taken at the widest their rounding allows, pin a hidden cell
    to fewer values than the rule suppresses: either way the smallest published part
    (else the total) is suppressed too, until no sum does. Cells a sum names but `counts`
    lacks are zeros.
    Cells in `fixed` are published already (a cross-tab's margins are the one-way
    cells): they keep the shown value given and only the other cells are suppressed to
    protect them; a hidden cell that cannot be protected so is left in `exposed`. With
    `propagate`, a cell is also checked once every sum has narrowed every other
    (`narrowed`: a two-way table's rows and columns narrow each other). Hidden cells in
    `free` are counts published nowhere: they tie others together but need no protection.
    """
    fixed = fixed or {}
    shown = {key: rule.count(n) for key, n in counts.items() if key not in fixed}
    shown |= fixed
    for relation in sums:
        for key in (relation.total, *relation.parts):
            shown.setdefault(key, exact(0))
    result = Protected(
        shown, primary={k for k, v in shown.items() if not v.is_number and k not in fixed}
    )
    if not rule.secondary_suppression:
        return result
    changed = True
    while changed:
        changed = False
        bounds = narrowed(rule, shown, sums) if propagate else {}
        touched: set[Key] = set()
        result.exposed = set()
        for relation in sums:
            members = [k for k in (relation.total, *relation.parts) if shown[k] != exact(0)]
            if propagate and touched.intersection(members):
                continue  # looked at again with fresh bounds on the next pass
            hidden = [k for k in members if shown[k].status in HIDDEN]
            exposed = [
                k
                for k in hidden
                if k not in free
                and (
                    len(hidden) == 1
                    or _values(rule, shown, relation, k) < rule.suppress_below
                    or (propagate and _width(bounds[k]) < rule.suppress_below)
                )
            ]
            if not exposed:
                continue
            extra = _complement(counts, shown, relation, fixed)
            if extra is None:
                result.exposed |= set(exposed)
                continue
            shown[extra] = SUPPRESSED
            result.secondary.add(extra)
            touched |= set(members)
            changed = True
    return result


def figure_text(figure: Mapping[str, Any], digits: int = 0, signed: bool = False) -> str:
    """A published figure (`Shown.as_json()`) as a table shows it: the number or its symbol."""
    value = figure.get("value")
    if value is None:
        return str(figure.get("symbol") or "")
    return f"{value:+,.{digits}f}" if signed else f"{value:,.{digits}f}"
