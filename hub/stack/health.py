"""Health probes for each component of the hub, asked the same way by `hub up` and `hub status`.

Each probe answers from the outside, as a user would see it: can the broker be
reached, does PostgreSQL answer, has the stream worker beaten its heart
recently, does the API say it is healthy.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import psycopg

from hub.settings import HubSettings

WORKER_HEARTBEAT_MAX_AGE_S = 20.0


@dataclass(frozen=True)
class Health:
    """One component's health as seen from outside."""

    component: str
    address: str
    healthy: bool
    detail: str

    def as_dict(self) -> dict[str, object]:
        return {
            "component": self.component,
            "address": self.address,
            "healthy": self.healthy,
            "detail": self.detail,
        }


def port_in_use(host: str, port: int) -> bool:
    """True if something already listens on host:port (so we must not start there)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def broker_health(settings: HubSettings) -> Health:
    address = settings.broker_bootstrap
    try:
        with socket.create_connection((settings.broker_host, settings.broker_port), timeout=2):
            return Health("broker", address, True, "accepting connections")
    except OSError as error:
        return Health("broker", address, False, f"unreachable ({error.strerror or error})")


def warehouse_health(settings: HubSettings) -> Health:
    address = f"{settings.warehouse_host}:{settings.warehouse_port}/{settings.warehouse_database}"
    try:
        with psycopg.connect(settings.warehouse_dsn(), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else "error"
        return Health("warehouse", address, False, f"unreachable ({first_line})")
    return Health("warehouse", address, True, "accepting queries")


def worker_health(settings: HubSettings) -> Health:
    """Healthy when a worker of this app id beat its heart in the last 20 seconds."""
    address = f"app {settings.streams_app_id}"
    try:
        with psycopg.connect(settings.warehouse_dsn(), connect_timeout=3) as conn:
            row = conn.execute(
                """
                SELECT extract(epoch FROM now() - max(beat_at)), sum(events_applied)
                FROM worker_heartbeats WHERE worker_id LIKE %s
                """,
                (f"{settings.streams_app_id}@%",),
            ).fetchone()
    except psycopg.Error:
        return Health("worker", address, False, "no heartbeat: warehouse unreachable")
    if row is None or row[0] is None:
        return Health("worker", address, False, "no heartbeat yet")
    age = float(row[0])
    applied = int(row[1] or 0)
    if age > WORKER_HEARTBEAT_MAX_AGE_S:
        return Health("worker", address, False, f"last heartbeat {age:.0f}s ago")
    return Health("worker", address, True, f"heartbeat {age:.0f}s ago, {applied} events applied")


def api_health(settings: HubSettings) -> Health:
    address = settings.api_url
    try:
        response = httpx.get(f"{settings.api_url}/health", timeout=3)
    except httpx.TransportError:
        return Health("api", address, False, "unreachable")
    if response.status_code != 200:
        return Health("api", address, False, f"/health answered {response.status_code}")
    return Health("api", address, True, "/health ok")


PROBES: dict[str, Callable[[HubSettings], Health]] = {
    "warehouse": warehouse_health,
    "broker": broker_health,
    "worker": worker_health,
    "api": api_health,
}


def stack_health(settings: HubSettings) -> list[Health]:
    return [probe(settings) for probe in PROBES.values()]
