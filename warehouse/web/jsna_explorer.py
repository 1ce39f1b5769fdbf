"""What the JSNA explorer shows: the published JSNA, or a cross-tab of two breakdowns, as at a
month end and a year before it, as table rows with each rate's 95% confidence interval.

Every figure is read from the published (protected) documents (`warehouse/jsna.py`,
`warehouse/crosstab.py`): a suppressed count stays `c`, and a rate's interval is the
Wilson score interval (`streams/comparators.py`) of the published count over the loaded
reference population, so it says nothing the count and the population do not. Every
JSNA table is by SEND status: one breakdown, or SEND status and one, is the one-way
JSNA with rates; two others are a cross-tab, with counts only (no population is loaded
for a pair of breakdowns). Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from streams.comparators import wilson_interval
from streams.crosstab import BREAKDOWNS, SEND_STATUS
from streams.disclosure import Shown, Status

ALL = "all"  # the JSNA's dimension of the totals by SEND status
PER = 1000
COUNTED = (Status.EXACT, Status.ROUNDED)  # a count published as a number
Population = Mapping[tuple[str, str], int]  # (dimension, value) -> people in the area


@dataclass(frozen=True)
class Choice:
    """What was asked: a date and up to two different breakdowns (SEND status first)."""

    as_at: dt.date
    breakdowns: tuple[str, ...]

    @property
    def dimension(self) -> str | None:
        """The one-way JSNA's dimension shown by SEND status, or None for a cross-tab."""
        others = [b for b in self.breakdowns if b != SEND_STATUS]
        if len(others) == 2:
            return None
        return others[0] if others else ALL

    @property
    def pair(self) -> tuple[str, str] | None:
        """The cross-tab's two breakdowns (neither is SEND status), or None."""
        if self.dimension is not None:
            return None
        return self.breakdowns[0], self.breakdowns[1]


def choose(as_at: dt.date, *asked: str | None) -> Choice:
    """The choice from a form's fields: blanks dropped, each breakdown once, known ones only.

    Raises ValueError naming the choices for an unknown breakdown or more than two."""
    wanted: list[str] = []
    for name in asked:
        name = (name or "").strip()
        if not name or name in wanted:
            continue
        if name not in BREAKDOWNS:
            raise ValueError(f"no breakdown {name[:40]!r}: choose from {', '.join(BREAKDOWNS)}")
        wanted.append(name)
    if len(wanted) > 2:
        raise ValueError("choose up to two breakdowns")
    return Choice(as_at, tuple(sorted(wanted, key=BREAKDOWNS.index)))


def shown(figure: Mapping[str, Any]) -> Shown:
    """A published figure (`{"value", "symbol", "status"}`) as the domain's `Shown`."""
    return Shown(figure["value"], Status(figure["status"]))


def interval(people: Shown, population: int | None) -> tuple[float, float] | None:
    """The 95% Wilson interval of a rate per 1,000, from the count as published (none for a
    symbol, or where no population is loaded or the count exceeds it)."""
    if people.status not in COUNTED or people.value is None or not population:
        return None
    if people.value > population:
        return None
    low, high = wilson_interval(people.value, population)
    return round(low * PER, 2), round(high * PER, 2)


@dataclass(frozen=True)
class Row:
    """One line of the table: its labels, and the figures as at the date and a year before."""

    labels: tuple[str, ...]
    people: Shown
    before: Shown
    change: Shown | None = None  # None: the document publishes no change (a cross-tab)
    rate: Shown | None = None  # None: no rate for this table (a cross-tab)
    rate_interval: tuple[float, float] | None = None
    rate_before: Shown | None = None
    rate_before_interval: tuple[float, float] | None = None


@dataclass(frozen=True)
class Explored:
    """The table the explorer shows, and what the documents say about their protection."""

    choice: Choice
    as_at: str  # the month end read
    compared_with: str  # the month end a year before
    headings: tuple[str, ...]  # of the labels
    rows: tuple[Row, ...]
    rates: bool
    rule: str
    symbols: Mapping[str, str]
    note: str | None = None

    @property
    def by(self) -> str:
        """What the table is by, in words: "age band and SEND status"."""
        return " and ".join(h if h.startswith("SEND") else h.lower() for h in self.headings)

    @property
    def suppressed(self) -> int:
        figures = [f for row in self.rows for f in (row.people, row.before)]
        return sum(1 for figure in figures if figure.status is Status.SUPPRESSED)


def one_way(
    choice: Choice,
    now: Mapping[str, Any],
    before: Mapping[str, Any],
    population_now: Population,
    population_before: Population,
) -> Explored:
    """The JSNA's cells of the chosen dimension by SEND status, with rates and intervals; the
    rate a year before from the JSNA published as at that month end."""
    dimension = choice.dimension or ALL
    earlier = {
        (cell["send_status"], cell["value"]): cell
        for cell in before["cells"]
        if cell["dimension"] == dimension
    }
    rows: list[Row] = []
    for cell in now["cells"]:
        if cell["dimension"] != dimension:
            continue
        status, value = cell["send_status"], cell["value"]
        people = shown(cell["people"])
        then = earlier.get((status, value))
        rate_before = shown(then["rate_per_1000"]) if then else None
        rows.append(
            Row(
                labels=(status,) if dimension == ALL else (value, status),
                people=people,
                before=shown(cell["people_a_year_before"]),
                change=shown(cell["change_on_year"]),
                rate=shown(cell["rate_per_1000"]),
                rate_interval=interval(people, population_now.get((dimension, value))),
                rate_before=rate_before,
                rate_before_interval=(
                    interval(shown(then["people"]), population_before.get((dimension, value)))
                    if then and rate_before and rate_before.value is not None
                    else None
                ),
            )
        )
    rows.sort(key=lambda row: row.labels)
    headings = ("SEND status",) if dimension == ALL else (label(dimension), "SEND status")
    return Explored(
        choice,
        now["as_at"],
        now["compared_with"],
        headings,
        tuple(rows),
        True,
        now["disclosure"]["rule"],
        now["disclosure"]["symbols"],
    )


def cross(choice: Choice, now: Mapping[str, Any], before: Mapping[str, Any]) -> Explored:
    """A cross-tab's cells as at the date and as published a year before (counts only)."""
    earlier = {(cell["row"], cell["column"]): shown(cell["people"]) for cell in before["cells"]}
    rows = tuple(
        Row(
            labels=(cell["row"], cell["column"]),
            people=shown(cell["people"]),
            before=earlier.get((cell["row"], cell["column"]), Shown(None, Status.NOT_AVAILABLE)),
        )
        for cell in now["cells"]
    )
    return Explored(
        choice,
        now["as_at"],
        before["as_at"],
        (label(now["rows"]), label(now["columns"])),
        rows,
        False,
        now["disclosure"]["rule"],
        now["disclosure"]["symbols"],
        now.get("note"),
    )


def label(breakdown: str) -> str:
    """A breakdown's name as a heading: `primary_need` as "Primary need"."""
    return "SEND status" if breakdown == SEND_STATUS else breakdown.replace("_", " ").capitalize()


def legend(symbols: Mapping[str, str]) -> Sequence[tuple[str, str]]:
    """The disclosure symbols a table may show, each with what it means."""
    return sorted(symbols.items())
