"""The batch writer in a process of its own, so the worker uses both cores.

The faust process reads batch N+1 from the broker while this process decodes batch N,
checks it against the contracts (the gatekeeper) and writes it (quarantine, event
store, register, JSNA, KPI measures) in one PostgreSQL transaction. faust's own
per-message work is about as costly as all the rest, so this is the split that
keeps both cores busy.
Nothing about exactly-once changes: a batch's offsets are acknowledged only once
this process says its transaction committed, batches are written one at a time
in the order they were taken, and whatever was in flight when either process died
is delivered again and skipped by `event_id`.

The two processes talk over a pipe: a batch goes one way, its outcome (or the kind
of error that stopped it) comes back. Either process dying ends the other: the
writer's parent-death signal, and the worker's reader thread failing every batch
still waiting.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass
from multiprocessing.connection import Connection
from queue import SimpleQueue
from typing import TypeVar

import psycopg

from contracts.decisions import Area
from contracts.loading import shipped_contracts
from hub.processes import die_with_parent
from schemas.catalogue import default_catalogue
from streams.gatekeeper import Gate
from streams.ingest import RawMessage, Refusal, SortedBatch, sort_messages
from streams.worker.unit_of_work import BatchOutcome, CurrentProjection, apply_batch
from warehouse.connection import WarehouseUnavailable, connect
from warehouse.opt_out import opted_out, version_for_append
from warehouse.quarantine import quarantine, quarantine_without_bytes

log = logging.getLogger("hub.streams.writer")
T = TypeVar("T")

MAX_RETRY_DELAY_S = 30.0
EXIT_STATUS_WAIT_S = 5.0  # how long a dead writer's exit status is waited for


class WriterGone(RuntimeError):
    """The writer process ended or failed; the batches still waiting were not written."""


@dataclass(frozen=True)
class _Failed:
    kind: str


class OptOutListChanged(RuntimeError):
    """The opt-out list changed after the batch was sorted (`hub opt-out load`): sort it again."""


def _row(refusal: Refusal, kept: T) -> tuple[str, int, int, str, str, T]:
    """A refusal's quarantine row: where from, why, and what is kept of it."""
    message = refusal.message
    return (message.topic, message.partition, message.offset, refusal.reason, refusal.detail, kept)


def _quarantine(conn: psycopg.Connection, refusals: list[Refusal]) -> None:
    """Quarantine refusals as received: each row stamped with the instant the worker took
    its message from the broker (the day its contract was judged on), an opted-out
    subject's without its bytes."""
    for received_at in sorted({r.message.received_at for r in refusals}):
        stamped = [r for r in refusals if r.message.received_at == received_at]
        quarantine(conn, [_row(r, r.message.value) for r in stamped if r.keeps_bytes], received_at)
        quarantine_without_bytes(
            conn, [_row(r, r.event_id) for r in stamped if not r.keeps_bytes], received_at
        )


