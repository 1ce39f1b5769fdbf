"""A cross-tabulation as published: two breakdowns together, protected beside the one-way cells.

Its margins are one-way JSNA cells of the same month end: by SEND status they are the
cells the month's table (`streams/publication.py`) publishes, shown here exactly as
there; over every status they are sums of those cells, which the attacker can form too
and which are therefore not shown (`x`). The cross-tab's own cells are protected as if
every margin were known exactly, so no other table sharing the margins (the one-way
JSNA, another cross-tab) can narrow them further. A line that cannot be protected so
(a small total over many cells of 1 or 2) is withheld whole, zeros too, as `x`. A
table by SEND status is the one-way cells themselves. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from streams.crosstab import BREAKDOWNS, SEND_STATUS, CrossTab
from streams.disclosure import (
    NOT_AVAILABLE,
    SUPPRESSED,
    Key,
    Rule,
    Shown,
    Status,
    Sum,
    exact,
    protect,
)
from streams.disclosure_audit import AtMost
from streams.publication import Ledger, MonthTable, Publication, cell_key, disclosure_note
from streams.secondary_suppression import secured

MULTI_VALUED = "flag"  # a person counts once per flag: a flag's cells add up to nothing
NOTE = (
    "Totals by SEND status are the one-way JSNA cells, shown as `hub jsna` shows them; "
    "totals over every status are not published (x). A line shown all x is withheld: "
    "its cells could not be protected against its total. A person counts once per flag."
)


def ordered(rows: str, columns: str) -> tuple[str, str]:
    """The pair in the one order it is protected in (SEND status first, flag last)."""
    first, second = sorted((rows, columns), key=BREAKDOWNS.index)
    return first, second


def every_pair(breakdowns: Sequence[str] = BREAKDOWNS) -> list[tuple[str, str]]:
    """Every pair of two different breakdowns, once each, in the order they are protected."""
    return [(a, b) for i, a in enumerate(breakdowns) for b in breakdowns[i + 1 :]]


@dataclass(frozen=True)
class Layout:
    """Where each count of a cross-tab lives in the ledger (`first` before `second`)."""

    table: MonthTable
    first: str
    second: str

    def cell(self, a: str, b: str) -> Key:
        if self.first == SEND_STATUS:
            return cell_key(self.table.as_at, (a,), self.second, b)  # the one-way cell itself
        return ("crosstab", self.table.as_at.isoformat(), self.first, a, self.second, b)

    def margin(self, dimension: str, value: str) -> Key:
        """People with this value of one breakdown: a status's total, or a sum over statuses."""
        if dimension == SEND_STATUS:
            return cell_key(self.table.as_at, (value,), "all", "all")
        return self.table.everyone(dimension, value)

    def values(self, dimension: str) -> list[str]:
        if dimension == SEND_STATUS:
            return list(self.table.statuses)
        return sorted(
            {
                key[4]
                for key in self.table.true
                if isinstance(key, tuple) and key[3] == dimension and "+" not in key[2]
            }
        )


def _margin_counts(layout: Layout, margins: set[Key]) -> tuple[dict[Key, int], list[Sum]]:
    """Each margin's true count, and the sums over statuses tying the unpublished ones."""
    table = layout.table
    counts: dict[Key, int] = {}
    ties: list[Sum] = []
    for key in margins:
        if key in table.true:
            counts[key] = table.true[key]
        else:
            assert isinstance(key, tuple)
            tie = table.everyone_sum(key[3], key[4])
            counts[key] = sum(table.true[part] for part in tie.parts)
            ties.append(tie)
    return counts, ties


