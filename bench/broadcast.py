"""Broadcast benchmark: 10,000 Telegram recipients at Telegram's paid-broadcast-like limit of 300 messages/s.

    .venv/bin/python bench/broadcast.py [--db sqlite|postgres] [-n 10000] [--rate 300]

Starts the Telegram stand-in in this process, enforcing a global rate of RATE sends/s (a 429 with
retry_after beyond it), fills a fresh database with N customers on Telegram, starts `python webhook.py`
(sender + scheduler) with telegram.rate_global_per_s = RATE, then runs the owner's command
`flask --app webhook broadcast --segment all --kind notice --text … --yes` and waits until every
recipient has the message. Prints:
  - achieved rate = sends / (first send .. last send), and its share of RATE (target >= 95 %)
  - 429 answers from the stand-in (target 0), duplicates and missing recipients (target 0)
  - the server's resident memory (RSS) before, at its peak and after the run
  - how long the command took to materialise and enqueue, and to see the broadcast done
"""
from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.relay import AGENTS, SECRET, TOKEN, free_port, fresh_database, wait_until  # noqa: E402
from tests.standins.telegram_api import TelegramStandin  # noqa: E402

TEXT = "Bench notice: the shop opens at 10 tomorrow"


def environment(db_url: str, tg: TelegramStandin, rate: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    env.update({"BOT_DATABASE_URL": db_url, "BOT_TELEGRAM_TOKEN": TOKEN, "BOT_TELEGRAM_API_BASE_URL": tg.base_url,
                "BOT_TELEGRAM_WEBHOOK_SECRET": SECRET, "BOT_TELEGRAM_AGENTS_CHAT_ID": str(AGENTS),
                "BOT_TELEGRAM_RATE_GLOBAL_PER_S": str(rate), "BOT_APP_DEFAULT_LANGUAGE": "en",
                "BOT_SCHEDULER_ENABLED": "true", "PYTHONUNBUFFERED": "1"})
    return env


def fill(db_url: str, n: int) -> None:
    """The schema, and n customers each with a Telegram contact (ids 5,000,000 …)."""
    import config
    import db
    from db import migrations
    from db.models import Contact, Customer
    config.activate(config.load(environ={}, overrides={"database.url": db_url}))
    db.connect(db_url)
    migrations.upgrade()
    first = 5_000_000
    with db.write():
        for i in range(0, n, 1000):
            ids = range(first + i, first + min(n, i + 1000))
            Customer.insert_many([{"name": f"B{u}", "language": "en", "telegram_user_id": u} for u in ids]).execute()
        by_user = dict(Customer.select(Customer.telegram_user_id, Customer.id).tuples())
        rows = [{"customer": cid, "channel": "telegram", "address": str(uid)} for uid, cid in by_user.items()]
        for i in range(0, len(rows), 1000):
            Contact.insert_many(rows[i:i + 1000]).execute()
    db.connection.close_all()


def start_server(env: dict, log_path: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "webhook.py", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=open(log_path, "ab"), stderr=subprocess.STDOUT)

    def up():
        try:
            return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return proc.poll() is not None
    if not wait_until(up, timeout=30, interval=0.1) or proc.poll() is not None:
        proc.kill()
        raise SystemExit(f"webhook.py did not start; see {log_path}")
    return proc, port


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class RssSampler(threading.Thread):
    def __init__(self, pid: int, every_s: float = 0.25):
        super().__init__(daemon=True)
        self.pid, self.every_s, self.samples, self.stopping = pid, every_s, [], threading.Event()

    def run(self):
        while not self.stopping.wait(self.every_s):
            try:
                self.samples.append(rss_mb(self.pid))
            except OSError:
                return


def delivered(tg: TelegramStandin) -> list[dict]:
    return [m for m in tg.sent() if m["text"] and TEXT in m["text"]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("-n", type=int, default=10_000, help="recipients")
    ap.add_argument("--rate", type=int, default=300, help="Telegram's global limit, sends per second")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="khidmat-bench-")
    log_path = Path(tmp) / "webhook.log"
    tg = TelegramStandin(token=TOKEN).start()
    tg.enforce_rate(global_per_s=args.rate)
    db_url, drop_db = fresh_database(args.db, tmp)
    proc = None
    try:
        fill(db_url, args.n)
        env = environment(db_url, tg, args.rate)
        proc, _ = start_server(env, log_path)
        time.sleep(1)
        rss_before = rss_mb(proc.pid)
        sampler = RssSampler(proc.pid)
        sampler.start()
        started = time.time()
        command = subprocess.run([sys.executable, "-m", "flask", "--app", "webhook", "broadcast", "--segment", "all",
                                  "--kind", "notice", "--text", TEXT, "--yes"], cwd=ROOT, env=env,
                                 capture_output=True, text=True, timeout=3600)
        command_s = time.time() - started
        if command.returncode:
            raise SystemExit(f"the broadcast command failed:\n{command.stdout}\n{command.stderr}")
        wait_until(lambda: len(delivered(tg)) >= args.n, timeout=args.n / args.rate * 3 + 60, interval=0.2)
        time.sleep(2)   # anything sent twice would arrive now
        sampler.stopping.set()
        rss_after = rss_mb(proc.pid)
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        tg.stop()
        drop_db()

    sent = delivered(tg)
    per_chat = collections.Counter(m["chat_id"] for m in sent)
    times = sorted(m["time"] for m in sent)
    span = times[-1] - times[0] if len(times) > 1 else float("nan")
    rate = (len(times) - 1) / span if len(times) > 1 else 0.0
    ok = lambda good: "ok" if good else "MISSED"  # noqa: E731
    last_lines = [line for line in command.stdout.splitlines() if line.strip()][-3:]
    print(f"""
Khidmat broadcast benchmark
  cores              {os.cpu_count()}
  database           {args.db} ({db_url.split('?')[0]})
  server log         {log_path}
  recipients         {args.n} on Telegram, stand-in limit {args.rate}/s, telegram.rate_global_per_s = {args.rate}

  delivered          {len(sent)} messages to {len(per_chat)} chats
  missing            {args.n - len(per_chat):7d}          (target 0: {ok(len(per_chat) == args.n)})
  duplicates         {sum(c - 1 for c in per_chat.values()):7d}          (target 0: {ok(all(c == 1 for c in per_chat.values()))})
  429 answers        {tg.too_many:7d}          (target 0: {ok(tg.too_many == 0)})
  first .. last send {span:7.1f} s
  achieved rate      {rate:7.1f} /s  = {100 * rate / args.rate:.1f} % of {args.rate}/s (target >= 95 %: {ok(rate >= 0.95 * args.rate)})
  first send after   {times[0] - started:7.2f} s from the command's start
  command            {command_s:7.1f} s (enqueue {args.n} + watch until done); its last lines:
                     {chr(10).join('                     ' + l for l in last_lines).strip()}
  server RSS         {rss_before:.0f} MB before, {max(sampler.samples or [rss_before]):.0f} MB peak, {rss_after:.0f} MB after
""")


if __name__ == "__main__":
    main()
