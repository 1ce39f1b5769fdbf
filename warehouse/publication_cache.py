"""Published documents kept in memory until the warehouse they were read from changes.

A published document (scorecard, JSNA, cross-tab) is a function of the events applied,
the reference data loaded, the disclosure rule and the arguments asked, and building one
re-reads its inputs and re-protects whole month tables (a quarter of a second at the real
area's scale). So each is kept, keyed by all four, and served again while no event has
been stored and no reference data loaded since.

The warehouse's version is read in one query of three index look-ups: the event store's
highest sequence number (appends are serialised by the append lock and commit with their
projections, so a higher number is visible exactly when its effects are), the latest
reference load's id, and the latest rebuild of the projections (each replay that
replaces the live tables records one in the same transaction: `hub replay --apply`, the
rebuild after an erasure by retention or opt-out, the rebuild after a reference load).
An entry is also rebuilt once it is `MAX_AGE_S` old, whatever the version says. A caller
that may not read the version (the API's role before its grant) gets every document
built afresh, as before, and the log says so once.

A build takes the connection to build on, so the cache can build again without the
request that first asked. The API runs a `Refresher` (decision 0025): twice a second
it reads the version and rebuilds the documents asked for lately (and those the API
warmed at start-up) that are not kept at the current version, so the first request
after an event batch finds its document built. While a refresher runs, an entry past
`MAX_AGE_S` but of the current version is still served until the refresher replaces it
(it says what the warehouse holds now). A document of an older version is never served
to the API's routes, the CLI or the exports: a request that comes before the refresher
has built the new one builds it, or waits for the refresher's build of it, so what a
caller reads includes every event stored before it asked. The dashboard's pages alone
(`may_lag()`, set for them by `warehouse/web/app.py`) are served, in the second or so
after an event batch while the refresher builds the new document, the one built before
the batch, as a dashboard refreshing itself would show it; never after a reference load
or a rebuild of the projections (how an erasure is recorded), and never older than
`MAX_AGE_S`.

The API sends a kept document as it is, so each entry also keeps the document's JSON,
encoded once (`encoded`), with the counts its access-log row records: a scorecard is
some 700 KB of JSON, and validating and encoding it again for every call cost more
than building it once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import partial
from typing import Any

import orjson
import psycopg

from streams.disclosure import Rule
from warehouse.publication import publication_rule

log = logging.getLogger("hub.publication_cache")

MAX_ENTRIES = 48  # a few arguments for each document: the entries of old versions go first
MAX_AGE_S = 60.0  # a bound on any entry's age, whatever moved the warehouse
STALE_LIMIT = 3  # x MAX_AGE_S: served past its age while a refresher runs, never past this
REFRESH_WINDOW_S = 600.0  # a document asked for this recently is rebuilt when it changes
MAX_REFRESHED = 16  # documents rebuilt by one refresh at most: the most recently asked

VERSION_SQL = """
SELECT (SELECT oid FROM pg_database WHERE datname = current_database()),
       (SELECT coalesce(max(sequence), 0) FROM events),
       (SELECT coalesce(max(load_id), 0) FROM reference_loads),
       (SELECT coalesce(max(rebuild_id), 0) FROM projection_rebuilds)
"""

Document = dict[str, Any]
Counts = tuple[int | None, int | None, int | None]  # rows, cells, cells suppressed


@dataclass(frozen=True)
class Encoded:
    """A document as the API sends it: its JSON, and what its access-log row counts."""

    body: bytes
    counts: Counts


def as_json(document: Document) -> bytes:
    """A document's JSON, compact, in UTF-8: the same values FastAPI's encoder gives for a
    document of JSON types (tests/component/test_api_schema.py compares the two)."""
    return orjson.dumps(document)


@dataclass(frozen=True)
class WarehouseVersion:
    """Which warehouse, as of which event, which load of reference data and which
    rebuild of the projections (replay, erasure)."""

    database: tuple[str, int, int]  # host, port and the database's oid
    events: int
    reference: int
    rebuild: int = 0


def warehouse_version(conn: psycopg.Connection) -> WarehouseVersion | None:
    """The warehouse's version, or None where this connection's role may not read it."""
    try:
        if conn.autocommit:
            row = conn.execute(VERSION_SQL).fetchone()
        else:  # a refusal must not abort the caller's transaction
            with conn.transaction():
                row = conn.execute(VERSION_SQL).fetchone()
    except psycopg.errors.InsufficientPrivilege:
        _warn_once(conn)
        return None
    assert row is not None
    info = conn.info
    return WarehouseVersion(
        (info.host, info.port, int(row[0])), int(row[1]), int(row[2]), int(row[3])
    )


def version_readable_by(conn: psycopg.Connection, role: str) -> bool:
    """Whether `role` may read the warehouse's version (the API's role: `hub_api`)."""
    row = conn.execute(
        "SELECT has_column_privilege(%(role)s, 'events', 'sequence', 'SELECT')"
        " AND has_column_privilege(%(role)s, 'reference_loads', 'load_id', 'SELECT')"
        " AND has_column_privilege(%(role)s, 'projection_rebuilds', 'rebuild_id', 'SELECT')",
        {"role": role},
    ).fetchone()
    return bool(row and row[0])


_warned: set[str] = set()


def _warn_once(conn: psycopg.Connection) -> None:
    user = conn.info.user
    if user not in _warned:
        _warned.add(user)
        log.warning(
            "role %s cannot read events.sequence, reference_loads.load_id and"
            " projection_rebuilds.rebuild_id:"
            " published documents are built afresh for every request",
            user,
        )


_MAY_LAG: ContextVar[bool] = ContextVar("publication_may_lag", default=False)


@contextmanager
def may_lag() -> Iterator[None]:
    """Within this block (this request), a document one or more event batches old may be
    served while a refresher builds the current one: for the dashboard's pages only."""
    token = _MAY_LAG.set(True)
    try:
        yield
    finally:
        _MAY_LAG.reset(token)


