"""The batch writer process against a real PostgreSQL: it decodes, checks and writes each
batch in order, exactly once, and says so loudly when it dies."""

from __future__ import annotations

import datetime as dt
import os
import signal
import time

import psycopg
import pytest

from producers.synthetic.journeys import journeys
from schemas.topics import SOURCE_BY_SYSTEM
from streams.ingest import RawMessage
from streams.worker.writer_process import WriterGone, WriterProcess

RECEIVED = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)  # the shipped contract is in force
MESSAGES = [  # each on its own party's topic, as the gatekeeper requires
    RawMessage(SOURCE_BY_SYSTEM[message.source], 0, offset, message.value, RECEIVED)
    for offset, message in enumerate(journeys(30, seed=3))
]


def _count(dsn: str, sql: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(sql).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def test_batches_are_decoded_checked_and_written_in_order_each_once(warehouse_dsn: str) -> None:
    refused = RawMessage("education.events", 0, 99, b"\x00 not avro", RECEIVED)
    writer = WriterProcess(warehouse_dsn)
    try:
        written = [
            writer.submit(MESSAGES[:20]),
            writer.submit([*MESSAGES[10:], refused]),  # ten of these are already in
        ]
        first, second = (future.result(timeout=120) for future in written)
    finally:
        writer.close()
    assert (first.outcome.appended, first.outcome.duplicates) == (20, 0)
    assert (second.outcome.appended, second.outcome.duplicates) == (10, 10)
    assert [r.reason for r in second.refusals] == ["not_single_object"]
    assert not writer.process.is_alive()
    assert _count(warehouse_dsn, "SELECT count(*) FROM events") == 30
    assert _count(warehouse_dsn, "SELECT count(*) FROM quarantined_messages") == 1
    with psycopg.connect(warehouse_dsn) as conn:  # stamped when taken from the broker
        assert conn.execute("SELECT received_at FROM quarantined_messages").fetchone() == (
            RECEIVED,
        )
    people = _count(warehouse_dsn, "SELECT count(DISTINCT person_id) FROM person_links")
    assert 0 < people == _count(warehouse_dsn, "SELECT count(*) FROM cohort_register")


def test_a_writer_that_dies_fails_every_batch_still_waiting(warehouse_dsn: str) -> None:
    writer = WriterProcess(warehouse_dsn)
    try:
        assert writer.submit(MESSAGES[:5]).result(timeout=120).outcome.appended == 5
        os.kill(writer.process.pid or 0, signal.SIGKILL)
        writer.process.join(timeout=10)
        later = writer.submit(MESSAGES[5:10])
        with pytest.raises(WriterGone):
            later.result(timeout=30)
    finally:
        writer.close()
    assert _count(warehouse_dsn, "SELECT count(*) FROM events") == 5


def test_a_writer_killed_is_reported_with_its_exit_code_and_reaped_once(
    warehouse_dsn: str,
) -> None:
    """The reader thread names the exit code without reaping the process: only `close`
    reaps it, so `is_alive()` cannot take the dead writer for a live one."""
    writer = WriterProcess(warehouse_dsn)
    try:
        assert writer.submit(MESSAGES[:5]).result(timeout=120).outcome.appended == 5
        os.kill(writer.process.pid or 0, signal.SIGKILL)
        for _ in range(300):  # the reader thread notices the pipe closing by itself
            if writer._gone is not None:
                break
            time.sleep(0.1)
        assert "exit code -9" in str(writer._gone)
        # not reaped yet: the reader thread only peeked at the exit status
        peek = os.WEXITED | os.WNOHANG | os.WNOWAIT
        assert os.waitid(os.P_PID, writer.process.pid or 0, peek) is not None
        with pytest.raises(WriterGone, match="exit code -9"):
            writer.submit(MESSAGES[5:10]).result(timeout=30)
    finally:
        writer.close()
    assert not writer.process.is_alive()
    assert writer.process.exitcode == -signal.SIGKILL
