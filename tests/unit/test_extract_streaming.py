"""A large extract is read as it goes: its id taken block by block, its rows never held.

The extract id ties a manifest to its file, so the streaming computation must give the
id the whole-bytes HMAC gives (golden vector below, from test_golden_vectors.py). Memory
is checked by its shape, not by timing: staging ten times the rows must not take ten
times the memory, and no path reads the whole file.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import hmac
import itertools
import tracemalloc
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from producers import extract_reader, staging
from producers.identity import Pseudonymiser
from producers.outbox import Outbox
from producers.staging import PublishSummary, PublishTarget, scan_extract, staged_chunks
from producers.synthetic.ehc_plans import generate
from schemas.catalogue import default_catalogue

TEST_KEY = b"TEST KEY for golden vectors only, never used for real data"
EXTRACT = (
    b"plan_reference,nhs_number,upn,request_date,issue_date\n"
    b"TEST-PLAN-0001,999 000 0018,y855 0000 14001,2025-01-06,2025-05-01\n"
)
EXTRACT_ID = "79daef4b3d2d522d8d5988bc5c9952f8"  # HMAC-SHA256(TEST_KEY, b"extract:" + EXTRACT)
PSEUDONYMISER = Pseudonymiser(TEST_KEY, "key-1")
CATALOGUE = default_catalogue()
NOW = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
TARGET = PublishTarget(
    "unused:9092", "education.events", "education", "leics-send-sharing-2026", "E10000018"
)


def test_the_golden_extract_read_in_small_blocks_keeps_its_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "plans.csv"
    path.write_bytes(EXTRACT)
    monkeypatch.setattr(extract_reader, "READ_BLOCK_BYTES", 7)
    extract_id, rows = scan_extract(path, PSEUDONYMISER)
    assert extract_id.hex == EXTRACT_ID
    assert rows == 1


@given(content=st.binary(max_size=300), cuts=st.lists(st.integers(0, 300), max_size=8))
def test_the_id_of_blocks_is_the_hmac_of_their_bytes(content: bytes, cuts: list[int]) -> None:
    edges = [0, *sorted(min(cut, len(content)) for cut in cuts), len(content)]
    blocks = [content[start:end] for start, end in itertools.pairwise(edges)]
    whole = hmac.new(TEST_KEY, b"extract:" + content, hashlib.sha256).digest()
    assert PSEUDONYMISER.extract_id_of_blocks(blocks) == uuid.UUID(bytes=whole[:16], version=5)
    assert PSEUDONYMISER.extract_id(content) == uuid.UUID(bytes=whole[:16], version=5)


@pytest.mark.parametrize(
    ("text", "rows"),
    [("h\n", 0), ("h\na\nb\n", 2), ("h\na\nb", 2), ("", 0), ("h\r\na\r\n", 1)],
)
def test_rows_are_estimated_from_line_ends(tmp_path: Path, text: str, rows: int) -> None:
    path = tmp_path / "x.csv"
    path.write_text(text, newline="")
    assert scan_extract(path, PSEUDONYMISER)[1] == rows


def stage(path: Path, outbox_path: Path) -> PublishSummary:
    summaries: list[PublishSummary] = []
    with Outbox(outbox_path) as outbox:
        for _ in staged_chunks(
            path, TARGET, PSEUDONYMISER, outbox, summaries, now=NOW, catalogue=CATALOGUE
        ):
            pass
    return summaries[0]


def test_staging_never_reads_the_whole_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "plans.csv"
    path.write_text(generate(3_000, seed=4, faults=3).csv_text)

    def refusing(read: Callable[..., Any]) -> Callable[..., Any]:
        def read_unless_the_extract(self: Path, *args: Any, **kwargs: Any) -> Any:
            assert self != path, "the whole extract was read into memory"
            return read(self, *args, **kwargs)

        return read_unless_the_extract

    monkeypatch.setattr(Path, "read_bytes", refusing(Path.read_bytes))
    monkeypatch.setattr(Path, "read_text", refusing(Path.read_text))
    summary = stage(path, tmp_path / "outbox.sqlite")
    assert (summary.rows_read, summary.rows_staged, summary.rows_refused) == (3_003, 3_000, 3)


def peak_bytes_staging(rows: int, directory: Path) -> int:
    """Python's peak allocation while staging a synthetic extract of `rows` rows."""
    directory.mkdir()
    path = directory / "plans.csv"
    path.write_text(generate(rows, seed=rows, faults=0).csv_text)
    gc.collect()
    tracemalloc.start()
    try:
        summary = stage(path, directory / "outbox.sqlite")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert summary.rows_staged == rows
    return peak


def test_staging_ten_times_the_rows_does_not_take_ten_times_the_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # small blocks, chunks and manifest parts, so a few thousand rows span many of each
    monkeypatch.setattr(extract_reader, "READ_BLOCK_BYTES", 16 * 1024)
    monkeypatch.setattr(staging, "CHUNK_ROWS", 200)
    monkeypatch.setattr(staging, "MANIFEST_IDS_PER_PART", 200)
    peak_bytes_staging(300, tmp_path / "warm-up")  # caches and imports out of the way
    small = peak_bytes_staging(2_000, tmp_path / "small")
    large = peak_bytes_staging(20_000, tmp_path / "large")
    assert large < 2 * small, f"peak {large:,} bytes for 20,000 rows, {small:,} for 2,000"
