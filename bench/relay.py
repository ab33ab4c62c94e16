"""Relay benchmark: how fast a customer's complaint reaches the agents' group through the real server.

    .venv/bin/python bench/relay.py [--db sqlite|postgres] [--server single|gunicorn] [--workers 2]
                                    [-n 300] [--burst 400] [--threads 16] [--forum] [--shipped-limits]

Starts the Telegram stand-in in this process and the bot as subprocesses pointed at it (fresh SQLite file
in a temp dir, or a fresh PostgreSQL schema in postgresql://postgres@127.0.0.1:5432/test), with the send
rates raised so that the bot's own speed is measured, not Telegram's limits. The bot runs as
  --server single     `python webhook.py`: waitress, inbox processor, sender in one process (the default)
  --server gunicorn   production on PostgreSQL: `gunicorn --workers 2 'webhook:create_app()'` (web
                      processes that only store) plus one `python worker.py` (inbox processor + sender,
                      woken through LISTEN/NOTIFY)
Then:

1. relay latency: after a warm-up, N complaints one at a time, each from a new customer; for each, the
   time from just before the webhook POST until the stand-in records the ticket card in the agents'
   group (matched by a unique token in the text).  Targets: median < 50 ms, p95 < 150 ms.
2. throughput: BURST complaints from BURST new customers, posted by THREADS client threads (one
   requests.Session each); accepted updates/s = BURST / (first POST start .. last response), non-2xx
   responses, and whether (and when) every card reached the group.  Target: >= 300 updates/s, 0 non-2xx.

With --forum the agents' group is a forum supergroup: each new customer's first message needs the
acknowledgement, a topic (createForumTopic) and the card in that topic. Then the latency run also prints, for
each of the three, the time from just before the POST until the stand-in got it.  Target: card median < 40 ms.

With --shipped-limits the bot keeps settings.toml's send rates (one message a second into a chat, 20 a minute
into a group) and the stand-in enforces Telegram's limits (429 with retry_after): the latency run then shows
what a shop sees at the limits it ships with: a new customer every 1.5 s (use a small -n, e.g. 8, and
--warmup 1: the group's minute holds 20 messages), and the throughput run is left out (it would measure the
limits, not the bot).

The load generator and the stand-in share the machine (and this process's GIL) with the server, so on
a small machine the figures are a lower bound of what the server alone can do.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.standins.telegram_api import TelegramStandin  # noqa: E402

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
TOKEN, SECRET, AGENTS = "123456:BENCH-token", "bench-secret", -1001234567890
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, timeout: float, interval: float = 0.001):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(interval)
    return None


class Cards:
    """Cards delivered to the agents' group, looked up by token; scans only what arrived since last time."""

    def __init__(self, tg: TelegramStandin):
        self.tg, self.seen, self.by_token, self.in_topic = tg, 0, {}, set()

    def refresh(self) -> None:
        with self.tg._lock:  # the stand-in's recording list, read without copying it all every poll
            new = self.tg._sent[self.seen :]
            self.seen += len(new)
        for m in new:
            if m["chat_id"] == str(AGENTS):
                for word in (m.get("text") or "").split():
                    if word.startswith("tok-"):
                        self.by_token[word] = m["time"]
                        if m.get("thread_id"):
                            self.in_topic.add(word)

    def time_of(self, token: str) -> float | None:
        self.refresh()
        return self.by_token.get(token)

    def all_of(self, tokens) -> bool:
        self.refresh()
        return all(t in self.by_token for t in tokens)


def complaint(tg: TelegramStandin, user_id: int, token: str) -> dict:
    return tg.incoming(
        user_id,
        f"My order has not arrived, please help {token}",
        user_id=user_id,
        first_name=f"C{user_id}",
        language_code="en",
    )


def pct(sorted_ms: list[float], p: float) -> float:
    return sorted_ms[min(len(sorted_ms) - 1, max(0, round(p / 100 * len(sorted_ms)) - 1))]


def first_after(tg: TelegramStandin, start: float, method: str | None = None, chat_id: str | None = None):
    """When the stand-in got a call of this method (or a message into this chat) after `start`."""
    with tg._lock:
        if method is not None:
            return next((c["time"] for c in reversed(tg.calls) if c["method"] == method and c["time"] >= start), None)
        return next((m["time"] for m in reversed(tg._sent) if m["chat_id"] == chat_id and m["time"] >= start), None)


