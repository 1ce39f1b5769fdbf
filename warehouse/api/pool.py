"""The API's warehouse connections, kept in a pool: one per request, given back after its log row.

Connecting costs more than answering from the publication cache (a TLS-less local
connection still takes a few milliseconds of the server's and the client's time, and a
`SET TIME ZONE` more), so the app keeps a `psycopg_pool.ConnectionPool` of its own
(decision 0019): opened on first use or by the app's lifespan, closed when the app shuts
down. A request takes a connection when it first needs one (`warehouse()` in
`policy.py`) and the access log gives it back once the request's row is written.

A connection goes back only as it came out: idle (no transaction open, nothing failed),
in autocommit, not closed. Any other is closed rather than returned, and the pool opens a
new one in its place. The pool checks each connection before lending it, so one the server
dropped (a restart) is replaced rather than failing a request. When no connection can be
had within `timeout` seconds (the warehouse is down, or too many requests already wait)
the request gets the plain 503 of `WarehouseUnavailable`, never the pool's own message.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import TupleRow
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout, TooManyRequests

from warehouse.connection import WarehouseUnavailable, configure

Connection = psycopg.Connection[TupleRow]

MIN_SIZE = 1  # kept open while idle (tests make many apps)
SERVING_MIN_SIZE = 3  # the API process: a request, the refresher and a spare (`take_if_free`)
MAX_SIZE = 10  # at most this many at once; more requests wait for one
MAX_WAITING = 20  # more waiting than this are refused (503) rather than queued: each waits
# in one of the server's worker threads (40), which the requests holding a connection need
TIMEOUT_S = 5.0  # the longest a request waits for a connection, as `connect()` does for one
CONNECT_TIMEOUT_S = 5


def reusable(conn: Connection) -> bool:
    """Whether a connection may go back to the pool as it is: open, idle, in autocommit."""
    return (
        not conn.closed
        and conn.autocommit
        and conn.info.transaction_status == TransactionStatus.IDLE
    )


class WarehousePool:
    """The app's connections to the warehouse at `dsn` (the API's least-privilege login)."""

    def __init__(
        self,
        dsn: str,
        *,
        min_size: int = MIN_SIZE,
        max_size: int = MAX_SIZE,
        max_waiting: int = MAX_WAITING,
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        self._dsn = dsn
        self._sizes = (min_size, max_size, max_waiting)
        self._timeout_s = timeout_s
        self._lock = threading.Lock()
        self._pool: ConnectionPool[Connection] | None = None
        self._closed = False

    def open(self) -> None:
        """Start connecting (in the background: the app starts even with the warehouse down)."""
        self._opened()

    def _opened(self) -> ConnectionPool[Connection]:
        with self._lock:
            if self._closed:
                raise WarehouseUnavailable("the API is shutting down: its pool is closed")
            if self._pool is None:
                min_size, max_size, max_waiting = self._sizes
                self._pool = ConnectionPool(
                    self._dsn,
                    open=False,
                    kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S},
                    min_size=min_size,
                    max_size=max_size,
                    max_waiting=max_waiting,
                    timeout=self._timeout_s,
                    configure=configure,
                    check=ConnectionPool.check_connection,
                    name="hub-api",
                )
                self._pool.open(wait=False)
            return self._pool

    def take(self) -> Connection:
        """A connection, idle and in autocommit; `WarehouseUnavailable` when none can be had."""
        pool = self._opened()
        try:
            return pool.getconn()
        except (PoolTimeout, TooManyRequests, PoolClosed) as error:
            reason = type(error).__name__
            raise WarehouseUnavailable(f"no warehouse connection for the API ({reason})") from None

    def take_if_free(self) -> Connection | None:
        """A connection if one is idle now, else None at once: for a request that already
        holds one and could use a second. It never waits, neither for another request to
        give one back (holding one while waiting for another, as many requests at once,
        would starve the pool) nor for the pool to open one (slower than doing without)."""
        pool = self._opened()
        if pool.get_stats().get("pool_available", 0) == 0:
            return None
        try:
            return pool.getconn(timeout=0.05)  # taken meanwhile by another: none
        except (PoolTimeout, TooManyRequests, PoolClosed):
            return None

    def give_back(self, conn: Connection, unfit: bool = False) -> None:
        """Return a connection taken with `take`; one not fit to be reused (or found `unfit`
        during the request) is closed first."""
        if unfit or not reusable(conn):
            conn.close()  # the pool sees it closed, drops it, and opens another in its place
        pool = self._pool
        if pool is None:  # closed meanwhile: the connection goes with it
            conn.close()
            return
        pool.putconn(conn)

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Close every connection; requests after this get a 503."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()

    def stats(self) -> dict[str, int]:
        """The pool's own figures (`pool_size`, `pool_available`, `connections_lost`, ...)."""
        pool = self._pool
        return pool.get_stats() if pool is not None else {}


@contextmanager
def _lent(pool: WarehousePool, conn: Connection | None) -> Iterator[Connection | None]:
    """`conn` (taken from `pool`) for the block, given back after (closed if it failed)."""
    if conn is None:
        yield None
        return
    unfit = False
    try:
        yield conn
    except BaseException:
        unfit = True
        raise
    finally:
        pool.give_back(conn, unfit)


@contextmanager
def borrowed(pool: WarehousePool) -> Iterator[Connection]:
    """A connection of the API's pool for the block, given back after (closed if it failed)."""
    with _lent(pool, pool.take()) as conn:
        assert conn is not None
        yield conn


def spare(pool: WarehousePool) -> AbstractContextManager[Connection | None]:
    """A second connection for the block if one is idle now (`take_if_free`), else None;
    given back after (closed if the block failed)."""
    return _lent(pool, pool.take_if_free())
