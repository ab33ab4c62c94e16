"""The door: every webhook event is stored before the 200 (a redelivery is dropped by its unique external
id), and the inbox processor is woken to handle it."""

from __future__ import annotations

import collections
import json
import logging
import threading
import time
from collections.abc import Callable

from db.connection import after_commit, database, is_sqlite, write
from db.models import utcnow

log = logging.getLogger(__name__)


_storing = 0  # webhooks storing right now: the processor and the sender let them go first
_storing_lock = threading.Lock()


_recent: collections.deque[float] = collections.deque(maxlen=4)  # when the last few stores finished


def storing() -> bool:
    """True while webhooks are storing, or during a burst (several stores in the last 50 ms); a single
    message, one at a time, is handled at once."""
    return _storing > 0 or (len(_recent) >= 3 and time.monotonic() - _recent[-3] < 0.05)


def store(source: str, external_id: str, raw) -> bool:
    """Keep a webhook event before answering 200; False when it is a redelivery we already have.
    The inbox processor handles it right after (inbox/processor.py)."""
    global _storing
    with _storing_lock:
        _storing += 1
    try:
        return _store(source, external_id, raw)
    finally:
        with _storing_lock:
            _storing -= 1
            _recent.append(time.monotonic())


_INSERT = {  # the webhook's one hot statement, written out: building it with peewee costs more than running it
    True: "INSERT OR IGNORE INTO inbound_event (source, external_id, received_at, status, payload) "
    "VALUES (?, ?, ?, 'pending', ?)",
    False: "INSERT INTO inbound_event (source, external_id, received_at, status, payload) "
    "VALUES (%s, %s, %s, 'pending', %s) ON CONFLICT DO NOTHING",
}


def _store(source: str, external_id: str, raw) -> bool:
    payload = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False, default=str)
    sqlite = is_sqlite()
    received_at = utcnow()
    with write():
        created = database.execute_sql(
            _INSERT[sqlite], (source, external_id, str(received_at) if sqlite else received_at, payload)
        ).rowcount
        if not created:
            log.info("duplicate %s event %s ignored", source, external_id)
            return False
        if not is_sqlite():
            database.execute_sql("NOTIFY khidmat_inbox")  # the processor may be in another process
        after_commit(_wake)
    return True


_listeners: list[Callable[[], None]] = []


def on_store(fn) -> None:
    """Call fn() after an event was stored (the processor's wake-up)."""
    _listeners.append(fn)


def _wake() -> None:
    for fn in list(_listeners):
        fn()
