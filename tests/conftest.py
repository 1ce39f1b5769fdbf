"""Shared fixtures: one real PostgreSQL and one real broker per test session.

Each test gets its own database (cloned from a migrated template) and its own topic
prefix, so tests never see each other's data. Tiers follow the folder a test is in.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

from hub.settings import HubSettings
from hub.stack.broker import EmbeddedBroker
from hub.stack.postgres import EmbeddedPostgres
from warehouse.migrate import upgrade
from warehouse.privileges import ensure_api_login
from warehouse.tokens import Role, issue_token

TIERS = ("unit", "component", "integration", "scenario", "browser")
TEMPLATE_DATABASE = "hub_template"
API_LOGIN = "hub_api_login"  # the API's least-privilege role, as `hub up` makes it


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        tier = Path(str(item.fspath)).parent.name
        if tier in TIERS:
            item.add_marker(getattr(pytest.mark, tier))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres(tmp_path_factory.mktemp("postgres"), port=free_port())
    server.start()
    try:
        server.wait_ready()
        server.ensure_database(TEMPLATE_DATABASE)
        upgrade(server.dsn(TEMPLATE_DATABASE))
        with psycopg.connect(server.dsn("postgres"), autocommit=True) as conn:
            ensure_api_login(conn, API_LOGIN, uuid.uuid4().hex)  # trust auth: not checked
        yield server
    finally:
        server.stop()


@pytest.fixture
def warehouse_database(postgres_server: EmbeddedPostgres) -> str:
    """A fresh, migrated database for this test; returns its name."""
    name = f"hub_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server.dsn("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DATABASE}"')
    return name


@pytest.fixture
def warehouse_dsn(postgres_server: EmbeddedPostgres, warehouse_database: str) -> str:
    return postgres_server.dsn(warehouse_database)


@pytest.fixture
def api_dsn(postgres_server: EmbeddedPostgres, warehouse_database: str) -> str:
    """This test's database as the API sees it: logged in as its least-privilege role."""
    return postgres_server.dsn(warehouse_database).replace("user=postgres", f"user={API_LOGIN}")


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    server = EmbeddedBroker(free_port(), log_file=tmp_path_factory.mktemp("broker") / "broker.log")
    server.start()
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture
def topic_prefix() -> str:
    return f"t{uuid.uuid4().hex[:8]}."


@pytest.fixture
def pseudonym_key() -> str:
    return uuid.uuid4().hex * 2


@pytest.fixture
def hub_settings(
    tmp_path: Path,
    postgres_server: EmbeddedPostgres,
    warehouse_database: str,
    broker: EmbeddedBroker,
    topic_prefix: str,
    pseudonym_key: str,
) -> HubSettings:
    """Settings pointing at this session's real PostgreSQL and broker, isolated for this test.

    They carry a partner token for `education` (issued through the real token store), as
    a council's producer would, so `hub outbox flush` may ask for its receipts.
    """
    with psycopg.connect(postgres_server.dsn(warehouse_database), autocommit=True) as conn:
        education_token, _ = issue_token(conn, "test-education", Role.PARTNER, "education")
    return HubSettings(
        state_dir=tmp_path / "hub",
        broker_host=broker.host,
        broker_port=broker.port,
        topic_prefix=topic_prefix,
        warehouse_host=postgres_server.host,
        warehouse_port=postgres_server.port,
        warehouse_database=warehouse_database,
        api_port=free_port(),
        streams_app_id=f"hub-streams-{uuid.uuid4().hex[:8]}",
        streams_session_timeout_s=6.0,
        pseudonym_key=pseudonym_key,
        api_token=education_token,
        api_warehouse_user=API_LOGIN,
    )


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect server for the whole session (starting one takes ~20 s)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield
