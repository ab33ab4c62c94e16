"""The production worker: the outbox sender and the scheduler, without the web server.

Run it next to any number of web processes (gunicorn 'webhook:create_app()'). On PostgreSQL several
workers may run: exactly one leads (sender/election.py), the others stand by and take over within seconds.
On SQLite run exactly one (or just use `python webhook.py`, which includes it).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading

import config
import db
import runtime
from db import migrations
from runtime import logs
from sender.election import Leadership

log = logging.getLogger("khidmat.worker")


def main() -> int:
    settings = config.activate(config.load_or_exit())
    logs.setup(settings)
    db.connect(config.database(settings).url)
    migrations.upgrade()
    runtime.describe_channels(settings)
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    leadership = None
    if config.database(settings).url.startswith("postgres"):
        leadership = Leadership(config.database(settings).url)
        if not leadership.acquire(stop=stopping.is_set):
            return 0
    stop = runtime.start_background(settings)
    try:
        while not stopping.wait(2):
            if leadership is not None and not leadership.still_leading():
                log.error("lost the leadership connection: stopping so a standby can take over")
                return 1
    finally:
        stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
