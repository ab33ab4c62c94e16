"""Broadcast benchmark: 10,000 recipients at the platform's limit — Telegram at a paid-broadcast-like 300
messages/s, or Twilio (WhatsApp or SMS) at the sender's configured rate.

    .venv/bin/python bench/broadcast.py [--channel telegram|whatsapp|sms] [--db sqlite|postgres] [-n 10000]
                                        [--rate 300]

Starts the platform's stand-in in this process, enforcing a global rate of RATE sends/s over a sliding second
(a 429 beyond it: Telegram's retry_after, Twilio's 20429), fills a fresh database with N customers on the
channel (WhatsApp ones inside the 24-hour window), starts `python webhook.py` (sender + scheduler) with the
channel's rate setting = RATE, then runs the owner's command
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
from tests.standins.twilio_api import TwilioStandin  # noqa: E402

TEXT = "Bench notice: the shop opens at 10 tomorrow"


def environment(db_url: str, tg: TelegramStandin, tw: TwilioStandin, channel: str, rate: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    env.update(
        {
            "BOT_DATABASE_URL": db_url,
            "BOT_TELEGRAM_TOKEN": TOKEN,
            "BOT_TELEGRAM_API_BASE_URL": tg.base_url,
            "BOT_TELEGRAM_WEBHOOK_SECRET": SECRET,
            "BOT_TELEGRAM_AGENTS_CHAT_ID": str(AGENTS),
            "BOT_TWILIO_ACCOUNT_SID": tw.account_sid,
            "BOT_TWILIO_AUTH_TOKEN": tw.auth_token,
            "BOT_TWILIO_API_BASE_URL": tw.base_url,
            "BOT_TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886",
            "BOT_TWILIO_SMS_FROM": "+15005550006",
            "BOT_APP_DEFAULT_LANGUAGE": "en",
            "BOT_SCHEDULER_ENABLED": "true",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env[RATE_SETTING[channel]] = str(rate)
    return env


RATE_SETTING = {
    "telegram": "BOT_TELEGRAM_RATE_GLOBAL_PER_S",
    "whatsapp": "BOT_TWILIO_RATE_WHATSAPP_PER_S",
    "sms": "BOT_TWILIO_RATE_SMS_PER_S",
}


def address(channel: str, i: int) -> str:
    """Recipient i's address on the channel (Telegram chat ids 5,000,000 …; numbers +92300 5000000 …)."""
    if channel == "telegram":
        return str(5_000_000 + i)
    number = f"+923005{i:06d}"
    return f"whatsapp:{number}" if channel == "whatsapp" else number


def fill(db_url: str, n: int, channel: str) -> None:
    """The schema, and n customers each with one contact on the channel (WhatsApp: wrote an hour ago)."""
    import datetime as dt

    import config
    import db
    from db import migrations
    from db.models import Contact, Customer

    config.activate(config.load(environ={}, overrides={"database.url": db_url}))
    db.connect(db_url)
    migrations.upgrade()
    wrote = dt.datetime.utcnow() - dt.timedelta(hours=1)
    with db.write():
        for start in range(0, n, 1000):
            batch = range(start, min(n, start + 1000))
            Customer.insert_many(
                [
                    {
                        "name": f"B{i}",
                        "language": "en",
                        "telegram_user_id": 5_000_000 + i if channel == "telegram" else None,
                        "phone": None if channel == "telegram" else f"+923005{i:06d}",
                    }
                    for i in batch
                ]
            ).execute()
        ids = [cid for (cid,) in Customer.select(Customer.id).order_by(Customer.id).tuples()]
        rows = [
            {"customer": cid, "channel": channel, "address": address(channel, i), "last_inbound_at": wrote}
            for i, cid in enumerate(ids)
        ]
        for start in range(0, len(rows), 1000):
            Contact.insert_many(rows[start : start + 1000]).execute()
    db.connection.close_all()


