"""Test fixtures: a real Khidmat (Flask app on a real HTTP server, the sender thread) on SQLite or
PostgreSQL, talking to stand-in Telegram and Twilio API servers on loopback."""
from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import socket
import threading
import time
import uuid

import pytest
import requests
import waitress

import config
import db
from handlers import inbound
from handlers.core import clock
import outbox
from tests.standins.telegram_api import TelegramStandin
from tests.standins.twilio_api import TwilioStandin, inbound_form, sign

PG_URL = os.environ.get("KHIDMAT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
AGENTS = -1001234567890
SECRET = "s3cret-webhook-token"
TOKEN = "123456:TEST-token-abcdef"
SID = "AC" + "0" * 31 + "1"
AUTH = "twilio-auth-token-123"
WA_FROM = "whatsapp:+14155238886"
SMS_FROM = "+14155550100"


def postgres_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def eventually(check, timeout=5.0, interval=0.02, what="condition"):
    """Poll check() until it returns something truthy; fail with what it last returned."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}; last saw: {last!r}")


def open_ticket(k, user_id=21, text="the blender I got is broken", **kw):
    """A Telegram customer's complaint: its card in the agents' group (once the acknowledgement went out)."""
    k.tg_message(user_id, text, **kw)
    card = k.wait_group(lambda t: text in t)[0]
    k.wait_chat(user_id)
    return card


def answer(k, predicate, what="the bot's answer in the group"):
    """The text of the newest group message that matches."""
    return k.wait_group(predicate, what=what)[-1]["text"]


OPEN_HOURS = dt.datetime(2026, 11, 25, 7, 0)     # a Wednesday, 12:00 in Karachi: the shop is open


@pytest.fixture(autouse=True)
def shop_is_open():
    """Tests run at a fixed moment inside business hours unless they travel elsewhere themselves."""
    clock.travel_to(OPEN_HOURS)
    yield
    clock.reset()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/khidmat.db"
        return
    yield from _fresh_postgres_schema()


@pytest.fixture
def pg_url():
    """PostgreSQL only (features SQLite does not have, like leader election)."""
    yield from _fresh_postgres_schema()


def _fresh_postgres_schema():
    if not postgres_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432 — in CI a skipped PostgreSQL run is a failure")
        pytest.skip("PostgreSQL not reachable")
    import psycopg2
    schema = f"t_{uuid.uuid4().hex[:12]}"
    conn = psycopg2.connect(PG_URL)
    conn.autocommit = True
    conn.cursor().execute(f"CREATE SCHEMA {schema}")
    yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    conn.cursor().execute(f"DROP SCHEMA {schema} CASCADE")
    conn.close()


@pytest.fixture
def tg_api():
    api = TelegramStandin(token=TOKEN).start()
    yield api
    api.stop()


@pytest.fixture
def twilio_api():
    api = TwilioStandin(account_sid=SID, auth_token=AUTH).start()
    yield api
    api.stop()


def make_settings(db_url, tg_api=None, twilio_api=None, **overrides):
    base = {
        "database.url": db_url,
        "app.public_url": "https://shop.example.com",
        "app.default_language": "en",
        "telegram.token": TOKEN if tg_api else "",
        "telegram.api_base_url": tg_api.base_url if tg_api else "http://127.0.0.1:9",
        "telegram.webhook_secret": SECRET,
        "telegram.agents_chat_id": AGENTS,
        "telegram.rate_group_per_min": 6000,
        "telegram.rate_chat_per_s": 100,
        "telegram.rate_global_per_s": 1000,
        "telegram.timeout_s": 3,
        "twilio.account_sid": SID if twilio_api else "",
        "twilio.auth_token": AUTH,
        "twilio.api_base_url": twilio_api.base_url if twilio_api else "http://127.0.0.1:9",
        "twilio.whatsapp_from": WA_FROM,
        "twilio.sms_from": SMS_FROM,
        "twilio.rate_sms_per_s": 100,
        "twilio.rate_whatsapp_per_s": 100,
        "twilio.timeout_s": 3,
        "sender.retry_for_s": 30,
        "sender.max_backoff_s": 0.5,
        "sender.poll_s": 0.5,
        "sender.merge_interval_s": 0.2,
        "scheduler.enabled": False,
    }
    base.update(overrides)
    return config.load(environ={}, overrides=base)


class Khidmat:
    """A running Khidmat and the ways a test talks to it: as Telegram, as Twilio, as a person."""
    sids = itertools.count(1)

    def __init__(self, settings, tg_api, twilio_api, start_sender=True):
        from webhook import create_app
        import runtime
        self.settings = settings
        self.tg, self.twilio = tg_api, twilio_api
        self.app = create_app(settings)
        self.server = waitress.create_server(self.app, host="127.0.0.1", port=0, threads=8)
        self.url = f"http://127.0.0.1:{self.server.effective_port}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        self.sender = runtime.start_sender(settings) if start_sender else None
        self.scheduler = None
        if settings["scheduler"]["enabled"]:      # off unless a test turns it on (scheduler.enabled)
            from runtime import scheduler
            self.scheduler = scheduler.start(settings)
        self.http = requests.Session()

    def _serve(self):
        try:
            self.server.run()
        except OSError:      # closed under its feet at the end of the test
            pass

    def close(self):
        if self.scheduler:
            self.scheduler.shutdown(wait=True)   # a job still running finishes before the database goes
        if self.sender:
            import runtime
            runtime.stop_sender(self.sender)
        self.server.close()
        outbox._listeners.clear()
        inbound._listeners.clear()
        db.connection.close_all()

    # -- as Telegram
    def post_update(self, update: dict, secret=SECRET):
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        return self.http.post(f"{self.url}/telegram/webhook", json=update, headers=headers, timeout=10)

    def tg_message(self, user_id: int, text: str | None = None, first_name="Ali", language_code="en",
                   username=None, update_id=None, **fields):
        """A customer writes to the bot in a private chat."""
        update = self.tg.incoming(user_id, text, user_id=user_id, first_name=first_name, username=username,
                                  language_code=language_code, **fields)
        if update_id is not None:
            update["update_id"] = update_id
        self.last_update = update
        return self.post_update(update)

    def agent_message(self, text: str | None, reply_to: int | None = None, thread_id: int | None = None,
                      agent_id=5001, first_name="Sara", chat_id=AGENTS, **fields):
        """An agent writes in the agents' group: as a reply to a bot message, or inside a topic."""
        update = self.tg.incoming(chat_id, text, user_id=agent_id, first_name=first_name, thread_id=thread_id,
                                  reply_to=reply_to, **fields)
        self.last_update = update
        return self.post_update(update)

    # -- as Twilio
    def post_twilio(self, form: dict, path="/twilio/inbound", signature=None):
        url = self.settings["app"]["public_url"] + path
        sig = sign(AUTH, url, form) if signature is None else signature
        return self.http.post(f"{self.url}{path}", data=form, headers={"X-Twilio-Signature": sig}, timeout=10)

    def sms(self, number: str, body: str, **kw):
        return self.post_twilio(inbound_form(number, body, SMS_FROM, sid=kw.pop("sid", None) or self.sid(), **kw))

    def whatsapp(self, number: str, body: str, profile_name="Ali", **kw):
        return self.post_twilio(inbound_form(f"whatsapp:{number}", body, WA_FROM,
                                             sid=kw.pop("sid", None) or self.sid(),
                                             profile_name=profile_name, whatsapp=True, **kw))

    def sid(self):
        return "SM" + uuid.uuid4().hex

    # -- what people saw
    def group(self, **kw):
        return self.tg.sent(chat_id=AGENTS, **kw)

    def group_texts(self):
        return [m.get("text") or m.get("caption") or "" for m in self.group()]

    def chat(self, user_id):
        return self.tg.sent(chat_id=user_id)

    def settled(self, found):
        """Once a platform has a message, let the sender finish recording it (as seconds do for people).
        With a steady stream (a broadcast) the sender is never idle: then just give it a moment."""
        if self.sender:
            deadline = time.time() + 1.5
            while self.sender.inflight and time.time() < deadline:
                time.sleep(0.01)
        return found

    def wait_group(self, predicate, timeout=5, what="a group message"):
        return self.settled(eventually(
            lambda: [m for m in self.group() if predicate(m.get("text") or m.get("caption") or "")], timeout, what=what))

    def wait_chat(self, user_id, predicate=lambda t: True, timeout=5, what="a message to the customer"):
        return self.settled(eventually(
            lambda: [m for m in self.chat(user_id) if predicate(m.get("text") or m.get("caption") or "")],
            timeout, what=what))

    def wait_twilio(self, to, predicate=lambda t: True, timeout=5, what="a Twilio message"):
        return self.settled(eventually(
            lambda: [m for m in self.twilio.sent(to=to) if predicate(m.get("body") or "")], timeout, what=what))


@pytest.fixture
def make_khidmat(db_url, tg_api, twilio_api):
    made = []

    def make(start_sender=True, **overrides):
        k = Khidmat(make_settings(db_url, tg_api, twilio_api, **overrides), tg_api, twilio_api, start_sender)
        made.append(k)
        return k
    yield make
    for k in made:
        k.close()


@pytest.fixture
def khidmat(make_khidmat):
    return make_khidmat()
