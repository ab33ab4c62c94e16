"""Which Khidmat processes use a database, so that `db restore` can refuse while a bot runs on it.

Every process that connects (db.connect: `python webhook.py`, worker.py, gunicorn's web processes, the `flask`
commands) says so, and a process that has died says nothing any more:
- SQLite: it holds a shared flock on `<database file>.inuse`, next to the database, as long as it runs (the kernel
  drops the lock when the process ends, even after kill -9). Whoever can turn it into an exclusive lock is alone.
- PostgreSQL: its connections carry the application_name `khidmat pid=<pid>` (pg_stat_activity shows it), and a
  restore looks for other such sessions on its database.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

APPLICATION = "khidmat"

_held: dict[str, IO] = {}


def application_name() -> str:
    """This process's application_name on PostgreSQL."""
    return f"{APPLICATION} pid={os.getpid()}"


def lock_path(database_path: str | os.PathLike) -> Path:
    return Path(f"{database_path}.inuse")


def hold(database_path: str) -> None:
    """Say, for as long as this process runs, that it uses the SQLite database at this path (and no other)."""
    if database_path == ":memory:" or database_path in _held:
        return
    release()
    handle = open(lock_path(database_path), "a")  # noqa: SIM115 - held open on purpose: the lock lives with it
    fcntl.flock(handle, fcntl.LOCK_SH)
    _held[database_path] = handle


def release() -> None:
    """Stop saying so (a process connecting to another database; tests)."""
    while _held:
        _, handle = _held.popitem()
        handle.close()


def alone(database_path: str) -> bool:
    """Whether no other process uses this SQLite database. When True, this process holds the lock exclusively
    (no other process can start on it) until it calls share() or release()."""
    handle = _held.get(database_path)
    if handle is None:
        handle = open(lock_path(database_path), "a")  # noqa: SIM115 - kept in _held, closed by release()
        _held[database_path] = handle
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fcntl.flock(handle, fcntl.LOCK_SH)  # converting may have let go of the shared lock: take it back
        return False
    return True


def share(database_path: str) -> None:
    """After alone(): let others start again (back to a shared lock)."""
    handle = _held.get(database_path)
    if handle is not None:
        fcntl.flock(handle, fcntl.LOCK_SH)


OTHERS_SQL = (
    "SELECT application_name, coalesce(host(client_addr), 'local') FROM pg_stat_activity "
    "WHERE datname = current_database() AND application_name LIKE %s AND application_name <> %s"
)


def others_sql() -> tuple[str, tuple[str, str]]:
    """The query (and its parameters) that lists other Khidmat sessions on the current PostgreSQL database."""
    return OTHERS_SQL, (f"{APPLICATION} pid=%", application_name())
