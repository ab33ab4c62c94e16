"""Cross-process wake-up on PostgreSQL: LISTEN on channels (khidmat_outbox, khidmat_inbox) and call the
matching wake-up on every NOTIFY. Web processes NOTIFY in the transaction that stores or enqueues."""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
from urllib.parse import parse_qsl, urlparse

import psycopg2

log = logging.getLogger(__name__)


class Listener:
    def __init__(self, url: str, wakes: dict):
        self.url, self.wakes = url, wakes
        self._stop = threading.Event()
        # stop() writes a byte into one end so that the select below returns at once; the thread closes both
        # (socket objects, not bare descriptors: a late or second stop() can never write into a reused number)
        self._stop_r, self._stop_w = socket.socketpair()
        self._thread = threading.Thread(target=self._run, name="pg-listen", daemon=True)

    def start(self) -> Listener:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):  # already stopped: the thread has closed it
            self._stop_w.send(b"x")
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            self._listen()
        finally:
            self._stop_r.close()
            self._stop_w.close()

    def _listen(self) -> None:
        options = dict(parse_qsl(urlparse(self.url).query)).get("options")
        while not self._stop.is_set():
            conn = None
            try:
                conn = psycopg2.connect(self.url.split("?")[0], options=options)
                conn.autocommit = True
                for channel in self.wakes:
                    conn.cursor().execute(f"LISTEN {channel}")
                while not self._stop.is_set():
                    readable, _, _ = select.select([conn, self._stop_r], [], [], 1)
                    if conn in readable:
                        conn.poll()
                        channels = {n.channel for n in conn.notifies}
                        conn.notifies.clear()
                        for channel in channels:
                            self.wakes[channel]()
            except Exception as exc:
                log.warning("outbox LISTEN connection lost (%r); polling until it is back", exc)
                self._stop.wait(2)
            finally:
                if conn is not None:
                    conn.close()
