"""What `hub produce` shows while it runs: a bar with an ETA on a terminal, nothing in a
pipe, and a line saying so when a run resumes an interrupted one."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import pytest
from rich.console import Console

from hub.commands import produce
from producers.staging import StagingStart

ANSI_CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
FRESH = StagingStart("x1", 1_000, 0, 0, staged_in_full=False, published_before=False)
RESUMED = StagingStart("x1", 1_000, 4_001, 4_000, staged_in_full=False, published_before=False)


def shown(
    monkeypatch: pytest.MonkeyPatch, file: Path, start: StagingStart, *, terminal: bool
) -> str:
    out = io.StringIO()
    monkeypatch.setattr(produce, "console", Console(file=out, force_terminal=terminal, width=120))
    with produce.progress_display(file) as display:
        display.start(start)
        display.advance(301)
        time.sleep(0.3)
        display.advance(601)
    return ANSI_CONTROL.sub("", out.getvalue())


def test_a_large_extract_on_a_terminal_shows_rows_rate_and_time_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    large = tmp_path / "plans.csv"
    large.write_bytes(b"x" * produce.LARGE_EXTRACT_BYTES)
    screen = shown(monkeypatch, large, FRESH, terminal=True)
    assert "publishing plans.csv" in screen
    assert "600/1000 rows" in screen
    assert "rows/s" in screen and "- rows/s" not in screen.rsplit("600/1000", 1)[1]
    assert "0:00:0" in screen  # the time left, at about a thousand rows a second


def test_nothing_is_shown_in_a_pipe_or_for_a_small_extract(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    large, small = tmp_path / "large.csv", tmp_path / "small.csv"
    large.write_bytes(b"x" * produce.LARGE_EXTRACT_BYTES)
    small.write_bytes(b"x" * 1_000)
    assert shown(monkeypatch, large, FRESH, terminal=False) == ""
    assert shown(monkeypatch, small, FRESH, terminal=True) == ""


def test_a_resumed_run_says_so_and_from_which_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = tmp_path / "plans.csv"
    small.write_bytes(b"x" * 1_000)
    said = " ".join(shown(monkeypatch, small, RESUMED, terminal=False).split())
    assert said == (
        "plans.csv: resuming extract x1 from row 4,001 (line 4,002): the 4,000 rows before it "
        "were staged by an interrupted run and are not staged or sent again"
    )
    assert produce.resume_message("plans.csv", FRESH) is None
