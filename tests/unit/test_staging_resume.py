"""An interrupted staging run resumes where its last committed chunk ended.

The ledger in the outbox file says how far an extract got; a second run of the same file
stages only the rows after that, refuses a repeat of a record the first run staged, and
finishes the manifest, whose parts then list every event exactly once. The oracle is the
same file staged in one uninterrupted run into another outbox.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from producers import staging
from producers.identity import Pseudonymiser
from producers.outbox import Outbox, OutboxEntry
from producers.staging import (
    ExtractStaging,
    PublishSummary,
    PublishTarget,
    begin_staging,
    staged_chunks,
)
from producers.staging_ledger import refusals_of
from producers.synthetic.ehc_plans import generate
from producers.synthetic.nhs_numbers import synthetic_nhs_number
from schemas.catalogue import default_catalogue
from schemas.codec import decode

CATALOGUE = default_catalogue()
NOW = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
LATER = dt.datetime(2026, 11, 3, tzinfo=dt.UTC)
PSEUDONYMISER = Pseudonymiser(b"k" * 32, "key-1")
TARGET = PublishTarget(
    "unused:9092", "education.events", "education", "leics-send-sharing-2026", "E10000018"
)


class Interrupted(Exception):
    """Stands for Ctrl-C or a kill just after a chunk was committed."""


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """1,000 rows make ten chunks and four manifest parts, two parts to a chunk."""
    monkeypatch.setattr(staging, "CHUNK_ROWS", 100)
    monkeypatch.setattr(staging, "MANIFEST_IDS_PER_PART", 300)
    monkeypatch.setattr(staging, "MANIFEST_PARTS_PER_CHUNK", 2)


def begin(path: Path, outbox: Outbox, now: dt.datetime = NOW) -> ExtractStaging:
    return begin_staging(path, TARGET, PSEUDONYMISER, outbox, now=now, catalogue=CATALOGUE)


def interrupt_after(chunks: int) -> Callable[[int], None]:
    seen = 0

    def on_progress(_line: int) -> None:
        nonlocal seen
        seen += 1
        if seen == chunks:
            raise Interrupted

    return on_progress


def events(entries: list[OutboxEntry]) -> list[str]:
    return [e.event_id for e in entries if e.kind == "event"]


def manifests(outbox: Outbox) -> list[dict[str, Any]]:
    entries = [e for e in outbox.pending(limit=100_000) if e.kind == "manifest"]
    return sorted((decode(CATALOGUE, e.value).record for e in entries), key=lambda m: m["part"])


def in_one_run(path: Path, outbox_path: Path) -> PublishSummary:
    summaries: list[PublishSummary] = []
    with Outbox(outbox_path) as outbox:
        for _ in staged_chunks(
            path, TARGET, PSEUDONYMISER, outbox, summaries, now=NOW, catalogue=CATALOGUE
        ):
            pass
    return summaries[0]


def test_a_second_run_stages_only_what_the_interrupted_one_did_not(tmp_path: Path) -> None:
    path = tmp_path / "plans.csv"
    path.write_text(generate(1_000, seed=7, faults=3).csv_text)
    oracle = in_one_run(path, tmp_path / "oracle.sqlite")

    with Outbox(tmp_path / "outbox.sqlite") as outbox:
        first = begin(path, outbox)
        with pytest.raises(Interrupted):
            for _ in first.chunks(interrupt_after(4)):
                pass
        staged_first = events(outbox.pending(limit=100_000))
        assert 0 < len(staged_first) < oracle.rows_staged

    with Outbox(tmp_path / "outbox.sqlite") as outbox:
        second = begin(path, outbox, now=LATER)
        assert second.start.resuming and not second.start.staged_in_full
        assert second.start.rows_read_before == 400
        assert second.start.resumed_after_line == first.progress.last_line
        assert second.context.recorded_at == NOW  # the extract keeps its first run's time
        staged_second = [e for chunk in second.chunks() for e in events(chunk)]
        parts = manifests(outbox)

    assert not set(staged_first) & set(staged_second)
    assert sorted(staged_first + staged_second) == sorted(oracle.event_ids)
    listed = [event_id for part in parts for event_id in part["event_ids"]]
    assert Counter(listed) == Counter(oracle.event_ids)
    assert [p["part"] for p in parts] == [1, 2, 3, 4] and {p["parts"] for p in parts} == {4}
    summary = second.summary
    assert (summary.rows_read, summary.rows_staged, summary.rows_refused) == (
        oracle.rows_read,
        oracle.rows_staged,
        oracle.rows_refused,
    )
    assert [(r.line, r.reason) for r in summary.refusals] == [
        (r.line, r.reason) for r in oracle.refusals
    ]


def test_a_run_cut_off_in_the_manifest_stages_only_the_parts_left(tmp_path: Path) -> None:
    path = tmp_path / "plans.csv"
    path.write_text(generate(1_000, seed=8, faults=0).csv_text)
    with Outbox(tmp_path / "outbox.sqlite") as outbox:
        chunks = begin(path, outbox).chunks()
        while not any(e.kind == "manifest" for e in next(chunks)):
            pass  # ten chunks of rows, then the first two manifest parts
        # killed just after that commit: nothing more is read

    with Outbox(tmp_path / "outbox.sqlite") as outbox:
        second = begin(path, outbox)
        assert second.start.resumed_after_line == 1_001
        staged = [e for chunk in second.chunks() for e in chunk]
        assert [e.event_id.rsplit(":", 1)[1] for e in staged] == ["3", "4"]
        listed = [event_id for part in manifests(outbox) for event_id in part["event_ids"]]
    assert len(listed) == len(set(listed)) == 1_000


def test_a_repeated_record_is_refused_however_far_apart_and_across_runs(
    tmp_path: Path,
) -> None:
    rng = random.Random(5)
    rows = [f"P{i},{synthetic_nhs_number(rng)},2025-01-06,2025-05-01" for i in range(450)]
    rows.append(rows[0])  # line 452 repeats line 2, four chunks and one interruption later
    path = tmp_path / "plans.csv"
    path.write_text("plan_reference,nhs_number,request_date,issue_date\n" + "\n".join(rows))
    with Outbox(tmp_path / "outbox.sqlite") as outbox, pytest.raises(Interrupted):
        for _ in begin(path, outbox).chunks(interrupt_after(2)):
            pass
    with Outbox(tmp_path / "outbox.sqlite") as outbox:
        resumed = begin(path, outbox)
        for _ in resumed.chunks():
            pass
    assert resumed.summary.rows_staged == 450
    assert [(r.line, r.reason, r.message) for r in resumed.summary.refusals] == [
        (452, "duplicate_row", "same record as line 2")
    ]


def test_staged_in_full_it_only_sends_and_once_sent_it_is_published_again(
    tmp_path: Path,
) -> None:
    path = tmp_path / "plans.csv"
    path.write_text(generate(250, seed=9, faults=0).csv_text)
    in_one_run(path, tmp_path / "outbox.sqlite")  # staged; the broker never confirmed it

    with Outbox(tmp_path / "outbox.sqlite") as outbox:
        unsent = begin(path, outbox)
        assert unsent.start.staged_in_full and unsent.start.resuming
        assert [chunk for chunk in unsent.chunks()] == []
        assert unsent.summary.rows_staged == 250
        outbox.mark_acknowledged([e.event_id for e in outbox.pending(limit=1_000)])

    with Outbox(tmp_path / "outbox.sqlite") as outbox:
        again = begin(path, outbox)
        assert again.start.published_before and not again.start.resuming
        assert len(events([e for chunk in again.chunks() for e in chunk])) == 250


def test_every_refusal_is_kept_though_the_summary_holds_only_the_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(staging, "REFUSALS_KEPT", 2)
    path = tmp_path / "plans.csv"
    path.write_text(generate(300, seed=10, faults=5).csv_text)
    with Outbox(tmp_path / "outbox.sqlite") as outbox:
        run = begin(path, outbox)
        for _ in run.chunks():
            pass
        every = list(refusals_of(outbox, run.summary.extract_id))
    assert run.summary.rows_refused == 5 and len(every) == 5
    assert run.summary.refusals == every[:2]
    assert [r.line for r in every] == sorted(r.line for r in every)


def test_what_the_ledger_holds_for_a_finished_extract_is_forgotten_when_another_starts(
    tmp_path: Path,
) -> None:
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text(generate(300, seed=11, faults=2).csv_text)
    second.write_text(generate(300, seed=12, faults=0).csv_text)

    def held(outbox: Outbox) -> tuple[int, int]:
        counts = outbox.connection.execute(
            "SELECT (SELECT count(*) FROM staged_records), (SELECT count(*) FROM staged_refusals)"
        ).fetchone()
        return int(counts[0]), int(counts[1])

    with Outbox(tmp_path / "outbox.sqlite") as outbox:
        for _ in begin(first, outbox).chunks():
            pass
        assert held(outbox) == (300, 2)
        begin(second, outbox)
        assert held(outbox) == (0, 2)  # not yet sent: a run sending it still lists refusals
        outbox.mark_acknowledged([e.event_id for e in outbox.pending(limit=1_000)])
        begin(second, outbox)
        assert held(outbox) == (0, 0)