def measure_latency(
    tg, cards, url, n: int, first_user: int, steps: dict | None = None, every: float = 0.0
) -> list[float]:
    """Card latencies (ms); with `steps`, also the acknowledgement's and the topic's, appended to its lists.
    With `every`, a new customer writes at most once in that many seconds."""
    session, out, start = requests.Session(), [], 0.0
    for i in range(n):
        if start and every:
            time.sleep(max(0.0, start + every - time.time()))
        token = f"tok-{uuid.uuid4().hex[:12]}"
        if steps is not None:
            steps.setdefault("tokens", []).append(token)
        update = complaint(tg, first_user + i, token)
        start = time.time()
        r = session.post(url, json=update, headers=HEADERS, timeout=10)
        r.raise_for_status()
        arrived = wait_until(lambda token=token: cards.time_of(token), timeout=10)
        if arrived is None:
            raise SystemExit(f"card {i} ({token}) never reached the group")
        out.append((arrived - start) * 1000)
        if steps is not None:
            chat = str(first_user + i)
            ack = wait_until(lambda start=start, chat=chat: first_after(tg, start, chat_id=chat), timeout=5)
            topic = first_after(tg, start, method="createForumTopic")
            steps["ack"].append(((ack or start) - start) * 1000)
            steps["topic"].append(((topic or start) - start) * 1000)
            steps["gap"].append((arrived - (topic or start)) * 1000)
    return out


def measure_burst(tg, cards, url, n: int, threads: int, first_user: int) -> dict:
    tokens = [f"tok-{uuid.uuid4().hex[:12]}" for _ in range(n)]
    updates = [complaint(tg, first_user + i, t) for i, t in enumerate(tokens)]
    chunks = [updates[k::threads] for k in range(threads)]
    statuses, ends, go = [], [], threading.Barrier(threads + 1)

    def client(chunk):
        session = requests.Session()
        go.wait()
        for update in chunk:
            try:
                statuses.append(session.post(url, json=update, headers=HEADERS, timeout=30).status_code)
            except requests.RequestException:
                statuses.append(0)
        ends.append(time.time())

    workers = [threading.Thread(target=client, args=(c,)) for c in chunks]
    for w in workers:
        w.start()
    start = time.time()
    go.wait()
    for w in workers:
        w.join()
    accepted_s = max(ends) - start
    all_there = wait_until(lambda: cards.all_of(tokens), timeout=60, interval=0.01)
    arrived = [cards.by_token[t] for t in tokens if t in cards.by_token]
    return {
        "rate": n / accepted_s,
        "wall": accepted_s,
        "non2xx": sum(not 200 <= s < 300 for s in statuses),
        "delivered": len(arrived),
        "all": bool(all_there),
        "last_card": (max(arrived) - start) if arrived else float("nan"),
    }


def fresh_database(kind: str, tmp: str):
    """(database url, cleanup function)."""
    if kind == "sqlite":
        return f"sqlite:///{tmp}/khidmat.db", lambda: None
    import psycopg2

    schema = f"bench_{uuid.uuid4().hex[:12]}"

    def run(sql):  # a short connection each time: a long idle one may not survive the run
        conn = psycopg2.connect(PG_URL)
        conn.autocommit = True
        try:
            conn.cursor().execute(sql)
        finally:
            conn.close()

    def drop():
        try:
            run(f"DROP SCHEMA {schema} CASCADE")
        except psycopg2.Error as exc:
            print(f"warning: could not drop schema {schema}: {exc}", file=sys.stderr)

    run(f"CREATE SCHEMA {schema}")
    return f"{PG_URL}?options=-csearch_path%3D{schema}", drop


def server_commands(server: str, port: int, workers: int) -> list[list[str]]:
    """The processes that make up the bot (all logging into one file)."""
    if server == "single":
        return [[sys.executable, "webhook.py", "--port", str(port)]]
    return [
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "webhook:create_app()",
        ],
        [sys.executable, "worker.py"],
    ]


RAISED_RATES = {
    "BOT_TELEGRAM_RATE_GLOBAL_PER_S": "100000",
    "BOT_TELEGRAM_RATE_CHAT_PER_S": "100000",
    "BOT_TELEGRAM_RATE_GROUP_PER_MIN": "10000000",
}


