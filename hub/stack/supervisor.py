"""The supervisor behind `hub up`: starts the embedded stack in order, keeps it running, stops it.

Order matters: PostgreSQL first (and its migrations), then the broker and its
topics, then the stream worker and the API, which need both. A component that
dies is restarted with exponential backoff; a restarted broker (memory storage)
gets its topics back and the worker is restarted with it. SIGTERM or Ctrl-C stop
everything in reverse order; PostgreSQL gets a fast shutdown, which keeps every
committed transaction.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path

from hub.processes import spawn, stop
from hub.settings import HubSettings
from hub.stack.broker import EmbeddedBroker
from hub.stack.health import PROBES, Health, port_in_use
from hub.stack.postgres import EmbeddedPostgres
from hub.stack.state import ComponentState, StackState, log_dir, running_state, state_file

READY_TIMEOUT_S = 120.0
MAX_BACKOFF_S = 30.0
STABLE_AFTER_S = 60.0


class StackError(Exception):
    """The stack cannot start; the message says why and what to change."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class PortClaim:
    """A port the stack will listen on, and the setting that moves it."""

    component: str
    host: str
    port: int
    setting: str


def port_claims(settings: HubSettings) -> list[PortClaim]:
    return [
        PortClaim("warehouse", settings.warehouse_host, settings.warehouse_port, "warehouse_port"),
        PortClaim("broker", settings.broker_host, settings.broker_port, "broker_port"),
        PortClaim("api", settings.api_host, settings.api_port, "api_port"),
    ]


def not_loopback(settings: HubSettings) -> str | None:
    """Why the embedded stack may not listen where the settings say, or None when it may.

    It has no TLS and trusts local connections, so it listens on loopback only; a hub
    reachable from other machines is the compose topology, behind its TLS proxy.
    """
    import ipaddress

    wide = []
    for claim in port_claims(settings):
        try:
            loopback = ipaddress.ip_address(claim.host).is_loopback
        except ValueError:
            loopback = claim.host == "localhost"
        if not loopback:
            wide.append(f"HUB_{claim.setting.replace('port', 'host').upper()}={claim.host}")
    if not wide:
        return None
    return (
        f"the embedded stack listens on 127.0.0.1 only, not {', '.join(wide)}: to serve other"
        " machines use docker-compose.yml, where a TLS proxy is the only door"
    )


def busy_ports(settings: HubSettings) -> list[PortClaim]:
    return [claim for claim in port_claims(settings) if port_in_use(claim.host, claim.port)]


def busy_port_message(claims: list[PortClaim]) -> str:
    lines = [
        f"port {c.port} ({c.component}, {c.host}) is already in use: stop what holds it "
        f"or set HUB_{c.setting.upper()} to a free port"
        for c in claims
    ]
    return "\n".join(lines)


PARTNER_KEY_PREFIX = "HUB_PSEUDONYM_KEY"


def holds_partner_key(name: str) -> bool:
    """Whether an environment variable is one of the partners' pseudonymisation-key settings.

    The key, its file and its id (`HUB_PSEUDONYM_KEY*`, any case: the settings read names
    case-insensitively) belong to the partners, who pseudonymise at source; nothing the hub
    runs reads them, and whoever holds the key can re-identify anyone (decision 0003).
    """
    return name.upper().startswith(PARTNER_KEY_PREFIX)


