"""Leader election for worker.py on PostgreSQL: the process holding an advisory lock sends and schedules.

The lock lives on a dedicated connection; if the leader dies its session ends, the lock is released and a
standby (polling every second) takes over. A leader that loses its connection stops at once, so two never
lead together.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import unquote

import psycopg2

log = logging.getLogger(__name__)

LOCK_KEY = 7212002


class Leadership:
    def __init__(self, url: str, poll_s: float = 1.0):
        self.url, self.poll_s = url.split("?")[0], poll_s
        self.options = dict(p.split("=", 1) for p in url.split("?", 1)[1].split("&")) if "?" in url else {}
        self.conn: Any = None  # a psycopg2 connection once connected

    def _connect(self):
        conn = psycopg2.connect(self.url, options=unquote(self.options.get("options", "")) or None)
        conn.autocommit = True
        return conn

    def acquire(self, stop=lambda: False) -> bool:
        """Block until this process leads (True), or stop() says to give up (False)."""
        announced = False
        while not stop():
            try:
                if self.conn is None or self.conn.closed:
                    self.conn = self._connect()
                cursor = self.conn.cursor()
                cursor.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,))
                if cursor.fetchone()[0]:
                    log.info("this worker now leads: it sends and schedules")
                    return True
                if not announced:
                    log.info("another worker leads; standing by")
                    announced = True
            except Exception as exc:
                log.warning("election: database unreachable (%r); retrying", exc)
                self.conn = None
            time.sleep(self.poll_s)
        return False

    def still_leading(self) -> bool:
        try:
            cursor = self.conn.cursor()
            cursor.execute("SELECT 1")
            return True
        except Exception:
            return False
