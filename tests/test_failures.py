"""Failures survived (issue 6): the platforms answering 5xx or hanging for a while, and PostgreSQL restarted
under load. Nothing accepted is lost, nothing is sent twice, and once a platform is back the customers'
messages (agents' replies first of all) go before the backlog of bulk messages.

The issue asks for outages of a minute. The tests default to OUTAGE_S = 10 seconds so that the suite
stays quick; run them with KHIDMAT_OUTAGE_S=60 for the full minute:

    KHIDMAT_OUTAGE_S=60 .venv/bin/pytest -p no:cacheprovider tests/test_failures.py
"""
from __future__ import annotations

import os
import queue
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
import requests

import db
from db.models import Outbox
from handlers import outbox
from tests.conftest import AGENTS, SECRET, TOKEN, eventually

ROOT = Path(__file__).resolve().parent.parent

OUTAGE_S = float(os.environ.get("KHIDMAT_OUTAGE_S", "10"))   # the issue says a minute: KHIDMAT_OUTAGE_S=60
TIMEOUT_S = 1          # the bot's telegram.timeout_s / twilio.timeout_s in these tests
HANG_S = 3             # a hanging platform answers this late: longer than the bot waits
BULK = 60              # bulk messages (PRIORITY_BULK) waiting when the platform comes back
COMPLAINTS = 8         # customers who write while the platform is away
RATE = 20              # the platform's pace in these tests (messages/s), so the order of sending shows
BULK_BEFORE_REPLY = 3  # bulk messages allowed to arrive before the customers' messages once the platform
                       # is back: the one send that found it back, and sends already started (timing)


def outage_settings(**more):
    return {"telegram.timeout_s": TIMEOUT_S, "twilio.timeout_s": TIMEOUT_S,
            "sender.retry_for_s": OUTAGE_S + 600, "sender.max_backoff_s": 0.5,
            **more}


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
            time.sleep(HANG_S + 0.5)
        if self.platform == "twilio":
            self.standin.set_down(None)
        else:
            self.standin.set_up()


def enqueue_bulk(channel: str, addresses: list[str]) -> None:
    with db.write():
        for i, address in enumerate(addresses):
            outbox.enqueue(channel, address, purpose="broadcast", text=f"Eid offer {i:03d}: 20% off",
                           priority=outbox.PRIORITY_BULK)
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
        assert k.tg_message(100 + i, f"complaint while Telegram is away {tokens[100 + i]}",
                            first_name=f"C{i}").status_code == 200
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
        return (len({m["chat_id"] for m in sent if m["chat_id"] in bulk_chats}) == BULK
                and all(any(tok in (m["text"] or "") for m in sent if m["chat_id"] == str(AGENTS))
                        for tok in tokens.values())
                and all(tg_api.sent(chat_id=user) for user in tokens)
                and any("ships today" in (m["text"] or "") for m in tg_api.sent(chat_id=21)))
    eventually(everything_there, timeout=30 + BULK / RATE * 3, interval=0.1, what="the backlog to drain")
    k.settled(True)
    time.sleep(0.5)

    # nothing lost, nothing twice
    sent = tg_api.sent()
    per_bulk_chat = Counter(m["chat_id"] for m in sent if m["chat_id"] in bulk_chats)
    assert set(per_bulk_chat.values()) == {1}, per_bulk_chat.most_common(3)
    group_texts = [m["text"] or "" for m in sent if m["chat_id"] == str(AGENTS)]
    for user, tok in tokens.items():
        assert sum(tok in t for t in group_texts) == 1, (user, tok)
        assert len(tg_api.sent(chat_id=user)) == 1, user          # one acknowledgement each
    assert sum("ships today" in (m["text"] or "") for m in tg_api.sent(chat_id=21)) == 1
    assert no_failed_rows() == []

    # once back, the customers' messages (the agent's reply, the acknowledgements) go before the bulk
    arrivals = sent[back:]
    assert len(arrivals) >= BULK + 2 * COMPLAINTS + 1
    is_bulk = lambda m: m["chat_id"] in bulk_chats                     # noqa: E731
    is_customer = lambda m: m["chat_id"] == "21" or int(m["chat_id"]) in tokens    # noqa: E731
    assert bulk_before(arrivals, is_bulk, is_customer) <= BULK_BEFORE_REPLY, \
        [(m["chat_id"], (m["text"] or "")[:30]) for m in arrivals[:30]]


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
    for tok in writers.values():
        k.wait_group(lambda t: tok in t, timeout=10)
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
        return (len({address(m) for m in sent if address(m) in bulk_numbers}) == BULK
                and all(any(address(m) == w for m in sent) for w in writers)
                and any("ships today" in (m["body"] or "") for m in sent))
    eventually(everything_there, timeout=30 + BULK / RATE * 3, interval=0.1, what="the backlog to drain")
    k.settled(True)
    time.sleep(0.5)

    sent = twilio_api.sent()
    per_address = Counter(address(m) for m in sent)
    assert all(per_address[n] == 1 for n in bulk_numbers), per_address.most_common(3)
    assert all(per_address[w] == 1 for w in writers), per_address.most_common(3)   # one acknowledgement each
    assert sum("ships today" in (m["body"] or "") for m in sent) == 1
    group_texts = k.group_texts()
    assert all(sum(tok in t for t in group_texts) == 1 for tok in writers.values())
    assert no_failed_rows() == []

    arrivals = sent[back:]
    is_bulk = lambda m: address(m) in bulk_numbers                     # noqa: E731
    is_customer = lambda m: m["to"].startswith("whatsapp:") and (address(m) == number or address(m) in writers)  # noqa: E731
    assert bulk_before(arrivals, is_bulk, is_customer) <= BULK_BEFORE_REPLY, \
        [(m["to"], (m["body"] or "")[:30]) for m in arrivals[:30]]
