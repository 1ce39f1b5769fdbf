"""Replay's processes: people folded in parallel, one process per core.

People are independent of each other once linked, so `fold_in_processes` shares them
out between spawned processes by a hash of their id. Each process connects to the
warehouse itself, folds its share into the scratch schema and sends back progress
and its result over one queue; a process that fails or dies fails the replay with
the kind of error only, and every process dies with its parent.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.queues
import queue
from collections.abc import Callable
from dataclasses import dataclass

from hub.processes import die_with_parent
from pipelines.replay_fold import Folded, Share, fold_people
from streams.projection import ProjectionSettings
from warehouse.connection import connect

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Parallel:
    """How to fold people in other processes: where the warehouse is, the scratch schema
    they write the histories into, and how many processes."""

    dsn: str
    scratch: str
    workers: int


def _fold_share(
    parallel: Parallel,
    settings: ProjectionSettings,
    up_to: int,
    share: Share,
    messages: multiprocessing.queues.Queue[tuple[str, int, object]],
) -> None:
    """A replay process: fold one share of the people, say how far it got, hand back the rest."""
    die_with_parent()  # a replay stopped by a signal leaves no process folding behind
    try:
        with connect(parallel.dsn) as conn:
            conn.execute(f"SET search_path TO {parallel.scratch}, public")
            folded = fold_people(
                conn,
                settings,
                up_to,
                share,
                lambda done: messages.put(("progress", share.index, done)),
            )
        messages.put(("done", share.index, folded))
    except Exception as error:  # the parent raises it; name the kind, never a value
        sqlstate = getattr(error, "sqlstate", None)
        messages.put(("failed", share.index, f"{type(error).__name__} (SQLSTATE {sqlstate})"))


def fold_in_processes(
    parallel: Parallel,
    settings: ProjectionSettings,
    up_to: int,
    progress: Progress | None,
    total: int,
) -> list[Folded]:
    context = multiprocessing.get_context("spawn")  # no fork: the parent may hold threads
    messages: multiprocessing.queues.Queue[tuple[str, int, object]] = context.Queue()
    processes = [
        context.Process(
            target=_fold_share,
            args=(parallel, settings, up_to, Share(index, parallel.workers), messages),
            name=f"replay-{index}",
            daemon=True,
        )
        for index in range(parallel.workers)
    ]
    for process in processes:
        process.start()
    done = [0] * parallel.workers
    folded: dict[int, Folded] = {}
    try:
        while len(folded) < len(processes):
            try:
                kind, index, body = messages.get(timeout=1.0)
            except queue.Empty:
                lost = [
                    p.name for i, p in enumerate(processes) if i not in folded and not p.is_alive()
                ]
                if not lost:
                    continue
                try:  # a result sent just before its process ended may still be on its way
                    kind, index, body = messages.get(timeout=1.0)
                except queue.Empty:
                    raise ReplayFailed(
                        f"replay process {lost[0]} ended without its result"
                    ) from None
            if kind == "progress":
                done[index] = int(str(body))
                if progress is not None:
                    progress(sum(done), total)
            elif kind == "done" and isinstance(body, Folded):
                folded[index] = body
            else:
                raise ReplayFailed(f"replay process {index} failed: {body}")
    finally:
        for process in processes:
            if process.is_alive() and len(folded) < len(processes):
                process.terminate()
            process.join(timeout=10)
    return [folded[index] for index in sorted(folded)]


class ReplayFailed(RuntimeError):
    """A replay process failed; the message names the kind of error, never a value."""