def child_environment(
    settings: HubSettings, inherited: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment of a hub process the supervisor starts: the inherited environment
    and the settings as `HUB_*` variables, without the partners' key."""
    env = {**(os.environ if inherited is None else inherited), **settings.as_env()}
    return {name: value for name, value in env.items() if not holds_partner_key(name)}


def forget_partner_keys(environ: MutableMapping[str, str]) -> None:
    """Drop the partners' key settings from `environ` (the supervisor's own, which the
    warehouse and the broker inherit)."""
    for name in [name for name in environ if holds_partner_key(name)]:
        del environ[name]


@dataclass
class Child:
    """One supervised component: how to start it, and its restart bookkeeping."""

    name: str
    address: str
    start: Callable[[], subprocess.Popen[bytes]]
    stop: Callable[[subprocess.Popen[bytes]], None]
    after_start: Callable[[], None] = lambda: None
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0
    failures_in_a_row: int = 0
    next_start_at: float = 0.0


Say = Callable[[str], None]


@dataclass
class Supervisor:
    """Runs the stack in the foreground until asked to stop."""

    settings: HubSettings
    say: Say = print
    children: list[Child] = field(default_factory=list)
    _stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def state_path(self) -> Path:
        return state_file(self.settings.state_dir)

    def request_stop(self, *_: object) -> None:
        self._stopping.set()

    def run(self, on_ready: Callable[[], None] | None = None) -> int:
        """Start everything, supervise until SIGTERM/SIGINT, then stop in reverse order."""
        self._check_can_start()
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        state = StackState(supervisor_pid=os.getpid())
        state.save(self.state_path)
        try:
            self._start_all(state)
            if self._stopping.is_set():
                return 0
            state.ready = True
            self._save(state)
            self.say("the hub is up: stop it with Ctrl-C, SIGTERM or `hub down`")
            if on_ready is not None:
                on_ready()
            self._supervise(state)
            return 0
        finally:
            self._stop_all()
            self.state_path.unlink(missing_ok=True)
            self.say("the hub is down")

    def _check_can_start(self) -> None:
        running = running_state(self.settings.state_dir)
        if running is not None:
            raise StackError(
                f"the hub is already running under supervisor pid {running.supervisor_pid}"
                f" (state in {self.state_path}): see `hub status`, or stop it with `hub down`",
                exit_code=2,
            )
        exposed = not_loopback(self.settings)
        if exposed:
            raise StackError(exposed, exit_code=2)
        busy = busy_ports(self.settings)
        if busy:
            raise StackError(busy_port_message(busy), exit_code=2)

    def _start_all(self, state: StackState) -> None:
        self.children = self._plan()
        for child in self.children:
            if self._stopping.is_set():
                return
            try:
                self._start(child)
            except Exception as error:  # any start failure ends `hub up` with a clear message
                log = log_dir(self.settings.state_dir) / f"{child.name}.log"
                raise StackError(f"{child.name} did not start: {error} (see {log})") from None
            self._wait_healthy(child)
            self.say(f"{child.name:<9} up  {child.address}")
            self._save(state)

    def _plan(self) -> list[Child]:
        s = self.settings
        logs = log_dir(s.state_dir)
        postgres = EmbeddedPostgres(
            data_dir=s.state_dir / "postgres",
            port=s.warehouse_port,
            host=s.warehouse_host,
            log_file=logs / "warehouse.log",
        )
        broker = EmbeddedBroker(
            port=s.broker_port, host=s.broker_host, log_file=logs / "broker.log"
        )
        forget_partner_keys(os.environ)  # PostgreSQL and the broker inherit this environment
        env = child_environment(s)

        def start_postgres() -> subprocess.Popen[bytes]:
            return postgres.start()

        def prepare_warehouse() -> None:
            from warehouse.migrate import upgrade

            postgres.wait_ready(timeout=60)
            postgres.ensure_database(s.warehouse_database)
            upgrade(s.warehouse_dsn())
            ensure_api_login_role(s, create_password=True)
            forget_old_heartbeats(s)

        def prepare_topics() -> None:
            from schemas.topics import QUARANTINE_TOPIC, SOURCE_TOPICS, ensure_topics

            broker.wait_ready()
            names = [*SOURCE_TOPICS, QUARANTINE_TOPIC]
            ensure_topics(s.broker_bootstrap, [s.topic(name) for name in names])

        def python_module(module: str, log: str) -> Callable[[], subprocess.Popen[bytes]]:
            return lambda: spawn([sys.executable, "-m", module], log_file=logs / log, env=env)

        def stop_postgres(process: subprocess.Popen[bytes]) -> None:
            stop(process, sig=signal.SIGINT, timeout=30)

        def stop_gently(process: subprocess.Popen[bytes]) -> None:
            stop(process, timeout=20)

        return [
            Child(
                "warehouse",
                f"postgresql://{s.warehouse_user}@{s.warehouse_host}:{s.warehouse_port}/"
                f"{s.warehouse_database}",
                start_postgres,
                stop_postgres,
                after_start=prepare_warehouse,
            ),
            Child(
                "broker",
                f"kafka://{s.broker_bootstrap}",
                broker.start,
                stop_gently,
                after_start=prepare_topics,
            ),
            Child(
                "worker",
                f"app {s.streams_app_id}",
                python_module("streams", "worker.log"),
                stop_gently,
            ),
            Child("api", s.api_url, python_module("hub.api", "api.log"), stop_gently),
        ]

    def _start(self, child: Child) -> None:
        child.process = child.start()
        child.started_at = time.monotonic()
        child.after_start()

    def _wait_healthy(self, child: Child) -> Health:
        probe = PROBES[child.name]
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            health = probe(self.settings)
            if health.healthy:
                return health
            if child.process is not None and child.process.poll() is not None:
                raise StackError(
                    f"{child.name} exited with code {child.process.returncode} while starting;"
                    f" see {log_dir(self.settings.state_dir) / (child.name + '.log')}"
                )
            if time.monotonic() > deadline or self._stopping.is_set():
                if self._stopping.is_set():
                    return health
                raise StackError(
                    f"{child.name} not healthy after {READY_TIMEOUT_S:.0f}s: {health.detail}"
                )
            time.sleep(0.25)

    def _supervise(self, state: StackState) -> None:
        while not self._stopping.wait(0.5):
            for child in self.children:
                if self._stopping.is_set():
                    return
                self._look_after(child, state)

    def _look_after(self, child: Child, state: StackState) -> None:
        process = child.process
        now = time.monotonic()
        if process is not None and process.poll() is None:
            if now - child.started_at > STABLE_AFTER_S:
                child.failures_in_a_row = 0
            return
        if process is not None:
            child.failures_in_a_row += 1
            delay = min(2.0 ** (child.failures_in_a_row - 1), MAX_BACKOFF_S)
            child.next_start_at = now + delay
            self.say(
                f"{child.name} exited with code {process.returncode}; restarting in {delay:.0f}s"
            )
            child.process = None
            return
        if now < child.next_start_at:
            return
        try:
            self._start(child)
        except Exception as error:  # keep supervising; the next attempt backs off further
            self.say(f"{child.name} failed to restart: {type(error).__name__}")
            if child.process is not None:
                child.stop(child.process)
            return
        child.restarts += 1
        self.say(f"{child.name} restarted (restart {child.restarts})")
        if child.name == "broker":
            self._restart("worker")
        self._save(state)

    def _restart(self, name: str) -> None:
        """The worker re-joins a restarted broker from scratch (its group state was in memory)."""
        for child in self.children:
            if child.name == name and child.process is not None:
                child.stop(child.process)

    def _stop_all(self) -> None:
        for child in reversed(self.children):
            if child.process is not None:
                child.stop(child.process)
                self.say(f"{child.name:<9} stopped")
                child.process = None

    def _save(self, state: StackState) -> None:
        state.components = {
            child.name: ComponentState(
                pid=child.process.pid,
                address=child.address,
                started_at=time.time(),
                restarts=child.restarts,
            )
            for child in self.children
            if child.process is not None
        }
        state.save(self.state_path)


def forget_old_heartbeats(settings: HubSettings) -> None:
    """A new run's worker must prove itself: heartbeats of an earlier run do not count."""
    import psycopg

    with psycopg.connect(settings.warehouse_dsn()) as conn:
        conn.execute(
            "DELETE FROM worker_heartbeats WHERE worker_id LIKE %s",
            (f"{settings.streams_app_id}@%",),
        )


def ensure_api_login_role(settings: HubSettings, create_password: bool) -> str | None:
    """Make the API's LOGIN role (in `hub_api`) with the password kept in its secret file.

    With `create_password` (the embedded stack) a missing file is made, mode 0600; without
    it (production, where the file is a mounted secret) a missing file means nothing is done.
    Returns the role made, or None.
    """
    import secrets

    import psycopg

    from warehouse.privileges import ensure_api_login

    if settings.api_warehouse_user == settings.warehouse_user:
        return None  # the operator chose to run the API as the owner (not recommended)
    path = settings.api_warehouse_password_path
    if not path.exists():
        if not create_password:
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
    password = path.read_text(encoding="utf-8").strip()
    with psycopg.connect(settings.warehouse_dsn(), autocommit=True) as conn:
        ensure_api_login(conn, settings.api_warehouse_user, password)
    return settings.api_warehouse_user


def stop_running_stack(settings: HubSettings, timeout: float = 90.0) -> str:
    """Ask the supervisor to stop and wait for it; clean up after a supervisor that died."""
    from hub.stack.state import pid_alive

    path = state_file(settings.state_dir)
    state = StackState.load(path)
    if state is None:
        return "the hub is not running"
    if pid_alive(state.supervisor_pid):
        os.kill(state.supervisor_pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while pid_alive(state.supervisor_pid):
            if time.monotonic() > deadline:
                pid = state.supervisor_pid
                raise StackError(f"the supervisor (pid {pid}) did not stop within {timeout:.0f}s")
            time.sleep(0.2)
    leftovers = [c.pid for c in state.components.values() if pid_alive(c.pid)]
    for pid in leftovers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    path.unlink(missing_ok=True)
    return "the hub is stopped"
