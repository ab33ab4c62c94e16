"""The one database connection: SQLite (WAL, busy timeout) by default, PostgreSQL by URL.

`write()` opens a write transaction. On SQLite writers are serialised inside the process with a lock
(cheaper than SQLite's busy-wait) and take the write lock up front (BEGIN IMMEDIATE). Functions
registered with `after_commit()` inside a transaction run once it has committed (the sender's wake-up).
"""

from __future__ import annotations

import collections
import contextlib
import os
import threading
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlparse

from peewee import DatabaseProxy, SqliteDatabase
from playhouse.pool import PooledPostgresqlDatabase

from db import inuse


class FairLock:
    """A re-entrant lock handed to waiters first come, first served. SQLite has one writer at a time:
    without fairness the inbox processor, writing in a loop, would starve the webhooks' quick inserts."""

    def __init__(self):
        self._guard = threading.Lock()
        self._waiters: collections.deque[tuple[int, threading.Event]] = collections.deque()
        self._owner, self._depth = None, 0

    def __enter__(self):
        me = threading.get_ident()
        with self._guard:
            if self._owner == me:
                self._depth += 1
                return self
            if self._owner is None and not self._waiters:
                self._owner, self._depth = me, 1
                return self
            turn = threading.Event()
            self._waiters.append((me, turn))
        turn.wait()  # release() made us the owner
        return self

    def __exit__(self, *exc):
        with self._guard:
            self._depth -= 1
            if self._depth:
                return
            if self._waiters:
                self._owner, turn = self._waiters.popleft()
                self._depth = 1
                turn.set()
            else:
                self._owner = None


database = DatabaseProxy()
_sqlite_lock = FairLock()
_local = threading.local()


def connect(url: str):
    """Bind the models to the database named by url and return it (not yet opened: peewee connects lazily)."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(url[len("sqlite:///") :]) if url.startswith("sqlite:///") else parsed.path
        if path != ":memory:" and not os.path.isabs(path):
            path = str(Path(__file__).resolve().parent.parent / path)  # relative to the project root
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        inuse.hold(path)  # as long as this process runs: `db restore` refuses meanwhile
        db = SqliteDatabase(
            path,
            check_same_thread=False,
            timeout=30,
            pragmas={
                "journal_mode": "wal",
                "busy_timeout": 30000,
                "synchronous": "normal",
                "foreign_keys": 1,
                "cache_size": -16000,
            },
        )
    elif parsed.scheme in ("postgres", "postgresql"):
        options = dict(parse_qsl(parsed.query))
        options.setdefault("application_name", inuse.application_name())  # `db restore` looks for it
        db = PooledPostgresqlDatabase(
            unquote(parsed.path.lstrip("/")) or "postgres",
            max_connections=int(options.pop("pool", 20)),
            stale_timeout=300,
            timeout=30,
            user=unquote(parsed.username) if parsed.username else None,
            password=unquote(parsed.password) if parsed.password else None,
            host=parsed.hostname or None,
            port=parsed.port or None,
            **options,
        )
    else:
        raise ValueError(f"database.url must start with sqlite:/// or postgresql:// (got {parsed.scheme!r})")
    database.initialize(db)
    return db


def sqlite_path() -> str:
    """The file of the SQLite database the models are bound to."""
    return database.obj.database


def is_sqlite() -> bool:
    return isinstance(database.obj, SqliteDatabase)


def after_commit(fn):
    """Run fn after the current write transaction commits (or at once outside one)."""
    pending = getattr(_local, "after", None)
    if pending is None:
        fn()
    elif fn not in pending:
        pending.append(fn)


def runs_after_commit(fn) -> bool:
    """Whether fn is already waiting for the current write transaction to commit."""
    return fn in (getattr(_local, "after", None) or ())


@contextlib.contextmanager
def write():
    """A write transaction; nested calls join the outer one."""
    if getattr(_local, "after", None) is not None:
        with database.atomic():
            yield
        return
    _local.after = []
    try:
        if is_sqlite():
            with _sqlite_lock, database.atomic("IMMEDIATE"):
                yield
        else:
            with database.atomic():
                yield
        callbacks = _local.after
    finally:
        _local.after = None
    for fn in callbacks:
        fn()


def close():
    """Close this thread's connection (on PostgreSQL: give it back to the pool)."""
    if database.obj is not None and not database.is_closed():
        database.close()


def release():
    """After a unit of work: PostgreSQL connections go back to the pool (so threads × processes stay
    under max_connections); SQLite keeps its cheap per-thread connection."""
    if database.obj is not None and not is_sqlite():
        close()


def close_all():
    """Close every connection (tests, shutdown)."""
    if database.obj is not None:
        if is_sqlite():
            close()
        else:
            database.obj.close_all()


def describe(url: str) -> str:
    """The url without its password, for logs."""
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@")
    return url
