"""Child processes that die with their parent and stop gracefully on request.

Linux delivers a chosen signal to a process when the one that started it ends
(`prctl(PR_SET_PDEATHSIG)`). Every component of the embedded stack is started through
`spawn`, and the worker's batch writer and replay's fold processes call
`die_with_parent` themselves, so no stop, crash or kill leaves an orphan; elsewhere the
call does nothing and their parents' own shutdown stops them. This module imports
nothing of the hub's, so any layer may use it.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """Have this process sent `sig` when its parent dies."""
    with contextlib.suppress(OSError):  # not Linux
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)


def spawn(
    argv: Sequence[str],
    *,
    log_file: Path,
    env: Mapping[str, str] | None = None,
    user: str | None = None,
    death_signal: int = signal.SIGTERM,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start `argv` in its own session, output appended to `log_file`."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        return subprocess.Popen(
            list(argv),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
            user=user,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=functools.partial(die_with_parent, death_signal),
        )


def stop(
    process: subprocess.Popen[bytes], *, sig: int = signal.SIGTERM, timeout: float = 20.0
) -> int:
    """Ask `process` to stop with `sig`, wait, and kill it if it does not stop in time."""
    if process.poll() is None:
        try:
            process.send_signal(sig)
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return process.wait()