class BatchWriter:
    """Applies sorted batches to the warehouse, reconnecting and retrying until it succeeds."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.conn: psycopg.Connection | None = None
        self.projection = CurrentProjection()  # reference data loaded later reaches it

    def _connection(self) -> psycopg.Connection:
        if self.conn is None or self.conn.closed:
            self.conn = connect(self.dsn)
        return self.conn

    def write(self, batch: SortedBatch, opt_outs_seen: int | None = None) -> BatchOutcome:
        """Quarantine the refusals, then append the events and update every projection, in
        one transaction. With `opt_outs_seen` (the opt-out list's version the batch was
        sorted under), nothing is written if the list has changed since: OptOutListChanged."""
        delay = 0.5
        while True:
            try:
                conn = self._connection()
                started = time.perf_counter()
                with conn.transaction():
                    if opt_outs_seen is not None and version_for_append(conn) != opt_outs_seen:
                        raise OptOutListChanged
                    _quarantine(conn, batch.refusals)
                    outcome = apply_batch(conn, batch.events, batch.manifests, self.projection)
                if batch.refusals:
                    log.warning("quarantined %d refused messages", len(batch.refusals))
                log.info(
                    "applied batch: %d new events, %d duplicates, %d manifests in %.3fs",
                    outcome.appended,
                    outcome.duplicates,
                    outcome.manifests,
                    time.perf_counter() - started,
                )
                return outcome
            except (WarehouseUnavailable, psycopg.OperationalError) as error:
                log.warning(
                    "warehouse unavailable (%s); retrying in %.1fs", type(error).__name__, delay
                )
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                time.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_DELAY_S)


class BatchSorter:
    """The gatekeeper: decodes a batch and checks it against the contracts and the
    opt-out list, read once and again whenever the writer finds it changed."""

    def __init__(self, dsn: str, area: Area | None = None) -> None:
        self.dsn = dsn
        self.area = area  # the hub's own contract and area code: events under others refused
        self.contracts = shipped_contracts()
        self.catalogue = default_catalogue()
        self._gate: Gate | None = None
        self.opt_outs_seen = 0  # the opt-out list's version the gate holds

    def gate(self) -> Gate:
        if self._gate is None:
            self.reload()
        assert self._gate is not None
        return self._gate

    def reload(self) -> None:
        """Read the opt-out list again (its version is its size: the list only grows)."""
        while True:
            try:
                with connect(self.dsn) as conn:
                    listed = opted_out(conn)
                break
            except (WarehouseUnavailable, psycopg.OperationalError):
                log.warning("warehouse unavailable while loading the opt-out list; retrying")
                time.sleep(1.0)
        self._gate = Gate(self.contracts, listed, self.area)
        self.opt_outs_seen = len(listed)

    def sort(self, raw: list[RawMessage]) -> SortedBatch:
        return sort_messages(self.catalogue, raw, self.gate())


@dataclass(frozen=True)
class Written:
    """A batch's transaction committed: what it did, and the refusals it quarantined (for
    the worker to announce on the quarantine topic)."""

    outcome: BatchOutcome
    refusals: list[Refusal]


def _sort_and_write(sorter: BatchSorter, writer: BatchWriter, raw: list[RawMessage]) -> Written:
    """Sort and write one batch; if the opt-out list changed in between, read it again and
    sort the batch again, so a subject loaded a moment ago is refused in this very batch."""
    while True:
        batch = sorter.sort(raw)
        try:
            return Written(writer.write(batch, sorter.opt_outs_seen), batch.refusals)
        except OptOutListChanged:
            log.info("the opt-out list changed: sorting the batch again")
            sorter.reload()


def _serve(dsn: str, pipe: Connection, area: Area | None = None) -> None:
    """The writer process: write each batch received, answer with its outcome, in order."""
    die_with_parent()
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, signal.SIG_IGN)  # the worker decides when to stop
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    sorter = BatchSorter(dsn, area)
    writer = BatchWriter(dsn)
    while True:
        try:
            raw = pipe.recv()
        except (EOFError, OSError):
            return  # the worker closed its end or died
        if raw is None:
            return
        try:
            answer: Written | _Failed = _sort_and_write(sorter, writer, raw)
        except Exception as error:  # e.g. EventStoreRefused: name the kind, never a value
            log.error("batch not written: %s", type(error).__name__)
            answer = _Failed(type(error).__name__)
        try:
            pipe.send(answer)
        except (EOFError, OSError):
            return
        if isinstance(answer, _Failed):
            return  # the worker stops; nothing after a failed batch is written out of order


class WriterProcess:
    """Hands sorted batches to the writer process; each `submit` gives a future outcome."""

    def __init__(self, dsn: str, area: Area | None = None) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipe, child_end = context.Pipe()
        self.process = context.Process(
            target=_serve, args=(dsn, child_end, area), name="hub-batch-writer", daemon=True
        )
        self.process.start()
        child_end.close()
        self._waiting: deque[Future[Written]] = deque()
        self._lock = threading.Lock()
        self._outbox: SimpleQueue[list[RawMessage] | None] = SimpleQueue()
        self._gone: WriterGone | None = None
        threading.Thread(target=self._send, name="writer-send", daemon=True).start()
        threading.Thread(target=self._receive, name="writer-receive", daemon=True).start()

    def submit(self, raw: list[RawMessage]) -> Future[Written]:
        """Decode, check and write these messages; the future holds what was written."""
        future: Future[Written] = Future()
        with self._lock:
            if self._gone is not None:
                future.set_exception(self._gone)
                return future
            self._waiting.append(future)
        self._outbox.put(raw)  # sent by a thread: a large batch must not block the loop
        return future

    def close(self, timeout: float = 30.0) -> None:
        """Let the writer finish what it holds, then stop it."""
        self._outbox.put(None)
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()

    def _send(self) -> None:
        while (raw := self._outbox.get()) is not None:
            try:
                self._pipe.send(raw)
            except Exception as error:  # the pipe is gone, or the batch would not pickle
                self._fail(f"cannot hand a batch to the writer process ({type(error).__name__})")
                return
        with contextlib.suppress(EOFError, OSError):
            self._pipe.send(None)

    def _receive(self) -> None:
        while True:
            try:
                answer = self._pipe.recv()
                with self._lock:
                    future = self._waiting.popleft()
            except Exception:  # the pipe closed, or an answer came that nobody waits for
                self._fail(f"the writer process ended (exit code {self._exit_code()})")
                return
            if isinstance(answer, _Failed):
                future.set_exception(
                    WriterGone(f"the writer could not write a batch: {answer.kind}")
                )
            else:
                future.set_result(answer)

    def _exit_code(self) -> str:
        """The writer's exit code, read without reaping the process. `close` reaps it (with
        `join`); had this thread reaped it too, the two could race, and the loser takes a
        dead process for a live one (`is_alive()` true after `close`; seen once in a
        fresh-clone test run).

        A dying process closes its pipes (and so its sentinel) a moment before the kernel
        reports it ended, a moment that grows on a loaded machine (a CI run once read the
        status in it), so the status is asked for again until it comes, for a few seconds.
        """
        multiprocessing.connection.wait([self.process.sentinel], timeout=1)
        deadline = time.monotonic() + EXIT_STATUS_WAIT_S
        while True:
            try:
                status = os.waitid(
                    os.P_PID, self.process.pid or 0, os.WEXITED | os.WNOHANG | os.WNOWAIT
                )
            except ChildProcessError:  # `close` has reaped it already
                return str(self.process.exitcode)
            if status is not None:
                code = status.si_status
                return str(code if status.si_code == os.CLD_EXITED else -code)
            if time.monotonic() >= deadline:
                return "unknown: it has not ended yet"
            time.sleep(0.01)

    def _fail(self, why: str) -> None:
        with self._lock:
            self._gone = WriterGone(why)
            waiting, self._waiting = list(self._waiting), deque()
        for future in waiting:
            if not future.done():
                future.set_exception(self._gone)
