"""The faust app: one agent reads every source topic in batches and applies each batch.

Each batch is sorted (events, manifests, refusals) and written to PostgreSQL in one
transaction with its idempotency check, so offsets are committed only after the
effects are durable, and a re-delivered batch changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
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
from streams.projection import ProjectionSettings
from streams.topics import QUARANTINE_TOPIC, SOURCE_TOPICS, ensure_topics
from warehouse.cohort_store import projection_settings
from warehouse.connection import WarehouseUnavailable, connect
from warehouse.event_store import apply_batch
from warehouse.opt_out import opted_out
from warehouse.quarantine import quarantine

log = logging.getLogger("hub.streams")

HEARTBEAT_INTERVAL_S = 5.0
GATE_REFRESH_S = 300.0
MAX_RETRY_DELAY_S = 30.0


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


class BatchWriter:
    """Applies sorted batches to the warehouse, reconnecting and retrying until it succeeds."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.conn: psycopg.Connection | None = None
        self.events_applied = 0
        self.projection: ProjectionSettings | None = None
        self.contracts = shipped_contracts()
        self.catalogue = default_catalogue()
        self._gate: Gate | None = None
        self._gate_loaded_at = 0.0

    def gate(self) -> Gate:
        """Contracts and the opt-out list, the list re-read every few minutes."""
        if self._gate is None or time.monotonic() - self._gate_loaded_at > GATE_REFRESH_S:
            self._gate = Gate(self.contracts, opted_out(self._connection()))
            self._gate_loaded_at = time.monotonic()
        return self._gate

    def sort_and_write(self, raw: list[RawMessage]) -> SortedBatch:
        """The gatekeeper's decision on each message, then the batch written atomically."""
        while True:
            try:
                gate = self.gate()
                break
            except (WarehouseUnavailable, psycopg.OperationalError):
                log.warning("warehouse unavailable while loading the opt-out list; retrying")
                self.conn = None
                time.sleep(1.0)
        batch = sort_messages(self.catalogue, raw, gate)
        self.write(batch)
        return batch

    def _connection(self) -> psycopg.Connection:
        if self.conn is None or self.conn.closed:
            self.conn = connect(self.dsn)
        if self.projection is None:
            self.projection = projection_settings(self.conn)
        return self.conn

    def write(self, batch: SortedBatch) -> None:
        delay = 0.5
        while True:
            try:
                conn = self._connection()
                quarantine(
                    conn,
                    [
                        (
                            r.message.topic,
                            r.message.partition,
                            r.message.offset,
                            r.reason,
                            r.detail,
                            r.message.value,
                        )
                        for r in batch.refusals
                    ],
                )
                outcome = apply_batch(conn, batch.events, batch.manifests, self.projection)
                self.events_applied += outcome.appended
                if batch.refusals:
                    log.warning("quarantined %d refused messages", len(batch.refusals))
                log.info(
                    "applied batch: %d new events, %d duplicates, %d manifests",
                    outcome.appended,
                    outcome.duplicates,
                    outcome.manifests,
                )
                return
            except (WarehouseUnavailable, psycopg.OperationalError) as error:
                log.warning(
                    "warehouse unavailable (%s); retrying in %.1fs", type(error).__name__, delay
                )
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                time.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_DELAY_S)

    def heartbeat(self, worker_id: str) -> None:
        with connect(self.dsn) as conn:
            conn.execute(
                """
                INSERT INTO worker_heartbeats (worker_id, beat_at, events_applied)
                VALUES (%s, now(), %s)
                ON CONFLICT (worker_id) DO UPDATE
                SET beat_at = now(), events_applied = EXCLUDED.events_applied
                """,
                (worker_id, self.events_applied),
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
    writer = BatchWriter(config.warehouse_dsn)
    worker_id = f"{config.app_id}@{socket.gethostname()}"

    quarantined = app.topic(config.quarantine_topic, value_serializer="raw", key_serializer="raw")

    @app.task
    async def declare_quarantine_topic() -> None:
        await asyncio.to_thread(ensure_topics, config.broker_bootstrap, [config.quarantine_topic])

    @app.agent(source, name="apply_events")
    async def apply_events(stream: Any) -> None:
        async for events in stream.take_events(config.batch_size, within=config.batch_within_s):
            raw = [
                RawMessage(e.message.topic, e.message.partition, e.message.offset, e.value)
                for e in events
            ]
            batch = await asyncio.to_thread(writer.sort_and_write, raw)
            # the quarantine table already holds them durably; the topic tells whoever listens
            for refusal in batch.refusals:
                message = refusal.message
                await quarantined.send(
                    value=message.value,
                    headers={
                        "reason": refusal.reason.encode(),
                        "source": f"{message.topic}/{message.partition}/{message.offset}".encode(),
                    },
                )

    @app.timer(interval=HEARTBEAT_INTERVAL_S)
    async def heartbeat() -> None:
        try:
            await asyncio.to_thread(writer.heartbeat, worker_id)
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
