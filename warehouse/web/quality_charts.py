"""The data-quality page's trend: failed checks per partner over the reconcile runs, as one
SVG drawn on the server, with a title, a text description and the same figures in a table.

Hand-drawn like the scorecard's sparklines (`charts.py`, whose palette it shares): some
paths and labels, well under a millisecond, where vl-convert takes 25–40 ms a chart. Runs
stand on a time axis, as they are irregular. Each line has its own colour (GOV.UK's, at
least 3:1 on white), point shape and dash, and is labelled at its end with its name and
latest figure, so no line is told apart by colour alone.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from warehouse.run_results import Run
from warehouse.web.charts import BLACK, BLUE, DARK_GREY, FONT, GRID

GREEN = "#00703c"  # 6.2:1 on white
PURPLE = "#4c2c92"  # 10.1:1
PINK = "#d53880"  # 4.5:1
PALETTE = (BLUE, GREEN, PURPLE, PINK, DARK_GREY)  # partners, in order; expectations black
SHAPES = ("circle", "square", "triangle", "diamond", "triangle-down", "ring")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "1 4", "4 4")
EXPECTATIONS = "Expectations"  # the data-quality expectations' line

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 44, 196, 28, 48  # margins: the axes' labels, the lines' labels
LABEL_GAP = 16  # pixels between two lines' labels at least
MARK = 4.0  # a point's half width


@dataclass(frozen=True)
class Tally:
    """One line's figure in one run: how many of its checks ran and how many failed."""

    checks: int
    failed: int


@dataclass(frozen=True)
class Line:
    """A partner's (or the expectations') tallies, one per run, oldest first (None: no
    check of its in that run, so the line breaks there)."""

    name: str
    tallies: tuple[Tally | None, ...]


@dataclass(frozen=True)
class History:
    """What the trend draws: when each run finished, oldest first, and the lines."""

    finished: tuple[dt.datetime, ...]
    lines: tuple[Line, ...]

    @property
    def drawable(self) -> bool:
        """A line needs two runs: with one or none the page says so instead."""
        return len(self.finished) >= 2


def history_of(runs: Sequence[Run], names: Mapping[str, str]) -> History:
    """The history of `runs` (newest first, as `run_history` reads them): a line per party
    in `names` (party to the name shown) and one of the data-quality expectations."""
    oldest_first = list(reversed(runs))
    lines = [
        Line(
            name,
            tuple(
                Tally(tally.checks, tally.failed) if (tally := run.by_party.get(party)) else None
                for run in oldest_first
            ),
        )
        for party, name in names.items()
    ]
    lines.append(
        Line(
            EXPECTATIONS,
            tuple(
                Tally(run.expectations, run.expectations_failed) if run.expectations else None
                for run in oldest_first
            ),
        )
    )
    return History(tuple(run.finished_at for run in oldest_first), tuple(lines))


def when(moment: dt.datetime) -> str:
    """A run's time as the page writes it: 30 Nov 2026 18:00."""
    return moment.strftime("%-d %b %Y %H:%M")


def describe(history: History) -> str:
    """The chart in words: the runs it covers, then each line's latest figure and its worst,
    e.g. "health: 1 of 4 failed in the newest run; most 3, on 1 Dec 2026 12:00"."""
    runs = len(history.finished)
    if not runs:
        return "No reconcile run recorded yet."
    words = [f"Failed checks in {_runs(runs)}, {when(history.finished[0])}"]
    words[0] += f" to {when(history.finished[-1])} (UTC)." if runs > 1 else " (UTC)."
    for line in history.lines:
        pairs = zip(history.finished, line.tallies, strict=True)
        shown = [(at, tally) for at, tally in pairs if tally]
        if not shown:
            words.append(f"{line.name}: no checks in these runs.")
            continue
        failing = [(at, tally) for at, tally in shown if tally.failed]
        last = shown[-1][1]
        text = f"{line.name}: {last.failed} of {last.checks} failed in the newest run with checks"
        if not failing:
            text = f"{line.name}: none failed in the {_runs(len(shown))} with checks"
        else:
            worst_at, worst = max(failing, key=lambda pair: (pair[1].failed, pair[0]))
            text += f"; some failed in {len(failing)} of {_runs(len(shown))}"
            text += f", most {worst.failed}, on {when(worst_at)}"
        words.append(text + ".")
    return " ".join(words)