Build = Callable[[psycopg.Connection], Document]  # a document, built on this connection
Key = tuple[str, Hashable, WarehouseVersion, Rule]  # kind, arguments, version, rule


@dataclass
class _Entry:
    version: WarehouseVersion
    document: Document
    built_at: float
    encoded: tuple[Callable[[Document], Counts], Encoded] | None = None  # with its counter


@dataclass
class _Wanted:
    """A document asked for: how to build it again, and when it was last asked for."""

    build: Build
    asked_at: float
    pinned: bool = False  # warmed at start-up: refreshed however long since it was asked


class PublicationCache:
    """At most `max_entries` documents, least recently used first out, none older than
    `max_age_s` unless a refresher is replacing it. Concurrent requests for a document not
    yet built wait for one build."""

    def __init__(
        self,
        max_entries: int = MAX_ENTRIES,
        max_age_s: float = MAX_AGE_S,
        clock: Callable[[], float] = time.monotonic,
        refresh_window_s: float = REFRESH_WINDOW_S,
    ) -> None:
        self.max_entries = max_entries
        self.max_age_s = max_age_s
        self.clock = clock
        self.refresh_window_s = refresh_window_s
        self.builds = 0  # how many documents were built (for tests and the benchmark)
        self.encodings = 0  # how many documents were encoded (for tests)
        self.refreshers = 0  # how many refreshers run (`warehouse/publication_refresher.py`)
        self.served_behind = 0  # documents served a batch or so behind (`may_lag`)
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._kept: dict[int, _Entry] = {}  # by the id of the document each entry keeps
        self._building: dict[Hashable, threading.Lock] = {}
        self._wanted: OrderedDict[tuple[str, Hashable], _Wanted] = OrderedDict()
        self._latest: OrderedDict[tuple[str, Hashable, Rule], _Entry] = OrderedDict()
        self._pinning = threading.local()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._kept.clear()
            self._wanted.clear()
            self._latest.clear()

    def document(
        self,
        conn: psycopg.Connection,
        kind: str,
        arguments: Hashable,
        build: Build,
    ) -> Document:
        """The `kind` document for `arguments` at the warehouse's current version: kept,
        or made by `build(conn)` and kept. Callers must not change what they get."""
        version = warehouse_version(conn)
        if version is None:
            return build(conn)
        self._asked(kind, arguments, build)
        key = (kind, arguments, version, publication_rule())
        with self._lock:
            found = self._fresh(key) or (self._behind(key) if _MAY_LAG.get() else None)
        if found is not None:
            return found
        return self._build(conn, key, version, build, lambda: self._fresh(key))

    @contextmanager
    def pinned(self) -> Iterator[None]:
        """Documents asked for in this block (by this thread) are refreshed for as long as
        a refresher runs, asked for again or not: the API's start-up warms them so."""
        self._pinning.on = True
        try:
            yield
        finally:
            self._pinning.on = False

    def refresh(self, conn: psycopg.Connection, most: int = MAX_REFRESHED) -> int:
        """Build on `conn` each document wanted (pinned, or asked for in the last
        `refresh_window_s`) that is not kept at the current version, or is kept but past
        `max_age_s`: at most `most`, the most recently asked first. How many were built."""
        version = warehouse_version(conn)
        if version is None:
            return 0
        now = self.clock()
        with self._lock:
            for old in [
                wanted
                for wanted, entry in self._wanted.items()
                if not entry.pinned and now - entry.asked_at > self.refresh_window_s
            ]:
                del self._wanted[old]
            wanted = list(reversed(self._wanted.items()))
        built = 0
        rule = publication_rule()
        for (kind, arguments), entry in wanted:
            if built >= most:
                break
            key = (kind, arguments, version, rule)
            with self._lock:
                kept = self._entries.get(key)
            if kept is not None and self.clock() - kept.built_at <= self.max_age_s:
                continue
            try:
                self._build(conn, key, version, entry.build, partial(self._other, key, kept))
            except Exception as error:  # e.g. OutOfStep while a rebuild is under way
                log.info("refreshing a %s document failed (%s)", kind, type(error).__name__)
                with self._lock:
                    if self._wanted.get((kind, arguments)) is entry and not entry.pinned:
                        del self._wanted[(kind, arguments)]
            built += 1
        return built

    def encoded(self, document: Document, counts: Callable[[Document], Counts]) -> Encoded:
        """`document`'s JSON and `counts(document)`: computed once for a document this cache
        keeps (the very object `document` returned) and the same `counts` function, computed
        afresh for any other."""
        with self._lock:
            entry = self._kept.get(id(document))
            if entry is None or entry.document is not document:
                entry = None
            elif entry.encoded is not None and entry.encoded[0] is counts:
                return entry.encoded[1]
        made = Encoded(as_json(document), counts(document))
        with self._lock:
            self.encodings += 1
            if entry is not None and self._kept.get(id(document)) is entry:
                entry.encoded = (counts, made)
        return made

    def _asked(self, kind: str, arguments: Hashable, build: Build) -> None:
        pinned = getattr(self._pinning, "on", False)
        with self._lock:
            wanted = self._wanted.pop((kind, arguments), None)
            self._wanted[(kind, arguments)] = _Wanted(
                build, self.clock(), pinned or (wanted is not None and wanted.pinned)
            )
            while len(self._wanted) > self.max_entries:
                oldest = next(k for k, w in self._wanted.items() if not w.pinned)
                del self._wanted[oldest]

    def _build(
        self,
        conn: psycopg.Connection,
        key: Key,
        version: WarehouseVersion,
        build: Build,
        found: Callable[[], Document | None],
    ) -> Document:
        """`build(conn)` kept under `key`, one build at a time for a key: a caller that
        waited for another's build takes what `found` finds then, if anything."""
        with self._lock:
            building = self._building.setdefault(key, threading.Lock())
        with building:
            with self._lock:
                document = found()
            if document is not None:
                return document
            try:
                document = build(conn)
                with self._lock:
                    self.builds += 1
                    entry = _Entry(version, document, self.clock())
                    self._keep(key, entry)
                    latest = (key[0], key[1], key[3])
                    last = self._latest.get(latest)
                    if last is None or not _superseded(entry.version, last.version):
                        self._latest[latest] = entry  # never a build of an older version
                        self._latest.move_to_end(latest)
                    while len(self._latest) > self.max_entries:
                        self._latest.popitem(last=False)
            finally:
                with self._lock:
                    self._building.pop(key, None)
        return document

    def _other(self, key: Hashable, than: _Entry | None) -> Document | None:
        """The document kept under `key` if it is not `than`'s (built meanwhile)."""
        entry = self._entries.get(key)
        return entry.document if entry is not None and entry is not than else None

    def _behind(self, key: Key) -> Document | None:
        """While a refresher runs, the document last built for the same arguments and rule,
        if the warehouse has since only stored events (no reference load, no rebuild: after
        an erasure nothing built before it is served again) and it is not past its age."""
        if not self.refreshers:
            return None
        entry = self._latest.get((key[0], key[1], key[3]))
        if entry is None:
            return None
        now, then = key[2], entry.version
        events_only = (
            then.database == now.database
            and then.events < now.events
            and (then.reference, then.rebuild) == (now.reference, now.rebuild)
        )
        if not events_only or self.clock() - entry.built_at > self.max_age_s:
            return None
        self.served_behind += 1
        return entry.document

    def _fresh(self, key: Hashable) -> Document | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        age = self.clock() - entry.built_at
        if age > self.max_age_s and (not self.refreshers or age > STALE_LIMIT * self.max_age_s):
            self._drop(key)  # a refresher failing to rebuild it does not keep it for ever
            return None
        self._entries.move_to_end(key)
        return entry.document

    def _keep(self, key: Hashable, entry: _Entry) -> None:
        for old in [k for k, e in self._entries.items() if _superseded(e.version, entry.version)]:
            self._drop(old)  # no request will ask for an older version again
        if key in self._entries:
            self._drop(key)
        self._entries[key] = entry
        self._kept[id(entry.document)] = entry
        while len(self._entries) > self.max_entries:
            self._drop(next(iter(self._entries)))

    def _drop(self, key: Hashable) -> None:
        entry = self._entries.pop(key)
        if self._kept.get(id(entry.document)) is entry:
            del self._kept[id(entry.document)]


def _superseded(old: WarehouseVersion, new: WarehouseVersion) -> bool:
    return (
        old.database == new.database
        and old != new
        and old.events <= new.events
        and old.reference <= new.reference
    )


PUBLISHED = PublicationCache()  # one per process: the API's, or a CLI command's


def published(conn: psycopg.Connection, kind: str, arguments: Hashable, build: Build) -> Document:
    """`build(conn)`'s document, or the one kept for the same warehouse version and arguments."""
    return PUBLISHED.document(conn, kind, arguments, build)


def encoded(document: Document, counts: Callable[[Document], Counts]) -> Encoded:
    """A published document's JSON and counts, encoded once while the document is kept."""
    return PUBLISHED.encoded(document, counts)
