"""Test fixtures: a real Khidmat (Flask app on a real HTTP server, the sender thread) on SQLite or
PostgreSQL, talking to stand-in Telegram and Twilio API servers on loopback."""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import threading
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
import waitress

import db
import outbox
from handlers.core import clock
from inbox import store as inbox_store
from tests.helpers import (
    AGENTS,
    AUTH,
    OPEN_HOURS,
    PG_SERVER,
    SECRET,
    SID,
    SMS_FROM,
    TOKEN,
    WA_FROM,
    eventually,
    make_settings,
    postgres_available,
)
from tests.standins.telegram_api import TelegramStandin
from tests.standins.twilio_api import TwilioStandin, inbound_form, sign


@pytest.fixture(autouse=True)
def shop_is_open():
    """Tests run at a fixed moment inside business hours unless they travel elsewhere themselves."""
    clock.travel_to(OPEN_HOURS)
    yield
    clock.reset()


# ---- PostgreSQL: a database of its own for each test process ------------------------------------------------
# Advisory locks (the workers' leader election) and LISTEN/NOTIFY (wake-ups) are per database, so test processes
# running at once (pytest-xdist's workers, another run of the suite on this machine) must not share one. Each
# process creates its own from the `test` database (KHIDMAT_TEST_PG), named for its run and worker, and drops
# it at the end; every test gets a fresh schema inside it.
RUN_ID = os.environ.get("PYTEST_XDIST_TESTRUNUID") or uuid.uuid4().hex  # the same for a run's workers
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")  # gw0, gw1 … under xdist
RUNNER_PID = os.getppid() if "PYTEST_XDIST_WORKER" in os.environ else os.getpid()  # the run's own process
DATABASE = f"khidmat_{RUNNER_PID}_{RUN_ID[:10]}_{WORKER}".lower()


def _server_url(database: str) -> str:
    return urlunsplit(urlsplit(PG_SERVER)._replace(path="/" + database))


def _on_server(sql: str):
    """One statement on the `test` database (outside a transaction, as CREATE/DROP DATABASE need)."""
    import psycopg2

    conn = psycopg2.connect(PG_SERVER)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()


def _drop_left_behind_databases():
    """Databases of runs on this machine that were killed before they could drop theirs (the run's process is
    gone). One still in use is left alone (DROP DATABASE without FORCE refuses)."""
    import psycopg2

    if urlsplit(PG_SERVER).hostname not in ("127.0.0.1", "localhost", "::1"):
        return
    for (name,) in _on_server("SELECT datname FROM pg_database WHERE datname LIKE 'khidmat%'"):
        found = re.fullmatch(r"khidmat_(\d+)_[0-9a-f]+_\w+", name)
        if not found or int(found.group(1)) == RUNNER_PID:
            continue
        try:
            os.kill(int(found.group(1)), 0)
            continue  # that run is still going
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        with contextlib.suppress(psycopg2.Error):
            _on_server(f'DROP DATABASE IF EXISTS "{name}"')


@pytest.fixture(scope="session")
def postgres_database():
    """The URL of this test process's own PostgreSQL database (see above); created on first use."""
    if not postgres_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432 — in CI a skipped PostgreSQL run is a failure")
        pytest.skip("PostgreSQL not reachable")
    _drop_left_behind_databases()
    _on_server(f'DROP DATABASE IF EXISTS "{DATABASE}"')
    _on_server(f'CREATE DATABASE "{DATABASE}"')
    yield _server_url(DATABASE)
    _on_server(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/khidmat.db"
        return
    yield from _fresh_postgres_schema(request)


@pytest.fixture
def pg_url(request):
    """PostgreSQL only (features SQLite does not have, like leader election)."""
    yield from _fresh_postgres_schema(request)


def _fresh_postgres_schema(request):
    database = request.getfixturevalue("postgres_database")
    import psycopg2

    schema = f"t_{uuid.uuid4().hex[:12]}"
    conn = psycopg2.connect(database)
    conn.autocommit = True
    conn.cursor().execute(f"CREATE SCHEMA {schema}")
    yield f"{database}?options=-csearch_path%3D{schema}"
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


class Khidmat:
    """A running Khidmat and the ways a test talks to it: as Telegram, as Twilio, as a person."""

    sids = itertools.count(1)

    def __init__(self, settings, tg_api, twilio_api, start_sender=True):
        import runtime
        from webhook import create_app

        self.settings = settings
        self.tg, self.twilio = tg_api, twilio_api
        self.app = create_app(settings)
        self.server = waitress.create_server(
            self.app, host="127.0.0.1", port=0, threads=8, max_request_body_size=settings["app"]["max_body_bytes"]
        )
        self.url = f"http://127.0.0.1:{self.server.effective_port}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        self.relay = runtime.start_relay(settings) if start_sender else None
        self.sender = self.relay.sender if self.relay else None
        self.scheduler = None
        if settings["scheduler"]["enabled"]:  # off unless a test turns it on (scheduler.enabled)
            from runtime import scheduler

            self.scheduler = scheduler.start(settings)
        self.http = requests.Session()

    def _serve(self):
        with contextlib.suppress(OSError):  # closed under its feet at the end of the test
            self.server.run()

    def close(self):
        if self.scheduler:
            self.scheduler.shutdown(wait=True)  # a job still running finishes before the database goes
        if self.relay:
            self.relay.stop()
        self.server.close()
        outbox._listeners.clear()
        inbox_store._listeners.clear()
        db.connection.close_all()

    # -- as Telegram
    def post_update(self, update: dict, secret=SECRET):
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        return self.http.post(f"{self.url}/telegram/webhook", json=update, headers=headers, timeout=10)

    def tg_message(
        self,
        user_id: int,
        text: str | None = None,
        first_name="Ali",
        language_code="en",
        username=None,
        update_id=None,
        **fields,
    ):
        """A customer writes to the bot in a private chat."""
        update = self.tg.incoming(
            user_id,
            text,
            user_id=user_id,
            first_name=first_name,
            username=username,
            language_code=language_code,
            **fields,
        )
        if update_id is not None:
            update["update_id"] = update_id
        self.last_update = update
        return self.post_update(update)

    def agent_message(
        self,
        text: str | None,
        reply_to: int | None = None,
        thread_id: int | None = None,
        agent_id=5001,
        first_name="Sara",
        chat_id=AGENTS,
        **fields,
    ):
        """An agent writes in the agents' group: as a reply to a bot message, or inside a topic."""
        update = self.tg.incoming(
            chat_id, text, user_id=agent_id, first_name=first_name, thread_id=thread_id, reply_to=reply_to, **fields
        )
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
        return self.post_twilio(
            inbound_form(
                f"whatsapp:{number}",
                body,
                WA_FROM,
                sid=kw.pop("sid", None) or self.sid(),
                profile_name=profile_name,
                whatsapp=True,
                **kw,
            )
        )

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
        return self.settled(
            eventually(
                lambda: [m for m in self.group() if predicate(m.get("text") or m.get("caption") or "")],
                timeout,
                what=what,
            )
        )

    def wait_chat(self, user_id, predicate=lambda t: True, timeout=5, what="a message to the customer"):
        return self.settled(
            eventually(
                lambda: [m for m in self.chat(user_id) if predicate(m.get("text") or m.get("caption") or "")],
                timeout,
                what=what,
            )
        )

    def wait_twilio(self, to, predicate=lambda t: True, timeout=5, what="a Twilio message"):
        return self.settled(
            eventually(
                lambda: [m for m in self.twilio.sent(to=to) if predicate(m.get("body") or "")], timeout, what=what
            )
        )


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
