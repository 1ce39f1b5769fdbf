"""The faust app: one agent reads every source topic in batches and applies each batch.

Each batch is sorted (events, manifests, refusals) in the worker's process, then
written to PostgreSQL by the writer process (`streams.writer_process`) in one
transaction with its idempotency check. Its offsets are acknowledged only after
that transaction committed, so a crash loses nothing and a re-delivered batch
changes nothing; meanwhile the next batch is already being decoded.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faust
import psycopg

from contracts.loading import shipped_contracts
from schemas.catalogue import default_catalogue
from streams.ingest import Gate, RawMessage, SortedBatch, sort_messages
from streams.topics import QUARANTINE_TOPIC, SOURCE_TOPICS, ensure_topics
from streams.writer_process import WriterGone, WriterProcess
from warehouse.connection import WarehouseUnavailable, connect
from warehouse.event_store import BatchOutcome
from warehouse.opt_out import opted_out

log = logging.getLogger("hub.streams")

HEARTBEAT_INTERVAL_S = 5.0
GATE_REFRESH_S = 300.0
MAX_RETRY_DELAY_S = 30.0
MAX_BATCHES_IN_FLIGHT = 2  # one being written, one decoded and waiting
EXIT_WRITER_GONE = 75


@dataclass(frozen=True)
class StreamsConfig:
    app_id: str
    broker_bootstrap: str
    warehouse_dsn: str
    topics: tuple[str, ...]
    quarantine_topic: str
    data_dir: Path
    session_timeout_s: float = 10.0
    batch_size: int = 1000
    batch_within_s: float = 0.5


class BatchSorter:
    """The gatekeeper's side of the worker: decodes a batch and checks it against the
    contracts and the opt-out list (re-read from the warehouse every few minutes)."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.contracts = shipped_contracts()
        self.catalogue = default_catalogue()
        self._gate: Gate | None = None
        self._gate_loaded_at = 0.0

    def gate(self) -> Gate:
        if self._gate is None or time.monotonic() - self._gate_loaded_at > GATE_REFRESH_S:
            while True:
                try:
                    with connect(self.dsn) as conn:
                        self._gate = Gate(self.contracts, opted_out(conn))
                    break
                except (WarehouseUnavailable, psycopg.OperationalError):
                    log.warning("warehouse unavailable while loading the opt-out list; retrying")
                    time.sleep(1.0)
            self._gate_loaded_at = time.monotonic()
        return self._gate

    def sort(self, raw: list[RawMessage]) -> SortedBatch:
        return sort_messages(self.catalogue, raw, self.gate())


def record_heartbeat(dsn: str, worker_id: str, events_applied: int) -> None:
    with connect(dsn) as conn:
        conn.execute(
            """
            INSERT INTO worker_heartbeats (worker_id, beat_at, events_applied)
            VALUES (%s, now(), %s)
            ON CONFLICT (worker_id) DO UPDATE
            SET beat_at = now(), events_applied = EXCLUDED.events_applied
            """,
            (worker_id, events_applied),
        )


def create_app(config: StreamsConfig) -> faust.App:
    config.data_dir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        config.app_id,
        broker=f"kafka://{config.broker_bootstrap}",
        datadir=str(config.data_dir),
        web_enabled=False,
        store="memory://",
        topic_allow_declare=False,
        topic_disable_leader=True,
        broker_session_timeout=config.session_timeout_s,
        broker_heartbeat_interval=min(3.0, config.session_timeout_s / 3),
        consumer_auto_offset_reset="earliest",
    )
    source = app.topic(*config.topics, value_serializer="raw", key_serializer="raw")
    sorter = BatchSorter(config.warehouse_dsn)
    applied = {"events": 0}
    worker_id = f"{config.app_id}@{socket.gethostname()}"

    quarantined = app.topic(config.quarantine_topic, value_serializer="raw", key_serializer="raw")

    @app.task
    async def declare_quarantine_topic() -> None:
        await asyncio.to_thread(ensure_topics, config.broker_bootstrap, [config.quarantine_topic])

    async def finish(
        stream: Any,
        events: list[Any],
        batch: SortedBatch,
        written: asyncio.Future[BatchOutcome],
        in_flight: asyncio.Semaphore,
    ) -> None:
        """Once the batch's transaction committed: acknowledge its offsets, then tell the
        quarantine topic about its refusals (the table already holds them durably)."""
        try:
            outcome = await written
        except WriterGone as error:
            # nothing of this batch or any later one is acknowledged: all are delivered again
            log.critical("stopping the worker: %s", error)
            logging.shutdown()
            os._exit(EXIT_WRITER_GONE)
        for event in events:
            await stream.ack(event)
        applied["events"] += outcome.appended
        for refusal in batch.refusals:
            message = refusal.message
            await quarantined.send(
                value=message.value,
                headers={
                    "reason": refusal.reason.encode(),
                    "source": f"{message.topic}/{message.partition}/{message.offset}".encode(),
                },
            )
        in_flight.release()

    @app.agent(source, name="apply_events")
    async def apply_events(stream: Any) -> None:
        writer = WriterProcess(config.warehouse_dsn)
        in_flight = asyncio.Semaphore(MAX_BATCHES_IN_FLIGHT)
        pending: set[asyncio.Task[None]] = set()
        try:
            async for events in stream.noack_take(config.batch_size, within=config.batch_within_s):
                raw = [
                    RawMessage(e.message.topic, e.message.partition, e.message.offset, e.value)
                    for e in events
                ]
                batch = await asyncio.to_thread(sorter.sort, raw)
                await in_flight.acquire()
                written = asyncio.wrap_future(writer.submit(batch))
                task = asyncio.ensure_future(finish(stream, events, batch, written, in_flight))
                pending.add(task)
                task.add_done_callback(pending.discard)
        finally:
            await asyncio.to_thread(writer.close)

    @app.timer(interval=HEARTBEAT_INTERVAL_S)
    async def heartbeat() -> None:
        try:
            await asyncio.to_thread(
                record_heartbeat, config.warehouse_dsn, worker_id, applied["events"]
            )
        except (WarehouseUnavailable, psycopg.OperationalError):
            log.warning("heartbeat not recorded: warehouse unavailable")

    return app


def config_from_settings(settings: Any) -> StreamsConfig:
    return StreamsConfig(
        app_id=settings.streams_app_id,
        broker_bootstrap=settings.broker_bootstrap,
        warehouse_dsn=settings.warehouse_dsn(),
        topics=tuple(settings.topic(name) for name in SOURCE_TOPICS),
        quarantine_topic=settings.topic(QUARANTINE_TOPIC),
        data_dir=settings.state_dir / "streams",
        session_timeout_s=settings.streams_session_timeout_s,
        batch_size=settings.streams_batch_size,
        batch_within_s=settings.streams_batch_within_s,
    )