def history_svg(history: History, key: str = "quality-history") -> str:
    """The trend as an SVG image: failed checks (y) per run (x, by time), a line per
    partner and one of the expectations, each labelled at its end."""
    if not history.drawable:
        raise ValueError("a trend needs at least two runs")
    ids = f"{key}-title", f"{key}-desc"
    plot = _Plot(history)
    parts = [*plot.axes(), *plot.lines()]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}"'
        f' viewBox="0 0 {WIDTH} {HEIGHT}" class="hub-quality-trend" role="img"'
        f' aria-labelledby="{ids[0]} {ids[1]}" font-family="{FONT}" font-size="12">'
        f'<title id="{ids[0]}">Failed checks per partner, by reconcile run</title>'
        f'<desc id="{ids[1]}">{html.escape(describe(history))}</desc>' + "".join(parts) + "</svg>"
    )


class _Plot:
    """The scales of one history's chart, and its parts as SVG elements."""

    def __init__(self, history: History) -> None:
        self.history = history
        first, last = history.finished[0], history.finished[-1]
        self.start, self.span = first, (last - first).total_seconds() or 1.0
        most = max((t.failed for line in history.lines for t in line.tallies if t), default=0)
        self.step = _tick_step(most)
        self.top = self.step * max(1, math.ceil(most / self.step))
        self.width, self.height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(self, moment: dt.datetime) -> float:
        return round(LEFT + (moment - self.start).total_seconds() / self.span * self.width, 1)

    def y(self, failed: int) -> float:
        return round(TOP + self.height - failed / self.top * self.height, 1)

    def axes(self) -> Iterator[str]:
        yield f'<text x="0" y="{TOP - 14}" fill="{BLACK}">Failed checks</text>'
        for value in range(0, self.top + 1, self.step):
            y = self.y(value)
            yield (
                f'<line x1="{LEFT}" x2="{LEFT + self.width}" y1="{y}" y2="{y}"'
                f' stroke="{GRID if value else DARK_GREY}" stroke-width="1"/>'
                f'<text x="{LEFT - 9}" y="{y + 4}" text-anchor="end" fill="{BLACK}">{value}</text>'
            )
        finished = self.history.finished
        days = self.span / 86400
        form = "%-d %b %Y" if days > 300 else "%-d %b" if days > 2 else "%-d %b %H:%M"
        form = "%H:%M:%S" if days < 1 / 24 else form  # runs within the hour: seconds apart
        baseline = TOP + self.height
        shown: list[float] = []
        for index in sorted({round(n * (len(finished) - 1) / 3) for n in range(4)}, reverse=True):
            x = self.x(finished[index])  # the last run's tick first, then others that fit
            if any(abs(x - other) < 130 for other in shown):
                continue
            shown.append(x)
            anchor = "start" if x < LEFT + 40 else "end" if x > LEFT + self.width - 40 else "middle"
            yield (
                f'<line x1="{x}" x2="{x}" y1="{baseline}" y2="{baseline + 5}"'
                f' stroke="{DARK_GREY}"/><text x="{x}" y="{baseline + 19}"'
                f' text-anchor="{anchor}" fill="{BLACK}">{finished[index].strftime(form)}</text>'
            )
        yield (
            f'<text x="{LEFT + self.width / 2}" y="{HEIGHT - 6}" text-anchor="middle"'
            f' fill="{BLACK}">Run finished (UTC)</text>'
        )

    def lines(self) -> Iterator[str]:
        ends: list[tuple[float, float, int]] = []  # the last point of each line, to label
        for index, line in enumerate(self.history.lines):
            colour = BLACK if line.name == EXPECTATIONS else PALETTE[index % len(PALETTE)]
            shape, dash = SHAPES[index % len(SHAPES)], DASHES[index % len(DASHES)]
            path: list[str] = []
            marks: list[str] = []
            pen_up = True
            for moment, tally in zip(self.history.finished, line.tallies, strict=True):
                if tally is None:
                    pen_up = True
                    continue
                x, y = self.x(moment), self.y(tally.failed)
                path.append(f"{'M' if pen_up else 'L'}{x},{y}")
                pen_up = False
                marks.append(f'<path d="{_mark(shape, x, y)}" data-failed="{tally.failed}"/>')
            if not path:
                continue
            dashed = f' stroke-dasharray="{dash}"' if dash else ""
            fill = "#ffffff" if shape == "ring" else colour
            yield (
                f'<g data-line="{html.escape(line.name)}" stroke="{colour}">'
                f'<path d="{" ".join(path)}" fill="none" stroke-width="2"{dashed}/>'
                f'<g fill="{fill}" stroke-width="1.5">{"".join(marks)}</g></g>'
            )
            x_end, y_end = (float(n) for n in path[-1][1:].split(","))
            ends.append((y_end, x_end, index))
        yield from self.labels(ends)

    def labels(self, ends: list[tuple[float, float, int]]) -> Iterator[str]:
        """Each line's name and latest figure at its end, moved apart where ends meet."""
        placed: list[float] = []
        for y_end, _, _ in sorted(ends):
            placed.append(max(y_end, placed[-1] + LABEL_GAP) if placed else y_end)
        overflow = (placed[-1] - (TOP + self.height)) if placed else 0.0
        if overflow > 0:  # pushed below the plot: shift them all up, keeping the gaps
            placed = [max(float(TOP), y - overflow) for y in placed]
        label_x = LEFT + self.width + 14
        for (y_end, x_end, index), y in zip(sorted(ends), placed, strict=True):
            line = self.history.lines[index]
            last = next(t for t in reversed(line.tallies) if t is not None)
            colour = BLACK if line.name == EXPECTATIONS else PALETTE[index % len(PALETTE)]
            shape = SHAPES[index % len(SHAPES)]
            fill = "#ffffff" if shape == "ring" else colour
            yield (
                f'<line x1="{x_end + MARK + 1}" y1="{y_end}" x2="{label_x - MARK - 2}" y2="{y}"'
                f' stroke="{colour}" stroke-width="1"/>'
                f'<path d="{_mark(shape, label_x, y)}" fill="{fill}" stroke="{colour}"'
                f' stroke-width="1.5"/><text x="{label_x + MARK + 5}" y="{y + 4}"'
                f' fill="{BLACK}">{html.escape(line.name)}: {last.failed} failed</text>'
            )


def _runs(count: int) -> str:
    return f"{count} run" + ("" if count == 1 else "s")


def _tick_step(most: int) -> int:
    """The y axis's step: 1 up to 5 failed, then 2, 5, 10, 20, 50... for about 5 ticks."""
    step = 1
    while most / step > 5:
        step = step * 5 // 2 if str(step)[0] == "2" else step * 2
    return step


def _mark(shape: str, x: float, y: float) -> str:
    """The path of a point of this shape centred on x, y."""
    r = MARK
    if shape in ("circle", "ring"):
        return f"M{x - r},{y}a{r},{r} 0 1,0 {2 * r},0a{r},{r} 0 1,0 {-2 * r},0z"
    if shape == "square":
        return f"M{x - r},{y - r}h{2 * r}v{2 * r}h{-2 * r}z"
    if shape == "triangle":
        return f"M{x},{y - r - 1}L{x + r + 1},{y + r}L{x - r - 1},{y + r}z"
    if shape == "triangle-down":
        return f"M{x},{y + r + 1}L{x + r + 1},{y - r}L{x - r - 1},{y - r}z"
    return f"M{x},{y - r - 1}l{r + 1},{r + 1}l{-r - 1},{r + 1}l{-r - 1},{-r - 1}z"  # diamond
