"""The dashboard in-process: a small synthetic area loaded as the worker would apply it, and
a client holding a signed-in browser session of a role."""

from __future__ import annotations

import csv
import datetime as dt
import uuid
from collections.abc import Sequence
from pathlib import Path

import psycopg
from fastapi import FastAPI
from fastapi.testclient import TestClient

from pipelines.reference import apply_reference
from producers.synthetic.area import SMOKE, Faults
from producers.synthetic.area_files import generate_area, read_events
from schemas.catalogue import default_catalogue
from streams.comparators import SHIPPED, Comparator, parse_comparators
from streams.ingest import RawMessage, sort_messages
from streams.scorecard import CATALOGUE
from streams.worker.unit_of_work import CurrentProjection, apply_batch
from warehouse.api import create_app
from warehouse.tokens import Role, authenticate, issue_token
from warehouse.web.guard import SESSION_COOKIE
from warehouse.web.sessions import open_session


def shipped_comparators() -> list[Comparator]:
    """The published comparators the hub ships (`streams/kpis/comparators.csv`)."""
    with SHIPPED.open(encoding="utf-8", newline="") as handle:
        return parse_comparators(csv.DictReader(handle), {kpi.id for kpi in CATALOGUE})


def load_smoke_area(
    dsn: str, scratch: Path, comparators: Sequence[Comparator] = (), seed: int = 11
) -> None:
    """The smoke area (some 400 people) straight into the warehouse at `dsn`, with the
    reference data and these published comparators."""
    generate_area(SMOKE, seed, 1.0, scratch, faults=Faults.none())
    messages = read_events(scratch / "events.bin")
    received = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
    raw = [RawMessage("events", 0, n, value, received) for n, value in enumerate(messages)]
    batch = sort_messages(default_catalogue(), raw)
    with psycopg.connect(dsn, autocommit=True) as conn:
        apply_batch(conn, batch.events, batch.manifests, projection=CurrentProjection())
        apply_reference(
            conn,
            _rows(scratch / "reference" / "localities.csv"),
            _rows(scratch / "reference" / "population.csv"),
            loaded_by="dashboard tests",
            dsn=dsn,
            comparators=comparators,
        )


def _rows(path: Path) -> list[tuple[str, ...]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [tuple(row) for row in list(csv.reader(handle))[1:] if row]


def session_client(
    owner_dsn: str, api_dsn: str, role: Role, party: str | None = None, app: FastAPI | None = None
) -> TestClient:
    """A client of the API's app (as its least-privilege role) whose cookie holds an open
    session of a fresh token of `role`, as signing in leaves a browser."""
    with psycopg.connect(owner_dsn, autocommit=True) as conn:
        secret, _ = issue_token(conn, f"web-{role.value}-{uuid.uuid4().hex[:8]}", role, party)
        session_id, _ = open_session(conn, authenticate(conn, secret))
    client = TestClient(app or create_app(api_dsn))
    client.cookies.set(SESSION_COOKIE, session_id)
    return client
