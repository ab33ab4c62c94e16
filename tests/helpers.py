"""What the tests share besides fixtures (those are in conftest.py): the test shop's settings, waiting for
something to happen, what people do (tap a button, open a ticket) and see (a card, a keyboard), running
`python webhook.py` as a shop does, and order CSV files. Test modules import from here, never from each other."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

import config

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = os.environ.get("KHIDMAT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
AGENTS = -1001234567890
SECRET = "s3cret-webhook-token"
TOKEN = "123456:TEST-token-abcdef"
SID = "AC" + "0" * 31 + "1"
AUTH = "twilio-auth-token-123"
WA_FROM = "whatsapp:+14155238886"
SMS_FROM = "+14155550100"
OPEN_HOURS = dt.datetime(2026, 11, 25, 7, 0)  # a Wednesday, 12:00 in Karachi: the shop is open


def postgres_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


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
        "backup.at": "",  # no daily backup into the project's data/ from a test's scheduler
    }
    base.update(overrides)
    return config.load(environ={}, overrides=base)


# ---- waiting ----------------------------------------------------------------------------------------------
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


def settle(k=None, timeout=5.0):
    """The inbox has handled every stored webhook event (what they cause is in the outbox, maybe not yet sent)."""
    from db.models import InboundEvent

    eventually(
        lambda: not InboundEvent.select().where(InboundEvent.status == "pending").exists(),
        timeout=timeout,
        what="the inbox to be handled",
    )


def quiet(k=None, timeout=10.0):
    """Everything the requests so far caused has reached the platforms' stand-ins, or never will: the inbox
    has handled every stored event, and no outbox row is still pending (waiting, being merged or being sent)
    — each was sent, or given up on, or skipped. Then an absence (nothing reached the customer) is final.
    `k`: the test's Khidmat (its sender is idle too); None when the shop runs in another process (`python
    webhook.py`) and this one is only connected to its database.

    The inbox marks an event done in the same transaction as the outbox rows it causes, so the inbox is
    looked at first; the sender marks a row sent only after the platform took it."""
    from db.models import InboundEvent, Outbox

    def idle():
        if InboundEvent.select().where(InboundEvent.status == "pending").exists():
            return False
        if Outbox.select().where(Outbox.status == "pending").exists():
            return False
        return not (k is not None and k.sender and k.sender.inflight)

    try:
        eventually(idle, timeout=timeout, interval=0.01, what="the inbox and the outbox to be idle")
    except AssertionError:
        pending = list(
            Outbox.select(Outbox.id, Outbox.purpose, Outbox.chat_id, Outbox.attempts, Outbox.reason)
            .where(Outbox.status == "pending")
            .limit(10)
            .tuples()
        )
        raise AssertionError(f"the outbox did not become idle in {timeout}s; pending rows: {pending}") from None


def scheduler_ran(k, job_id, times=1, timeout=10.0):
    """Wait until the shop's scheduler has finished `times` runs of the job `job_id` that were due after this
    call: each started later, so it saw everything done before (the clock moved, a ticket answered)."""
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED

    since, runs = dt.datetime.now(dt.UTC), []

    def finished(event):
        if event.job_id == job_id and event.scheduled_run_time >= since:
            runs.append(event)

    k.scheduler.add_listener(finished, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    try:
        eventually(lambda: len(runs) >= times, timeout=timeout, what=f"{times} run(s) of the {job_id} job")
    finally:
        k.scheduler.remove_listener(finished)


# ---- what people do and see -------------------------------------------------------------------------------
def open_ticket(k, user_id=21, text="the blender I got is broken", **kw):
    """A Telegram customer's complaint: its card in the agents' group (once the acknowledgement went out)."""
    k.tg_message(user_id, text, **kw)
    card = k.wait_group(lambda t: text in t)[0]
    k.wait_chat(user_id)
    return card


def answer(k, predicate, what="the bot's answer in the group"):
    """The text of the newest group message that matches."""
    return k.wait_group(predicate, what=what)[-1]["text"]


def card_of(k, ticket_or_words):
    """A ticket's card in the agents' group (the stand-in's record of it): by ticket number (1001), or by
    words of the customer's first message."""
    if isinstance(ticket_or_words, int):
        return k.wait_group(lambda t: t.startswith(f"🎫 #{ticket_or_words}"), what=f"the card of #{ticket_or_words}")[0]
    return k.wait_group(lambda t: ticket_or_words in t, what=f"the card with {ticket_or_words!r}")[0]


_update_ids = itertools.count(int(time.time() * 1000) % 10**9)  # fresh: a repeated update id is a redelivery


def tap(
    k,
    data,
    user_id,
    message=None,
    chat=None,
    *,
    first_name="Ali",
    username=None,
    language_code="en",
    secret=SECRET,
    expect=200,
):
    """`user_id` taps the button `data` under `message` (a message the stand-in delivered), as Telegram reports
    it: a callback query from that message's chat — or from `chat` (a chat object) to forge one from elsewhere.
    Without a message: a button on an inline message (no chat). Checks the webhook answered `expect`; returns
    the response, its `callback_id` being the query's id."""
    user = {"id": user_id, "is_bot": False, "first_name": first_name}
    user.update({key: value for key, value in (("username", username), ("language_code", language_code)) if value})
    query = {"id": f"cb{next(_update_ids)}", "chat_instance": "1", "data": data, "from": user}
    if message is not None:
        if chat is None:
            chat_id = int(message["chat_id"])
            chat = (
                {"id": chat_id, "type": "supergroup", "title": "Agents"}
                if chat_id < 0
                else {"id": chat_id, "type": "private", "first_name": first_name}
            )
        query["message"] = {
            "message_id": message["message_id"],
            "date": int(time.time()),
            "chat": chat,
            "text": message.get("text") or message.get("caption") or "",
        }
    response = k.post_update({"update_id": next(_update_ids), "callback_query": query}, secret=secret)
    assert response.status_code == expect, (response.status_code, response.text[:200])
    response.callback_id = query["id"]
    return response


def buttons(params) -> list[list[tuple[str, str]]]:
    """The inline keyboard a Bot API call carried (its reply_markup): [(label, callback data)] per row."""
    markup = params.get("reply_markup")
    markup = json.loads(markup) if isinstance(markup, str) else markup
    return [[(b["text"], b["callback_data"]) for b in row] for row in markup["inline_keyboard"]]


def callback_data(rows) -> list[list[str]]:
    """Only the callback data of a keyboard's buttons, per row."""
    return [[data for _, data in row] for row in rows]


def keyboard(k, chat_id, containing=""):
    """The buttons ([(label, data)] per row) of the last message to chat_id whose text contains `containing`."""
    calls = [
        c["params"]
        for c in k.tg.calls
        if c["method"] == "sendMessage"
        and c["status"] == 200
        and str(c["params"].get("chat_id")) == str(chat_id)
        and containing in str(c["params"].get("text"))
        and c["params"].get("reply_markup")
    ]
    assert calls, f"no message with buttons to {chat_id}"
    return buttons(calls[-1])


# ---- `python webhook.py` as a shop runs it ---------------------------------------------------------------
_ports = random.SystemRandom()  # not the random module's own: tests (Hypothesis) may seed that


def free_port():
    """A port for a server process to listen on, free right now. Drawn below the kernel's ephemeral range
    (32768–60999 here): a port from bind(0) is one the kernel may give to the next outgoing connection or
    bind(0) of any test process running alongside, before our server binds it."""
    for _ in range(100):
        port = _ports.randrange(20000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free port between 20000 and 32000")


def base_env(db_url):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    env["BOT_DATABASE_URL"] = db_url
    env["PYTHONUNBUFFERED"] = "1"
    env["BOT_BACKUP_AT"] = ""  # no daily backup into the project's data/ from a test's bot
    return env


def telegram_env(db_url, tg_api, **settings):
    """base_env for a bot talking to the Telegram stand-in at its full pace, plus BOT_<SECTION>_<KEY> settings
    given as section_key="value" (scheduler_enabled="true")."""
    env = base_env(db_url)
    env.update(
        {
            "BOT_TELEGRAM_TOKEN": TOKEN,
            "BOT_TELEGRAM_API_BASE_URL": tg_api.base_url,
            "BOT_TELEGRAM_WEBHOOK_SECRET": SECRET,
            "BOT_TELEGRAM_AGENTS_CHAT_ID": str(AGENTS),
            "BOT_TELEGRAM_RATE_GROUP_PER_MIN": "100000",
            "BOT_TELEGRAM_RATE_GLOBAL_PER_S": "1000",
            "BOT_TELEGRAM_RATE_CHAT_PER_S": "1000",
        }
    )
    env.update({f"BOT_{key.upper()}": value for key, value in settings.items()})
    return env


def flask(env, *args, stdin=None, timeout=120):
    """`flask --app webhook ARGS` as a shop runs it: its exit status, stdout and stderr."""
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "webhook", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def healthy(port):
    """Whether a server answers /healthz on the port."""
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def start(env, port, log_path):
    with open(log_path, "ab") as log:  # the server keeps its own copy of the descriptor
        proc = subprocess.Popen(
            [sys.executable, "webhook.py", "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        eventually(lambda: healthy(port) or proc.poll() is not None, timeout=20, what="the server to answer /healthz")
        assert proc.poll() is None, f"webhook.py exited with {proc.returncode}: see {log_path}"
    except BaseException:
        proc.kill()  # not left running after the test
        proc.wait(10)
        raise
    return proc


# ---- order CSV files --------------------------------------------------------------------------------------
ORDER_HEADER = (
    "order_ref,customer_name,phone,telegram_id,items,amount,status,promised_date,birthday,anniversary,language,tags"
)


def order_rows(*lines):
    """An order CSV file's text: the header and these lines."""
    return ORDER_HEADER + "\n" + "\n".join(lines) + "\n"


def import_orders(k, tmp_path, text, name="orders.csv"):
    """`flask orders import` of a CSV file with this text; its summary (the file's name without the folder)."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = k.app.test_cli_runner().invoke(args=["orders", "import", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output.strip().replace(str(tmp_path) + "/", "")