def start_server(
    server: str, workers: int, db_url: str, tg: TelegramStandin, log_path: Path, shipped_limits: bool = False
) -> tuple[list[subprocess.Popen], int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    env.update(
        {
            "BOT_DATABASE_URL": db_url,
            "BOT_TELEGRAM_TOKEN": TOKEN,
            "BOT_TELEGRAM_API_BASE_URL": tg.base_url,
            "BOT_TELEGRAM_WEBHOOK_SECRET": SECRET,
            "BOT_TELEGRAM_AGENTS_CHAT_ID": str(AGENTS),
            **({} if shipped_limits else RAISED_RATES),
            "BOT_APP_DEFAULT_LANGUAGE": "en",
            "BOT_SCHEDULER_ENABLED": "false",
            "PYTHONUNBUFFERED": "1",
        }
    )
    port = free_port()
    with open(log_path, "ab") as log_file:  # each server keeps its own copy of the descriptor
        procs = [
            subprocess.Popen(command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
            for command in server_commands(server, port, workers)
        ]

    def up():
        if any(proc.poll() is not None for proc in procs):
            return True  # one died: stop waiting
        if server == "gunicorn" and "now leads" not in log_path.read_text(errors="replace"):
            return False  # worker.py must lead (another one on this database would)
        try:
            return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    if not wait_until(up, timeout=30, interval=0.1) or any(proc.poll() is not None for proc in procs):
        stop_server(procs)
        raise SystemExit(f"the bot did not start ({server}); see {log_path}:\n{log_path.read_text()[-3000:]}")
    return procs, port


def stop_server(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument(
        "--server",
        choices=("single", "gunicorn"),
        default="single",
        help="single: python webhook.py; gunicorn: gunicorn web processes + python worker.py",
    )
    ap.add_argument("--workers", type=int, default=2, help="gunicorn web processes (--server gunicorn)")
    ap.add_argument("-n", type=int, default=300, help="complaints for the latency run")
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--burst", type=int, default=400, help="complaints for the throughput run")
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--forum", action="store_true", help="the agents' group is a forum: a topic per ticket")
    ap.add_argument(
        "--shipped-limits",
        action="store_true",
        help="keep settings.toml's send rates; the stand-in enforces Telegram's (no throughput run)",
    )
    args = ap.parse_args()
    if args.server == "gunicorn" and args.db != "postgres":
        ap.error("--server gunicorn runs several processes: it needs --db postgres")

    load_before = os.getloadavg()[0]
    tmp = tempfile.mkdtemp(prefix="khidmat-bench-")
    log_path = Path(tmp) / "server.log"
    tg = TelegramStandin(token=TOKEN).start()  # a plain group (topics get switched off once), or a forum
    if args.forum:
        tg.set_forum(AGENTS)
    if args.shipped_limits:
        tg.enforce_rate(global_per_s=30, chat_per_s=1, group_per_min=20)
    steps: dict[str, list] = {"ack": [], "topic": [], "gap": []}
    db_url, drop_db = fresh_database(args.db, tmp)
    procs = []
    try:
        procs, port = start_server(args.server, args.workers, db_url, tg, log_path, args.shipped_limits)
        url = f"http://127.0.0.1:{port}/telegram/webhook"
        cards = Cards(tg)
        measure_latency(tg, cards, url, args.warmup, first_user=1_000_000)
        every = 1.5 if args.shipped_limits else 0.0  # within one message a second into the group
        lat = sorted(measure_latency(tg, cards, url, args.n, first_user=2_000_000, steps=steps, every=every))
        burst = None if args.shipped_limits else measure_burst(tg, cards, url, args.burst, args.threads, 3_000_000)
    finally:
        stop_server(procs)
        tg.stop()
        drop_db()

    ok = lambda good: "ok" if good else "MISSED"  # noqa: E731
    server = (
        "python webhook.py (waitress + inbox processor + sender, one process)"
        if args.server == "single"
        else f"gunicorn --workers {args.workers} 'webhook:create_app()' + python worker.py"
    )
    med, p95 = statistics.median(lat), pct(lat, 95)
    forum = ""
    if args.forum:
        ack, topic, gap = sorted(steps["ack"]), sorted(steps["topic"]), sorted(steps["gap"])
        in_topic = sum(token in cards.in_topic for token in steps["tokens"])
        forum = f"""
   in a forum group, from just before the POST (median / p95):
  acknowledgement    {statistics.median(ack):7.1f} / {pct(ack, 95):.1f} ms
  topic created      {statistics.median(topic):7.1f} / {pct(topic, 95):.1f} ms
  card in the topic  {med:7.1f} / {p95:.1f} ms   (target median < 40 ms: {ok(med < 40)})
  topic -> card      {statistics.median(gap):7.1f} / {pct(gap, 95):.1f} ms
  cards in a topic   {in_topic:7d} / {len(lat)}
"""
    throughput = (
        f"""2. throughput: left out (--shipped-limits)
  429 answers        {tg.too_many:7d}           (target 0: {ok(tg.too_many == 0)})
"""
        if burst is None
        else f"""2. throughput, {args.burst} new customers from {args.threads} client threads
  accepted           {burst["rate"]:7.1f} updates/s   ({burst["wall"]:.2f} s; target >= 300: {ok(burst["rate"] >= 300)})
  non-2xx responses  {burst["non2xx"]:7d}           (target 0: {ok(burst["non2xx"] == 0)})
  cards in group     {burst["delivered"]:7d} / {args.burst}     (all within 60 s: {ok(burst["all"])})
  last card after    {burst["last_card"]:7.2f} s from the first POST
"""
    )
    limits = "settings.toml's, enforced by the stand-in" if args.shipped_limits else "raised (the bot's own speed)"
    print(f"""
Khidmat relay benchmark
  cores              {os.cpu_count()}   (1-min load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after)
  database           {args.db} ({db_url.split("?")[0]})
  server             {server}
  agents' group      {"a forum supergroup (a topic per ticket)" if args.forum else "a plain group"}
  send rates         {limits}
  server log         {log_path}

1. relay latency, webhook POST -> card in the agents' group ({len(lat)} complaints, one at a time,
   after {args.warmup} warm-up)
  median             {med:7.1f} ms   (target < 50 ms: {ok(med < 50)})
  p95                {p95:7.1f} ms   (target < 150 ms: {ok(p95 < 150)})
  p99                {pct(lat, 99):7.1f} ms
  max                {lat[-1]:7.1f} ms
  min                {lat[0]:7.1f} ms
{forum}
{throughput}""")


if __name__ == "__main__":
    main()
