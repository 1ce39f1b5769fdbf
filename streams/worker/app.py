"""The faust app: one agent reads every source topic in batches and applies each batch.

The faust process only consumes: each batch's raw messages go to the batch writer
process (`streams.worker.writer_process`), which decodes and checks them (the gatekeeper)
and writes them to PostgreSQL in one transaction with the idempotency check. The
batch's offsets are acknowledged only after that transaction committed, so a crash
loses nothing and a re-delivered batch changes nothing; meanwhile faust is already
reading the next batch.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import socket
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faust
import psycopg

from contracts.decisions import Area
from schemas.broker_access import MECHANISM, BrokerAccess
from schemas.topics import QUARANTINE_TOPIC, SOURCE_TOPICS, ensure_topics
from streams.ingest import RawMessage
from streams.worker.transport import App
from streams.worker.writer_process import WriterGone, WriterProcess, Written
from warehouse.connection import WarehouseUnavailable, connect

log = logging.getLogger("hub.streams")

HEARTBEAT_INTERVAL_S = 5.0
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
    area: Area | None = None  # the hub's contract and area code, checked on every event
    broker_access: BrokerAccess = field(default_factory=BrokerAccess)  # production: SCRAM


def _report_failure(task: asyncio.Task[None]) -> None:
    """A batch was written but acknowledging it or telling the quarantine topic failed:
    it will be delivered again and skipped; say so (the kind, never the content)."""
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("after a batch was written: %s", type(error).__name__)


def _credentials(access: BrokerAccess) -> faust.SASLCredentials | None:
    """The worker's principal as faust takes it (None: the embedded broker, no sign-in)."""
    if not access.sasl:
        return None
    context = None
    if access.security_protocol == "SASL_SSL":
        context = ssl.create_default_context(cafile=access.ssl_cafile)
    return faust.SASLCredentials(
        username=access.username,
        password=access.password,
        ssl_context=context,
        mechanism=MECHANISM,
    )


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
    app = App(
        config.app_id,
        broker=f"kafka://{config.broker_bootstrap}",
        broker_credentials=_credentials(config.broker_access),
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
    applied = {"events": 0}
    stopping = asyncio.Event()
    worker_id = f"{config.app_id}@{socket.gethostname()}"

    quarantined = app.topic(config.quarantine_topic, value_serializer="raw", key_serializer="raw")

    @app.task
    async def declare_quarantine_topic() -> None:
        await asyncio.to_thread(
            ensure_topics,
            config.broker_bootstrap,
            [config.quarantine_topic],
            access=config.broker_access,
        )

    async def finish(
        stream: Any,
        events: list[Any],
        written: asyncio.Future[Written],
        in_flight: asyncio.Semaphore,
    ) -> None:
        """Once the batch's transaction committed: tell the quarantine topic about its
        refusals (the table already holds them durably; an opted-out subject's event is
        announced by its headers alone, with an empty value), then acknowledge its offsets."""
        try:
            done = await written
        except WriterGone as error:
            if stopping.is_set():
                return  # shutting down: unacknowledged batches are delivered again
            # nothing of this batch or any later one is acknowledged: all are delivered again
            log.critical("stopping the worker: %s", error)
            logging.shutdown()
            os._exit(EXIT_WRITER_GONE)
        try:
            for refusal in done.refusals:
                message = refusal.message
                await quarantined.send(
                    # an opted-out subject's event: its headers only, never its bytes
                    value=message.value if refusal.keeps_bytes else b"",
                    headers={
                        "reason": refusal.reason.encode(),
                        "source": f"{message.topic}/{message.partition}/{message.offset}".encode(),
                    },
                )
            for event in events:
                await stream.ack(event)
            applied["events"] += done.outcome.appended
        finally:
            in_flight.release()

    @app.agent(source, name="apply_events")
    async def apply_events(stream: Any) -> None:
        writer = WriterProcess(config.warehouse_dsn, config.area)
        in_flight = asyncio.Semaphore(MAX_BATCHES_IN_FLIGHT)
        pending: set[asyncio.Task[None]] = set()
        try:
            async for events in stream.noack_take(config.batch_size, within=config.batch_within_s):
                received_at = dt.datetime.now(dt.UTC)  # the hub's stamp: contracts judge this day
                raw = [
                    RawMessage(
                        e.message.topic, e.message.partition, e.message.offset, e.value, received_at
                    )
                    for e in events
                ]
                await in_flight.acquire()
                written = asyncio.wrap_future(writer.submit(raw))
                task = asyncio.ensure_future(finish(stream, events, written, in_flight))
                pending.add(task)
                task.add_done_callback(pending.discard)
                task.add_done_callback(_report_failure)
        finally:
            stopping.set()
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
        area=Area(settings.contract_id, settings.area_code),
        broker_access=settings.broker_access(),
    )