def protect_crosstab(
    layout: Layout, counts: Mapping[tuple[str, str], int], rule: Rule
) -> tuple[Ledger, dict[Key, Shown]]:
    """The cross-tab's own counts protected against its margins known exactly; its ledger."""
    table, first, second = layout.table, layout.first, layout.second
    ledger = table.ledger()
    if first == SEND_STATUS:
        return ledger, dict(table.protected.shown)  # the one-way cells and their own sums
    true: dict[Key, int] = {layout.cell(a, b): n for (a, b), n in counts.items() if n}
    lines = [
        (layout.margin(first, a), [layout.cell(a, b) for b in layout.values(second)])
        for a in layout.values(first)
        if second != MULTI_VALUED
    ] + [
        (layout.margin(second, b), [layout.cell(a, b) for a in layout.values(first)])
        for b in layout.values(second)
    ]
    at_most = [
        AtMost(layout.cell(a, b), layout.margin(first, a))
        for (a, b), n in counts.items()
        if second == MULTI_VALUED and n
    ]
    withheld: dict[Key, Shown] = {}
    hidden: dict[Key, Shown] = {}  # suppressed by either pass, kept by the next
    while True:
        sums = [
            Sum(total, parts)
            for total, line in lines
            if (parts := tuple(k for k in line if k in true or k in withheld))
        ]
        margins, ties = _margin_counts(
            layout, {s.total for s in sums} | {pair.whole for pair in at_most}
        )
        people = {key: true.get(key, 0) for key in withheld} | true
        # first as if every margin of 8 or more were known exactly (another table may pin
        # it), so no table sharing the margins can narrow a cell further...
        known = {
            key: exact(n) if n >= rule.suppress_below else SUPPRESSED for key, n in margins.items()
        }
        inner = protect(people, sums, rule, known | withheld | hidden, propagate=True)
        hidden |= {key: SUPPRESSED for key in inner.secondary}
        # ...then with the margins as published (each row adds up to a sum over statuses),
        # so that a cross-tab cannot narrow a suppressed one-way cell either
        unpublished = {key for key in margins if key not in table.protected.shown}
        outer = protect(
            table.true | margins | people,
            [*table.sums, *ties, *sums],
            rule,
            dict(table.protected.shown)
            | {key: NOT_AVAILABLE for key in unpublished}
            | withheld
            | hidden,
            propagate=True,
            free=unpublished,
        )
        hidden |= {key: SUPPRESSED for key in outer.secondary}
        attacked = not (inner.secondary or outer.secondary)
        if attacked:
            # the heuristic has done what it can: the attacker's programme, over what is
            # published with this cross-tab, has the last word and suppresses more until it
            # narrows no count too far (the first view stays the heuristic's: with every
            # margin taken as exact the programme would withhold whole tables)
            outer = secured(
                table.true | margins | people,
                outer,
                [*table.sums, *ties, *sums],
                rule,
                [*table.at_most, *at_most],
                fixed=table.protected.shown,
                free=unpublished,
                around=people,
            )
            hidden |= {key: SUPPRESSED for key in outer.secondary}
        given_away = outer.exposed.intersection(table.protected.shown)
        tied = {tie.total for tie in ties if given_away.intersection(tie.parts)}
        # a line that still gives a count away: hide its smallest published cell, or, when
        # every count in it is hidden already, withhold it whole
        exposed_lines = [
            line
            for total, line in lines
            if (inner.exposed.intersection(line) or total in inner.exposed)
            or (attacked and outer.exposed.intersection(line))
            or total in tied
            or total in given_away
        ]
        added = False
        for line in exposed_lines:
            shown_cells = [
                key
                for key in line
                if people.get(key)
                and key not in withheld
                and key not in hidden
                and rule.count(people[key]).is_number
            ]
            if shown_cells:
                smallest = min(shown_cells, key=lambda key: (people[key], repr(key)))
                hidden[smallest] = SUPPRESSED
                added = True
                break
            if not withheld.keys() >= set(line):
                withheld |= {key: NOT_AVAILABLE for key in line}
                added = True
                break
        if attacked and not added and outer.exposed:
            # the attack still narrows a count with every line around it withheld (a
            # handful of children, whose `c` cells are each at least 1): the whole table
            # is withheld, and a table all `x` publishes nothing beside the one-way cells
            every = {key for _, line in lines for key in line}
            return ledger, table.protected.shown | dict.fromkeys(every, NOT_AVAILABLE)
        if not (added or inner.secondary or outer.secondary):
            break
    shown = {
        key: withheld.get(key) or hidden.get(key) or rule.count(n) for key, n in people.items()
    }
    secondary = {
        key for key in hidden if key not in withheld and people[key] >= rule.suppress_below
    }
    own = Ledger(sums={*sums, *ties}, at_most=set(at_most), secondary=secondary)
    for key, n in people.items():
        own.record(key, n, shown[key])
    own.unpublished = unpublished
    own.true |= {key: margins[key] for key in unpublished}
    ledger.merge(own)
    return ledger, table.protected.shown | shown


