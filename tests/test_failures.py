"""Failures survived (issue 6): the platforms answering 5xx or hanging for a while, and PostgreSQL restarted
under load. Nothing accepted is lost, nothing is sent twice, and once a platform is back the customers'
messages (agents' replies first of all) go before the backlog of bulk messages.

The PostgreSQL restart test runs `python webhook.py` on a PostgreSQL server of its own (initdb in a temporary
folder, started and restarted with pg_ctl), so the restart cuts no other test's sessions and nobody waits for it.

The issue asks for outages of a minute. The tests default to OUTAGE_S = 10 seconds so that the suite
stays quick; run them with KHIDMAT_OUTAGE_S=60 for the full minute:

    KHIDMAT_OUTAGE_S=60 .venv/bin/pytest -p no:cacheprovider tests/test_failures.py
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
import requests

import db
import outbox
from db.models import Outbox
from tests.helpers import AGENTS, ROOT, SECRET, TOKEN, eventually, free_port, healthy, quiet

OUTAGE_S = float(os.environ.get("KHIDMAT_OUTAGE_S", "10"))  # the issue says a minute: KHIDMAT_OUTAGE_S=60
TIMEOUT_S = 1  # the bot's telegram.timeout_s / twilio.timeout_s in these tests
MAX_BACKOFF_S = 2  # sender.max_backoff_s (60 in production): longer than the drain of a few
# messages, so that backoffs ending in random order would show in the order of arrival
HANG_S = 3  # a hanging platform answers this late: longer than the bot waits
BULK = 60  # bulk messages (PRIORITY_BULK) waiting when the platform comes back
COMPLAINTS = 8  # customers who write while the platform is away
RATE = 20  # the platform's pace in these tests (messages/s), so the order of sending shows
CLIENTS = 4  # client threads posting complaints while PostgreSQL restarts (each every 50 ms)
BULK_BEFORE_REPLY = 3  # bulk messages allowed to arrive before the customers' messages once the platform
# is back: the one send that found it back, and sends already started (timing)


def outage_settings(**more):
    return {
        "telegram.timeout_s": TIMEOUT_S,
        "twilio.timeout_s": TIMEOUT_S,
        "sender.retry_for_s": OUTAGE_S + 600,
        "sender.max_backoff_s": MAX_BACKOFF_S,
        **more,
    }


class Outage:
    """The platform stand-in away: answering 5xx at once ("5xx"), or hanging longer than the bot's
    timeout before answering 5xx ("timeout": the request never reaches the platform's business, so a
    timed-out send was not delivered and may be sent again without a duplicate)."""

    def __init__(self, standin, mode: str, platform: str):
        self.standin, self.mode, self.platform = standin, mode, platform

    def begin(self):
        if self.mode == "timeout":
            self.standin.set_delay(HANG_S)
        self.standin.set_down(503 if self.platform == "twilio" else 502)

    def end(self):
        if self.mode == "timeout":
            # requests already hanging must finish (refused) before the platform accepts again: a
            # request that hung past the bot's timeout and was then accepted would be a true duplicate
            self.standin.set_delay(0)
            eventually(
                lambda: self.standin.answering == 0,
                timeout=HANG_S + 10,
                interval=0.01,
                what="the requests hanging at the platform to be refused",
            )
        if self.platform == "twilio":
            self.standin.set_down(None)
        else:
            self.standin.set_up()


def enqueue_bulk(channel: str, addresses: list[str]) -> None:
    with db.write():
        for i, address in enumerate(addresses):
            outbox.enqueue(
                channel, address, purpose="broadcast", text=f"Eid offer {i:03d}: 20% off", priority=outbox.PRIORITY_BULK
            )
    db.connection.release()


def no_failed_rows():
    try:
        return list(Outbox.select().where(Outbox.status.not_in(["pending", "sent"])).dicts())
    finally:
        db.connection.release()


def bulk_before(arrivals: list[dict], is_bulk, is_customer) -> int:
    """How many bulk messages arrived before the last customer-bound (priority) message."""
    last = max(i for i, m in enumerate(arrivals) if is_customer(m))
    return sum(1 for m in arrivals[:last] if is_bulk(m))


# ---- Telegram away ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["5xx", "timeout"])
def test_telegram_away_backlog_waits_then_drains_once_replies_first(make_khidmat, tg_api, mode):
    k = make_khidmat(**outage_settings(**{"telegram.rate_global_per_s": RATE}))
    k.tg_message(21, "my parcel is late", first_name="Ali")
    card = k.wait_group(lambda t: "my parcel is late" in t)[0]
    k.wait_chat(21)

    outage = Outage(tg_api, mode, "telegram")
    outage.begin()
    began, delivered_before = time.monotonic(), len(tg_api.sent())
    bulk_chats = [str(7000 + i) for i in range(BULK)]
    enqueue_bulk("telegram", bulk_chats)
    tokens = {}
    for i in range(COMPLAINTS):
        tokens[100 + i] = f"tok-{uuid.uuid4().hex[:10]}"
        assert (
            k.tg_message(100 + i, f"complaint while Telegram is away {tokens[100 + i]}", first_name=f"C{i}").status_code
            == 200
        )
    assert k.agent_message("Sorry Ali, it ships today", reply_to=card["message_id"]).status_code == 200
    time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - began)))

    # the backlog waited: nothing delivered, nothing given up, and the bot kept trying
    assert len(tg_api.sent()) == delivered_before
    assert tg_api.errors > 0
    assert no_failed_rows() == []
    outage.end()
    back = len(tg_api.sent())

    def everything_there():
        sent = tg_api.sent()
        return (
            len({m["chat_id"] for m in sent if m["chat_id"] in bulk_chats}) == BULK
            and all(
                any(tok in (m["text"] or "") for m in sent if m["chat_id"] == str(AGENTS)) for tok in tokens.values()
            )
            and all(tg_api.sent(chat_id=user) for user in tokens)
            and any("ships today" in (m["text"] or "") for m in tg_api.sent(chat_id=21))
        )

    eventually(everything_there, timeout=30 + BULK / RATE * 3, interval=0.1, what="the backlog to drain")
    quiet(k)

    # nothing lost, nothing twice
    sent = tg_api.sent()
    per_bulk_chat = Counter(m["chat_id"] for m in sent if m["chat_id"] in bulk_chats)
    assert set(per_bulk_chat.values()) == {1}, per_bulk_chat.most_common(3)
    group_texts = [m["text"] or "" for m in sent if m["chat_id"] == str(AGENTS)]
    for user, tok in tokens.items():
        assert sum(tok in t for t in group_texts) == 1, (user, tok)
        assert len(tg_api.sent(chat_id=user)) == 1, user  # one acknowledgement each
    assert sum("ships today" in (m["text"] or "") for m in tg_api.sent(chat_id=21)) == 1
    assert no_failed_rows() == []

    # once back, the customers' messages (the agent's reply, the acknowledgements) go before the bulk
    arrivals = sent[back:]
    assert len(arrivals) >= BULK + 2 * COMPLAINTS + 1
    is_bulk = lambda m: m["chat_id"] in bulk_chats  # noqa: E731
    is_customer = lambda m: m["chat_id"] == "21" or int(m["chat_id"]) in tokens  # noqa: E731
    assert bulk_before(arrivals, is_bulk, is_customer) <= BULK_BEFORE_REPLY, [
        (m["chat_id"], (m["text"] or "")[:30]) for m in arrivals[:30]
    ]


# ---- Twilio away ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["5xx", "timeout"])
def test_twilio_away_backlog_waits_then_drains_once_replies_first(make_khidmat, twilio_api, mode):
    k = make_khidmat(**outage_settings(**{"twilio.rate_whatsapp_per_s": RATE, "twilio.rate_sms_per_s": RATE}))
    number = "+923001234567"
    k.whatsapp(number, "my parcel is late", profile_name="Ali")
    card = k.wait_group(lambda t: "my parcel is late" in t)[0]
    k.wait_twilio(f"whatsapp:{number}")

    outage = Outage(twilio_api, mode, "twilio")
    outage.begin()
    began, delivered_before = time.monotonic(), len(twilio_api.sent())
    bulk_numbers = [f"+92345{i:07d}" for i in range(BULK)]
    enqueue_bulk("whatsapp", bulk_numbers)
    writers = {f"+92311{i:07d}": f"tok-{uuid.uuid4().hex[:10]}" for i in range(COMPLAINTS)}
    for i, (writer, tok) in enumerate(writers.items()):
        send = k.whatsapp if i % 2 == 0 else k.sms
        assert send(writer, f"complaint while Twilio is away {tok}").status_code == 200
    # the agents' group is on Telegram, which is fine: the cards arrive during the outage
    eventually(
        lambda: all(any(tok in t for t in k.group_texts()) for tok in writers.values()),
        timeout=10,
        what="the cards of the complaints written while Twilio is away",
    )
    assert k.agent_message("Sorry Ali, it ships today", reply_to=card["message_id"]).status_code == 200
    time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - began)))

    assert len(twilio_api.sent()) == delivered_before
    assert twilio_api.requests > delivered_before
    assert no_failed_rows() == []
    outage.end()
    back = len(twilio_api.sent())

    def address(m):
        return m["to"].removeprefix("whatsapp:")

    def everything_there():
        sent = twilio_api.sent()
        return (
            len({address(m) for m in sent if address(m) in bulk_numbers}) == BULK
            and all(any(address(m) == w for m in sent) for w in writers)
            and any("ships today" in (m["body"] or "") for m in sent)
        )

    eventually(everything_there, timeout=30 + BULK / RATE * 3, interval=0.1, what="the backlog to drain")
    quiet(k)

    sent = twilio_api.sent()
    per_address = Counter(address(m) for m in sent)
    assert all(per_address[n] == 1 for n in bulk_numbers), per_address.most_common(3)
    assert all(per_address[w] == 1 for w in writers), per_address.most_common(3)  # one acknowledgement each
    assert sum("ships today" in (m["body"] or "") for m in sent) == 1
    group_texts = k.group_texts()
    assert all(sum(tok in t for t in group_texts) == 1 for tok in writers.values())
    assert no_failed_rows() == []

    arrivals = sent[back:]
    is_bulk = lambda m: address(m) in bulk_numbers  # noqa: E731
    is_customer = lambda m: m["to"].startswith("whatsapp:") and (address(m) == number or address(m) in writers)  # noqa: E731
    assert bulk_before(arrivals, is_bulk, is_customer) <= BULK_BEFORE_REPLY, [
        (m["to"], (m["body"] or "")[:30]) for m in arrivals[:30]
    ]


# ---- PostgreSQL restarted under load ----------------------------------------------------------------


def postgres_binaries() -> Path | None:
    """The server's programs (initdb, pg_ctl) of the newest PostgreSQL installed here, or None."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda p: [int(x) for x in p.parts[-3].split(".") if x.isdigit()],
    )
    return found[-1].parent if found else None


