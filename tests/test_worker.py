"""worker.py on PostgreSQL: one leader sends, a standby takes over when it dies, nothing lost or doubled."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import config
import db
import outbox
from db import migrations
from tests.helpers import ROOT, SECRET, TOKEN, eventually, make_settings, quiet


def test_standby_takes_over_when_the_leader_dies(pg_url, tg_api, tmp_path):
    db_url = pg_url
    settings = make_settings(db_url, tg_api)
    config.activate(settings)
    db.connect(db_url)
    migrations.upgrade()
    n = 60
    with db.write():
        for i in range(n):
            outbox.enqueue("telegram", str(9000 + i), purpose="notice", text=f"notice {i:03d}")
    db.connection.close_all()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    env.update(
        {
            "BOT_DATABASE_URL": db_url,
            "BOT_TELEGRAM_TOKEN": TOKEN,
            "BOT_TELEGRAM_API_BASE_URL": tg_api.base_url,
            "BOT_TELEGRAM_WEBHOOK_SECRET": SECRET,
            "BOT_TELEGRAM_RATE_GLOBAL_PER_S": "20",
            "BOT_SCHEDULER_ENABLED": "true",
            "PYTHONUNBUFFERED": "1",
        }
    )
    tg_api.set_delay(0.02)
    logs = [tmp_path / "a.log", tmp_path / "b.log"]

    def worker(log_path):
        with open(log_path, "wb") as log_file:  # the worker keeps its own copy of the descriptor
            return subprocess.Popen(
                [sys.executable, "worker.py"], cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT
            )

    leader = worker(logs[0])
    standby = None
    try:
        eventually(lambda: len(tg_api.sent()) >= 10, timeout=20, what="the first worker to send")
        standby = worker(logs[1])
        eventually(
            lambda: "standing by" in logs[1].read_text(),
            timeout=20,
            what=f"the second worker to stand by ({logs[1].read_text()[-800:]})",
        )
        sent_while_both = len(tg_api.sent())
        time.sleep(0.5)
        assert len(tg_api.sent()) - sent_while_both <= 20  # only one of them is sending (20/s)
        leader.send_signal(signal.SIGKILL)
        leader.wait(10)
        killed_at = time.time()
        eventually(lambda: "now leads" in logs[1].read_text(), timeout=10, what="the standby to take over")
        assert time.time() - killed_at < 10
        eventually(lambda: len({m["chat_id"] for m in tg_api.sent()}) == n, timeout=30, what="every notice")
        db.connect(db_url)  # once the outbox is idle, nothing more is on its way
        try:
            quiet()
        finally:
            db.connection.close_all()
        per_chat = Counter(m["chat_id"] for m in tg_api.sent())
        assert max(per_chat.values()) <= 2
        assert sum(v - 1 for v in per_chat.values()) <= 32  # at most the sends in flight at the kill
    finally:
        for proc in (leader, standby):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(10)
