"""What real use leaves in the warehouse besides events, so the reporting pages have some.

The data-quality, IG and partner pages report on reconcile runs, refused messages and the
hash chain's verifications, which loading the smoke area records none of. Each step here
runs the code real use runs: the smoke extracts published with their manifests, the
reconcile flow's own functions (without Prefect's server), the worker's gatekeeper and
writer for a late delivery with faults in it, and `hub audit verify`'s verification.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

from pipelines.data_quality import load_plans, validate_plans
from pipelines.reconciliation import gather_counts, reconcile
from pipelines.results import RECONCILE_FLOW, PipelineRun, store_run
from schemas.catalogue import default_catalogue
from schemas.codec import decode, encode
from schemas.envelope import Event
from schemas.manifest import MANIFEST_TYPE, ExtractManifest
from schemas.topics import SOURCE_BY_SYSTEM
from streams.ingest import RawMessage
from streams.worker.writer_process import BatchSorter, BatchWriter
from warehouse.chain_audit import Verification, verify_and_record
from warehouse.connection import connect

LOST_EXTRACT = uuid.uuid5(uuid.NAMESPACE_OID, "smoke/health/lost-referrals")
LOST_EVENTS = 2  # health's extract whose manifest arrived and whose events did not
NOT_AVRO = 2  # messages on education's topic that are not events at all
UNKNOWN_SCHEMA = 1  # and one in a schema the hub does not know
MISDIRECTED = 1  # an education event sent on health's topic


def extract_id(source_system: str, event_type: str) -> uuid.UUID:
    """The id of a smoke extract (one partner's events of one type); a producer's is the
    digest of the file's bytes."""
    return uuid.uuid5(uuid.NAMESPACE_OID, f"smoke/{source_system}/{event_type}")


def published_extracts(
    events: Sequence[Event],
) -> tuple[list[Event], list[ExtractManifest]]:
    """The events as `hub produce` publishes them, each under its extract's id, and each
    extract's manifest (the generator's stream carries neither)."""
    stamped = [replace(e, extract_id=extract_id(e.source_system, e.event_type)) for e in events]
    listed: dict[tuple[str, str], dict[uuid.UUID, Event]] = defaultdict(dict)
    for event in stamped:
        listed[(event.source_system, event.event_type)][event.event_id] = event
    manifests = []
    for (source_system, event_type), by_id in sorted(listed.items()):
        first = next(iter(by_id.values()))
        manifests.append(
            ExtractManifest(
                extract_id=extract_id(source_system, event_type),
                event_type=event_type,
                source_system=source_system,
                contract_id=first.contract_id,
                area_code=first.area_code,
                published_at=first.recorded_at,
                rows_read=len(by_id),
                rows_sent=len(by_id),
                rows_refused=0,
                event_ids=tuple(by_id),
            )
        )
    return stamped, manifests


def reconcile_and_record(dsn: str) -> PipelineRun:
    """One reconcile run, as `pipelines.flows.check_event_store` makes it, stored."""
    started = dt.datetime.now(dt.UTC)
    with connect(dsn) as conn:
        checks = reconcile(gather_counts(conn))
        outcomes = validate_plans(load_plans(conn))
        run = PipelineRun(
            uuid.uuid4(), RECONCILE_FLOW, started, dt.datetime.now(dt.UTC), checks, outcomes
        )
        store_run(conn, run)
    return run


def deliver_late(dsn: str, messages: Sequence[bytes]) -> None:
    """A later delivery through the worker's gatekeeper and writer: health's manifest for an
    extract whose events were lost on the way, and messages the hub must refuse."""
    catalogue = default_catalogue()
    education_event, record = next(
        (value, decoded.record)
        for value, decoded in ((value, decode(catalogue, value)) for value in messages)
        if decoded.record.get("source_system") == "education"
    )
    lost = {
        "extract_id": str(LOST_EXTRACT),
        "event_type": "TherapyReferralReceived",
        "source_system": "health",
        "contract_id": record["contract_id"],
        "area_code": record["area_code"],
        "published_at": dt.datetime.now(dt.UTC),
        "rows_read": LOST_EVENTS,
        "rows_sent": LOST_EVENTS,
        "rows_refused": 0,
        "part": 1,
        "parts": 1,
        "event_ids": [str(uuid.uuid5(LOST_EXTRACT, str(n))) for n in range(LOST_EVENTS)],
    }
    manifest = encode(catalogue.latest(MANIFEST_TYPE), lost)
    unknown = manifest[:2] + bytes(8) + manifest[10:]  # a fingerprint the catalogue lacks
    education, health = SOURCE_BY_SYSTEM["education"], SOURCE_BY_SYSTEM["health"]
    sent = (
        [(education, b"a spreadsheet row, not an event")] * NOT_AVRO
        + [(education, unknown)] * UNKNOWN_SCHEMA
        + [(health, education_event)] * MISDIRECTED
        + [(health, manifest)]
    )
    received = dt.datetime.now(dt.UTC)
    raw = [
        RawMessage(topic, 0, 100_000 + n, value, received) for n, (topic, value) in enumerate(sent)
    ]
    writer = BatchWriter(dsn)
    try:
        writer.write(BatchSorter(dsn).sort(raw))
    finally:
        if writer.conn is not None:
            writer.conn.close()


def verify_chain(dsn: str) -> Verification:
    """`hub audit verify`: the chain recomputed, and its outcome recorded."""
    with connect(dsn) as conn:
        return verify_and_record(conn)