def start_server(env: dict, log_path: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    with open(log_path, "ab") as log_file:  # the server keeps its own copy of the descriptor
        proc = subprocess.Popen(
            [sys.executable, "webhook.py", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )

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


def delivered(tg: TelegramStandin, tw: TwilioStandin, channel: str) -> list[dict]:
    """Every copy of the broadcast the platform accepted: {to, time}."""
    if channel == "telegram":
        return [{"to": m["chat_id"], "time": m["time"]} for m in tg.sent() if m["text"] and TEXT in m["text"]]
    return [{"to": m["to"], "time": m["time"]} for m in tw.sent() if TEXT in (m.get("body") or "")]


def tenths(samples: list[float]) -> list[float]:
    """The samples at each tenth of the run: flat memory shows as a flat row."""
    if not samples:
        return []
    return [samples[min(len(samples) - 1, len(samples) * i // 10)] for i in range(11)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--channel", choices=("telegram", "whatsapp", "sms"), default="telegram")
    ap.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("-n", type=int, default=10_000, help="recipients")
    ap.add_argument("--rate", type=int, default=300, help="the platform's limit (the channel's rate setting), sends/s")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="khidmat-bench-")
    log_path = Path(tmp) / "webhook.log"
    tg = TelegramStandin(token=TOKEN).start()
    tw = TwilioStandin().start()
    if args.channel == "telegram":
        tg.enforce_rate(global_per_s=args.rate)
    else:
        tw.enforce_rate(args.rate)
    db_url, drop_db = fresh_database(args.db, tmp)
    proc = None
    try:
        fill(db_url, args.n, args.channel)
        env = environment(db_url, tg, tw, args.channel, args.rate)
        proc, _ = start_server(env, log_path)
        time.sleep(1)
        rss_before = rss_mb(proc.pid)
        sampler = RssSampler(proc.pid)
        sampler.start()
        started = time.time()
        command = subprocess.run(
            [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "webhook",
                "broadcast",
                "--segment",
                "all",
                "--kind",
                "notice",
                "--text",
                TEXT,
                "--yes",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=3600,
        )
        command_s = time.time() - started
        if command.returncode:
            raise SystemExit(f"the broadcast command failed:\n{command.stdout}\n{command.stderr}")
        # poll a counter: copying the stand-in's growing list of messages under its lock every 0.2 s would
        # stall it (and so bunch the requests it answers) — a stall the real platform does not have
        platform = tg if args.channel == "telegram" else tw
        wait_until(lambda: platform.sent_count() >= args.n, timeout=args.n / args.rate * 3 + 60, interval=0.2)
        time.sleep(2)  # anything sent twice would arrive now
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
        tw.stop()
        drop_db()

    sent = delivered(tg, tw, args.channel)
    per_chat = collections.Counter(m["to"] for m in sent)
    too_many = tg.too_many if args.channel == "telegram" else tw.too_many
    times = sorted(m["time"] for m in sent)
    span = times[-1] - times[0] if len(times) > 1 else float("nan")
    rate = (len(times) - 1) / span if len(times) > 1 else 0.0
    per_second = collections.Counter(int(t - times[0]) for t in times) if times else collections.Counter()
    steady = [per_second[i] for i in range(1, int(span))] if times and span > 2 else [0]
    ok = lambda good: "ok" if good else "MISSED"  # noqa: E731
    last_lines = [line for line in command.stdout.splitlines() if line.strip()][-3:]
    setting = RATE_SETTING[args.channel]
    duplicates = sum(c - 1 for c in per_chat.values())
    no_duplicates = ok(all(c == 1 for c in per_chat.values()))
    share = 100 * rate / args.rate
    median = sorted(steady)[len(steady) // 2]
    peak_rss = max(sampler.samples or [rss_before])
    print(f"""
Khidmat broadcast benchmark
  cores              {os.cpu_count()}
  database           {args.db} ({db_url.split("?")[0]})
  server log         {log_path}
  recipients         {args.n} on {args.channel}, stand-in limit {args.rate}/s, {setting} = {args.rate}

  delivered          {len(sent)} messages to {len(per_chat)} chats
  missing            {args.n - len(per_chat):7d}          (target 0: {ok(len(per_chat) == args.n)})
  duplicates         {duplicates:7d}          (target 0: {no_duplicates})
  429 answers        {too_many:7d}          (target 0: {ok(too_many == 0)})
  first .. last send {span:7.1f} s
  achieved rate      {rate:7.1f} /s  = {share:.1f} % of {args.rate}/s (target >= 95 %: {ok(rate >= 0.95 * args.rate)})
  sends per second   min {min(steady)} · median {median} · max {max(steady)} (whole seconds after the first)
                     second by second: {" ".join(str(per_second[i]) for i in range(int(span) + 1))}
  first send after   {times[0] - started:7.2f} s from the command's start
  command            {command_s:7.1f} s (enqueue {args.n} + watch until done); its last lines:
                     {chr(10).join("                     " + line for line in last_lines).strip()}
  server RSS         {rss_before:.0f} MB before, {peak_rss:.0f} MB peak, {rss_after:.0f} MB after
                     over the run (each tenth): {" ".join(f"{x:.0f}" for x in tenths(sampler.samples))} MB
""")


if __name__ == "__main__":
    main()
