"""Running the hub's real processes (worker, API, CLI) from tests, with a test's settings."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import httpx

from hub.processes import spawn, stop
from hub.settings import HubSettings
from warehouse.connection import connect
from warehouse.tokens import Role, issue_token

T = TypeVar("T")


def child_env(settings: HubSettings) -> dict[str, str]:
    return {**os.environ, **settings.as_env()}


def run_hub(
    settings: HubSettings, *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run `hub ARGS` as a user would, in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", *args],
        env=child_env(settings),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@contextmanager
def running(
    settings: HubSettings, module: str, log_file: Path
) -> Iterator[subprocess.Popen[bytes]]:
    process = spawn([sys.executable, "-m", module], log_file=log_file, env=child_env(settings))
    try:
        yield process
    finally:
        stop(process, timeout=20)


def wait_for(probe: Callable[[], T | None], *, timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value is not None:
            return value
        time.sleep(0.5)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


_tokens: dict[tuple[str, str, str | None], str] = {}


def api_token(settings: HubSettings, role: str, party: str | None = None) -> str:
    """A token of this role for the test's warehouse, issued once through the real token store."""
    key = (settings.warehouse_dsn(), role, party)
    if key not in _tokens:
        with connect(settings.warehouse_dsn()) as conn:
            name = f"test-{role}-{uuid.uuid4().hex[:8]}"
            _tokens[key], _ = issue_token(conn, name, Role(role), party)
    return _tokens[key]


def api_json(
    settings: HubSettings, path: str, role: str = "commissioner"
) -> dict[str, object] | None:
    """GET `path` from the running API, signed in with a token of `role`; None unless 200."""
    headers = {"Authorization": f"Bearer {api_token(settings, role)}"}
    try:
        response = httpx.get(f"{settings.api_url}{path}", headers=headers, timeout=5)
    except httpx.TransportError:
        return None
    return response.json() if response.status_code == 200 else None
