"""Cross-process wake-up on PostgreSQL: LISTEN on channels (khidmat_outbox, khidmat_inbox) and call the
matching wake-up on every NOTIFY."""
from __future__ import annotations

import logging
import select
import threading
import time

log = logging.getLogger(__name__)


def listen(url: str, wakes: dict) -> threading.Thread:
    def run():
        import psycopg2
        while True:
            try:
                conn = psycopg2.connect(url.split("?")[0])
                conn.autocommit = True
                for channel in wakes:
                    conn.cursor().execute(f"LISTEN {channel}")
                while True:
                    if select.select([conn], [], [], 30) != ([], [], []):
                        conn.poll()
                        channels = {n.channel for n in conn.notifies}
                        conn.notifies.clear()
                        for channel in channels:
                            wakes[channel]()
            except Exception as exc:
                log.warning("outbox LISTEN connection lost (%r); polling until it is back", exc)
                time.sleep(2)
    thread = threading.Thread(target=run, name="outbox-listen", daemon=True)
    thread.start()
    return thread
