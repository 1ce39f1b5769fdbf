"""The run-state file of the embedded stack: which supervisor runs it and which children it owns.

`hub up` writes it, `hub down` reads it to find the supervisor, and a stale file
(supervisor gone) is recognised so a crashed run never blocks the next one.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class ComponentState:
    """One supervised child as last started."""

    pid: int
    address: str
    started_at: float
    restarts: int = 0


@dataclass
class StackState:
    """What `hub up` is running right now."""

    supervisor_pid: int
    started_at: float = field(default_factory=time.time)
    ready: bool = False
    components: dict[str, ComponentState] = field(default_factory=dict)

    def save(self, path: Path) -> None:
        """Write atomically, so a reader never sees half a file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp")
        partial.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")
        partial.replace(path)

    @classmethod
    def load(cls, path: Path) -> StackState | None:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        components = {
            name: ComponentState(**value) for name, value in raw.get("components", {}).items()
        }
        return cls(
            supervisor_pid=int(raw["supervisor_pid"]),
            started_at=float(raw.get("started_at", 0.0)),
            ready=bool(raw.get("ready", False)),
            components=components,
        )


def state_file(state_dir: Path) -> Path:
    return state_dir / "run" / "stack.json"


def log_dir(state_dir: Path) -> Path:
    return state_dir / "logs"


def pid_alive(pid: int) -> bool:
    """True if a process with `pid` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def running_state(state_dir: Path) -> StackState | None:
    """The state of a live supervisor, or None if none is running (stale files ignored)."""
    state = StackState.load(state_file(state_dir))
    if state is None or not pid_alive(state.supervisor_pid):
        return None
    return state
