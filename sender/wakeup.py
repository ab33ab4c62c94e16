"""Cross-process wake-up on PostgreSQL: LISTEN khidmat_outbox and wake the sender on every NOTIFY."""
from __future__ import annotations

import logging
import select
import threading
import time

log = logging.getLogger(__name__)


def listen(url: str, wake, channel: str = "khidmat_outbox") -> threading.Thread:
    def run():
        import psycopg2
        while True:
            try:
                conn = psycopg2.connect(url.split("?")[0])
                conn.autocommit = True
                conn.cursor().execute(f"LISTEN {channel}")
                while True:
                    if select.select([conn], [], [], 30) != ([], [], []):
                        conn.poll()
                        if conn.notifies:
                            conn.notifies.clear()
                            wake()
            except Exception as exc:
                log.warning("outbox LISTEN connection lost (%r); polling until it is back", exc)
                time.sleep(2)
    thread = threading.Thread(target=run, name="outbox-listen", daemon=True)
    thread.start()
    return thread
