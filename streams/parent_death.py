"""Child processes that die with their parent, so no stop, crash or kill leaves an orphan.

Linux delivers a chosen signal to a process when the one that started it ends
(`prctl(PR_SET_PDEATHSIG)`). The embedded stack's components, the worker's batch
writer and replay's fold processes all ask for it; elsewhere the call does nothing and
their parents' own shutdown stops them.
"""

from __future__ import annotations

import contextlib
import ctypes
import signal

_PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """Have this process sent `sig` when its parent dies."""
    with contextlib.suppress(OSError):  # not Linux
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)
