"""Keeping the published documents built ahead of the requests that read them.

A published document is built again whenever the warehouse moves (an event batch, a
reference load, a rebuild), and the scorecard takes the best part of a second to build at
the real area's scale. The API's `Refresher` is one daemon thread that, every
`INTERVAL_S`, borrows a connection and asks the publication cache to rebuild the documents
it was asked for lately (`PublicationCache.refresh`), so a user after an event batch is
served a document of the new version already built (decision 0025). Builds are pure
Python over a few queries: the thread holds the GIL while it builds, in slices, as any
request thread does.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager

import psycopg

from warehouse.publication_cache import PUBLISHED, PublicationCache

log = logging.getLogger("hub.publication_refresher")

INTERVAL_S = 0.5  # how often the version is read (one query of three index look-ups)

Borrow = Callable[[], AbstractContextManager[psycopg.Connection]]


class Refresher:
    """A thread refreshing `cache` every `interval_s` on connections from `borrow`, from
    `start` to `stop`. While it runs, the cache serves an entry past its age of the
    current version rather than make a request rebuild it."""

    def __init__(
        self,
        borrow: Borrow,
        cache: PublicationCache = PUBLISHED,
        interval_s: float = INTERVAL_S,
    ) -> None:
        self.borrow = borrow
        self.cache = cache
        self.interval_s = interval_s
        self.rounds = 0  # refreshes completed (for tests)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self.cache.refreshers += 1
        self._thread = threading.Thread(target=self._run, name="publication-refresher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stopping.set()
        thread.join(timeout)
        self.cache.refreshers -= 1

    def refresh_now(self) -> int:
        """One refresh on a borrowed connection: how many documents were built."""
        with self.borrow() as conn:
            built = self.cache.refresh(conn)
        self.rounds += 1
        return built

    def _run(self) -> None:
        while not self._stopping.wait(self.interval_s):
            try:
                self.refresh_now()
            except Exception as error:  # the warehouse away, the pool closing: try again
                log.info("refreshing the published documents failed (%s)", type(error).__name__)