class PrivatePostgres:
    """A PostgreSQL cluster of this test's own (initdb in a temporary folder, on a free loopback port), which the
    test restarts as the shop's would be restarted; the shared server the other tests use is never touched.
    The server refuses to run as root, so as root it runs as the `postgres` user."""

    def __init__(self):
        self.bin = postgres_binaries()
        self.dir = Path(tempfile.mkdtemp(prefix="khidmat-pg-"))
        self.port = free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.dir, "postgres", "postgres")

    def ctl(self, *args: str, timeout: float = 120) -> None:
        subprocess.run(
            [*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), *args],
            check=True,
            capture_output=True,
            timeout=timeout,
        )

    def start(self) -> str:
        subprocess.run(
            [*self.as_user, str(self.bin / "initdb"), "-D", str(self.dir / "data"), "-A", "trust", "-U", "postgres"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.ctl("-o", options, "-l", str(self.dir / "server.log"), "-w", "start")
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def restart(self) -> float:
        """Restart the server (pg_ctl returns once it accepts connections again); the seconds it took."""
        started = time.monotonic()
        self.ctl("-m", "fast", "-l", str(self.dir / "server.log"), "-w", "restart")  # -l: or the new server
        # would write to (and hold open) the pipe this process reads pg_ctl's output from
        return time.monotonic() - started

    def stop(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError):
            self.ctl("-m", "immediate", "stop", timeout=30)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def restartable_pg():
    """The URL of a private PostgreSQL server (see PrivatePostgres) that this test may restart."""
    if postgres_binaries() is None or (shutil.which("runuser") is None and os.geteuid() == 0):
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL's server programs (/usr/lib/postgresql/*/bin) are not installed")
        pytest.skip("PostgreSQL's server programs are not installed: cannot run a private server")
    server = PrivatePostgres()
    try:
        url = server.start()
        yield server, url
    finally:
        server.stop()


class Complainer(threading.Thread):
    """A steady stream of complaints (a new customer each) posted to /telegram/webhook, as Telegram
    would: an update answered anything but 200 is delivered again a little later, until it gets 200."""

    def __init__(self, tg, url: str, first_user: int, every_s: float = 0.05, redeliver_after_s: float = 0.3):
        super().__init__(name="complainer", daemon=True)
        self.tg, self.url, self.first_user = tg, url, first_user
        self.every_s, self.redeliver_after_s = every_s, redeliver_after_s
        self.stop_new = threading.Event()
        self.answers: list[tuple[float, str, object]] = []  # (monotonic time sent, token, status or error)
        self.tokens: dict[str, int] = {}  # token → customer (Telegram user id)
        self.accepted: set[str] = set()

    def run(self):
        session, again, n = requests.Session(), [], 0
        while True:
            now = time.monotonic()
            if again and again[0][0] <= now:
                _, token, update = again.pop(0)
            elif not self.stop_new.is_set():
                n += 1
                user, token = self.first_user + n, f"tok-{uuid.uuid4().hex[:10]}"
                update = self.tg.incoming(
                    user,
                    f"complaint {n} while the database restarts {token}",
                    user_id=user,
                    first_name=f"C{n}",
                    language_code="en",
                )
                self.tokens[token] = user
            elif again:
                time.sleep(0.02)
                continue
            else:
                return
            sent_at = time.monotonic()
            try:
                status = session.post(
                    self.url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}, timeout=20
                ).status_code
            except requests.RequestException as exc:
                status = repr(exc)
            self.answers.append((sent_at, token, status))
            if status == 200:
                self.accepted.add(token)
            else:
                again.append((time.monotonic() + self.redeliver_after_s, token, update))
            time.sleep(self.every_s)


@pytest.mark.parametrize("database", ["postgres"])
def test_postgresql_restart_under_load_recovers_by_itself(database, restartable_pg, tg_api, tmp_path):
    server, pg_url = restartable_pg
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    env.update(
        {
            "BOT_DATABASE_URL": pg_url,
            "BOT_TELEGRAM_TOKEN": TOKEN,
            "BOT_TELEGRAM_API_BASE_URL": tg_api.base_url,
            "BOT_TELEGRAM_WEBHOOK_SECRET": SECRET,
            "BOT_TELEGRAM_AGENTS_CHAT_ID": str(AGENTS),
            "BOT_TELEGRAM_RATE_GLOBAL_PER_S": "1000",
            "BOT_TELEGRAM_RATE_CHAT_PER_S": "1000",
            "BOT_TELEGRAM_RATE_GROUP_PER_MIN": "1000000",
            "BOT_SENDER_POLL_S": "1",
            "BOT_SCHEDULER_ENABLED": "false",
            "PYTHONUNBUFFERED": "1",
        }
    )
    port, log_path = free_port(), tmp_path / "webhook.log"
    with open(log_path, "wb") as log_file:  # the server keeps its own copy of the descriptor
        proc = subprocess.Popen(
            [sys.executable, "webhook.py", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    clients = [
        Complainer(tg_api, f"http://127.0.0.1:{port}/telegram/webhook", first_user=100_000 * (1 + i))
        for i in range(CLIENTS)
    ]
    try:
        eventually(lambda: healthy(port) or proc.poll() is not None, timeout=30, what="webhook.py to answer /healthz")
        assert proc.poll() is None, log_path.read_text()[-3000:]
        for client in clients:
            client.start()
        eventually(lambda: len(tg_api.sent(chat_id=AGENTS)) >= 20, timeout=20, what="cards before the restart")
        restart_began = time.monotonic()
        restart_s = server.restart()
        back_at = time.monotonic()  # pg_ctl -w returns once the server accepts connections again
        time.sleep(3)  # the stream goes on after PostgreSQL is back
        for client in clients:
            client.stop_new.set()
        for client in clients:
            client.join(120)
            assert not client.is_alive(), "some complaint never got a 200"
        log = lambda: log_path.read_text(errors="replace")[-3000:]  # noqa: E731
        answers = sorted(a for client in clients for a in client.answers)
        tokens = {tok: user for client in clients for tok, user in client.tokens.items()}

        statuses = Counter(status for _, _, status in answers)
        assert set(statuses) <= {200, 503}, (statuses, log())  # never a 500, never a refused connection
        assert statuses[503] > 0, f"PostgreSQL was not away while complaints came in ({statuses})"
        late = [(round(t - back_at, 2), s) for t, _, s in answers if s != 200 and t > back_at + 0.5]
        assert proc.poll() is None, "webhook.py died"
        assert all(client.accepted == set(client.tokens) for client in clients)

        # every accepted complaint reaches the agents' group exactly once, and its customer one answer
        def all_cards():
            texts = [m["text"] or "" for m in tg_api.sent(chat_id=AGENTS)]
            found = Counter(word for t in texts for word in t.split() if word in tokens)
            return found if len(found) == len(tokens) else None

        eventually(all_cards, timeout=60, interval=0.2, what=f"every card after the restart ({len(tokens)} complaints)")
        db.connect(pg_url)  # once the inbox and the outbox are idle, nothing more is on its way
        try:
            quiet()
        finally:
            db.connection.close_all()
        cards = all_cards()
        assert set(cards.values()) == {1}, cards.most_common(3)
        acks = Counter(int(m["chat_id"]) for m in tg_api.sent() if m["chat_id"] != str(AGENTS))
        assert all(acks[user] == 1 for user in tokens.values()), acks.most_common(3)
        assert not [t for t in (m["text"] or "" for m in tg_api.sent(chat_id=AGENTS)) if "could not be processed" in t]
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
        refused = [t for t, _, s in answers if s == 503]
        print(
            f"PostgreSQL restart took {restart_s:.1f}s; {len(tokens)} complaints, answers {dict(statuses)}, "
            f"503s from {refused[0] - restart_began:.1f}s to {refused[-1] - restart_began:.1f}s after the restart began"
        )
        assert late == [], f"503s after PostgreSQL was back (s after): {late}"
    finally:
        for client in clients:
            client.stop_new.set()
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
