"""`hub up`, `hub status` and `hub down` on a real embedded stack of its own.

Each test starts a whole stack (PostgreSQL, broker, worker, API) on free ports
under its own state directory, as a user would with `hub up`.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.settings import HubSettings
from hub.stack.state import StackState, pid_alive, state_file
from producers.synthetic.ehc_plans import generate
from tests.conftest import free_port
from tests.support.processes import child_env, run_hub, wait_for
from warehouse.connection import WarehouseUnavailable, connect


@pytest.fixture
def stack_settings(tmp_path: Path, pseudonym_key: str) -> Iterator[HubSettings]:
    settings = HubSettings(
        state_dir=tmp_path / ".hub",
        broker_port=free_port(),
        warehouse_port=free_port(),
        api_port=free_port(),
        pseudonym_key=pseudonym_key,
    )
    yield settings
    run_hub(settings, "down")  # whatever a failed test left running


def _flat(text: str) -> str:
    return " ".join(text.split())


def _recorded_pids(settings: HubSettings) -> list[int]:
    state = StackState.load(state_file(settings.state_dir))
    assert state is not None, "no run state recorded"
    return [state.supervisor_pid, *(c.pid for c in state.components.values())]


def _environment_of(pid: int) -> dict[str, str]:
    """The environment a running process was started with."""
    entries = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace").split("\0")
    return dict(entry.split("=", 1) for entry in entries if "=" in entry)


def _assert_no_component_holds_the_key(settings: HubSettings, key: str) -> None:
    """The supervisor was given the key (`hub up` inherits the settings); no child has it."""
    state = StackState.load(state_file(settings.state_dir))
    assert state is not None, "no run state recorded"
    assert set(state.components) == {"warehouse", "broker", "worker", "api"}
    for name, component in state.components.items():
        env = _environment_of(component.pid)
        assert [v for v in env if v.upper().startswith("HUB_PSEUDONYM_KEY")] == [], name
        assert [v for v, value in env.items() if key in value] == [], name


def _plans_in_store(settings: HubSettings) -> int | None:
    try:
        with connect(settings.warehouse_dsn()) as conn:
            row = conn.execute("SELECT count(*) FROM events").fetchone()
    except WarehouseUnavailable:
        return None
    return int(row[0]) if row else None


def test_up_status_down_and_committed_events_survive_a_restart(
    stack_settings: HubSettings, tmp_path: Path, pseudonym_key: str
) -> None:
    up = run_hub(stack_settings, "up", "--detach", timeout=300)
    assert up.returncode == 0, up.stdout + up.stderr
    _assert_no_component_holds_the_key(stack_settings, pseudonym_key)
    for address in (
        f"127.0.0.1:{stack_settings.warehouse_port}",
        f"127.0.0.1:{stack_settings.broker_port}",
        f"http://127.0.0.1:{stack_settings.api_port}",
    ):
        assert address in up.stdout
    assert run_hub(stack_settings, "status").returncode == 0

    extract = generate(50, seed=11, faults=0)
    path = tmp_path / "plans.csv"
    path.write_text(extract.csv_text)
    assert run_hub(stack_settings, "produce", "--source", "education", str(path)).returncode == 0
    wait_for(
        lambda: _plans_in_store(stack_settings) == 50 or None, timeout=120, what="50 plans stored"
    )
    pids = _recorded_pids(stack_settings)

    down = run_hub(stack_settings, "down")
    assert down.returncode == 0, down.stderr
    assert [pid for pid in pids if pid_alive(pid)] == []
    assert not state_file(stack_settings.state_dir).exists()
    status = run_hub(stack_settings, "status")
    assert status.returncode == 1
    assert "unhealthy" in status.stdout

    assert run_hub(stack_settings, "up", "--detach", timeout=300).returncode == 0
    assert _plans_in_store(stack_settings) == 50
    with connect(stack_settings.warehouse_dsn()) as conn:  # the KPI's own figures survive
        denominator = conn.execute(
            "SELECT sum(denominator) FROM kpi_measures WHERE kpi_id = %s",
            ("ehcp_20_weeks_incl_exceptions",),
        ).fetchone()
    assert denominator == (50,)
    scorecard = run_hub(stack_settings, "scorecard", "--format", "json")
    assert scorecard.returncode == 0, scorecard.stderr
    published = {kpi["id"]: kpi for kpi in json.loads(scorecard.stdout)["kpis"]}
    assert "ehcp_20_weeks_incl_exceptions" in published  # published, protected
    assert run_hub(stack_settings, "down").returncode == 0


def test_a_busy_port_is_named_with_the_setting_that_moves_it(
    stack_settings: HubSettings,
) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", stack_settings.api_port))
        squatter.listen()
        for args in (["up"], ["up", "--detach"]):
            result = run_hub(stack_settings, *args)
            message = _flat(result.stderr)
            assert result.returncode == 2, message
            assert f"port {stack_settings.api_port}" in message
            assert "HUB_API_PORT" in message
            assert f"port {stack_settings.broker_port}" not in message
    assert not state_file(stack_settings.state_dir).exists()
    assert _plans_in_store(stack_settings) is None  # nothing was started


def test_a_crashed_worker_is_restarted_and_sigterm_stops_everything(
    stack_settings: HubSettings, tmp_path: Path
) -> None:
    log = (tmp_path / "supervisor.log").open("wb")
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "up"],
        env=child_env(stack_settings),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        state = wait_for(
            lambda: _ready_state(stack_settings), timeout=180, what="the stack to be ready"
        )
        second = run_hub(stack_settings, "up")
        assert second.returncode == 2
        assert f"pid {supervisor.pid}" in _flat(second.stderr)

        worker = state.components["worker"].pid
        signal_process(worker, signal.SIGKILL)
        restarted = wait_for(
            lambda: _restarted_worker(stack_settings, worker),
            timeout=60,
            what="the worker to be restarted",
        )
        assert restarted != worker
        wait_for(
            lambda: run_hub(stack_settings, "status").returncode == 0 or None,
            timeout=60,
            what="the restarted worker to be healthy",
        )
        pids = _recorded_pids(stack_settings)

        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=90) == 0
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
        log.close()
    assert [pid for pid in pids if pid_alive(pid)] == []
    text = (tmp_path / "supervisor.log").read_text()
    assert text.index("api       stopped") < text.index("warehouse stopped")
    assert "the hub is down" in text


def signal_process(pid: int, sig: int) -> None:
    import os

    os.kill(pid, sig)
    time.sleep(0.1)


def _ready_state(settings: HubSettings) -> StackState | None:
    state = StackState.load(state_file(settings.state_dir))
    return state if state is not None and state.ready else None


def _restarted_worker(settings: HubSettings, old_pid: int) -> int | None:
    state = StackState.load(state_file(settings.state_dir))
    if state is None or "worker" not in state.components:
        return None
    worker = state.components["worker"]
    return worker.pid if worker.restarts >= 1 and worker.pid != old_pid else None