class OutOfStep(Exception):
    """The register's states and the JSNA's one-way cells disagree at a month end (a
    rebuild of the projections is under way): a cross-tab would not add up to its margins."""


def out_of_step(layout: Layout, counts: Mapping[tuple[str, str], int]) -> list[str]:
    """The margins a cross-tab's lines do not add up to (a line over a partition only: a
    person counts once per flag), as `dimension=value`; none when in step."""
    first, second = layout.first, layout.second
    if first == SEND_STATUS:
        return []  # its cells are the one-way cells themselves
    lines: dict[tuple[str, str], int] = {}
    for (a, b), n in counts.items():
        if second != MULTI_VALUED:
            lines[(first, a)] = lines.get((first, a), 0) + n
        lines[(second, b)] = lines.get((second, b), 0) + n
    table = layout.table
    margins = (first, second) if second != MULTI_VALUED else (second,)
    expected = {
        (dimension, value): sum(table.true[k] for k in table.everyone_sum(dimension, value).parts)
        for dimension in margins
        for value in layout.values(dimension)
    }
    return sorted(
        f"{d}={v}"
        for (d, v) in expected.keys() | lines.keys()
        if expected.get((d, v), 0) != lines.get((d, v), 0)
    )


def publish_crosstab(crosstab: CrossTab, table: MonthTable, rule: Rule) -> Publication:
    """The cross-tab as published: every cell, each row's and column's total, the total.

    Raises `OutOfStep` when the cross-tab's lines do not add up to the month's one-way
    cells, rather than publish figures that contradict each other."""
    if crosstab.as_at != table.as_at:
        raise ValueError("a cross-tab is protected with the JSNA table of its own month end")
    rows, columns = crosstab.rows, crosstab.columns
    first, second = ordered(rows, columns)
    flipped = (first, second) != (rows, columns)
    layout = Layout(table, first, second)
    counts = {((c, r) if flipped else (r, c)): n for (r, c), n in crosstab.counts.items()}
    if disagree := out_of_step(layout, counts):
        raise OutOfStep(
            f"the register and the JSNA cells as at {table.as_at} disagree on "
            f"{len(disagree)} totals of {first} by {second}: the projections are being rebuilt"
        )
    ledger, shown = protect_crosstab(layout, counts, rule)

    def figure(key: Key) -> Shown:
        return shown.get(key, exact(0)) if key not in ledger.unpublished else NOT_AVAILABLE

    def margin(dimension: str, value: str) -> Shown:
        key = layout.margin(dimension, value)
        return shown[key] if key in table.protected.shown else NOT_AVAILABLE

    cells = [
        ({"row": r, "column": c}, figure(layout.cell(*((c, r) if flipped else (r, c)))))
        for r in layout.values(rows)
        for c in layout.values(columns)
    ]
    row_totals = [({"row": r}, margin(rows, r)) for r in layout.values(rows)]
    column_totals = [({"column": c}, margin(columns, c)) for c in layout.values(columns)]
    every = [*cells, *row_totals, *column_totals]
    suppressed = sum(1 for _, people in every if people.status is Status.SUPPRESSED)

    def entries(found: list[tuple[dict[str, str], Shown]]) -> list[dict[str, Any]]:
        return [labels | {"people": people.as_json()} for labels, people in found]

    document = {
        "as_at": crosstab.as_at.isoformat(),
        "rows": rows,
        "columns": columns,
        "disclosure": disclosure_note(rule, suppressed),
        "note": NOTE,
        "cells": entries(cells),
        "row_totals": entries(row_totals),
        "column_totals": entries(column_totals),
    }
    return Publication(document, ledger)
