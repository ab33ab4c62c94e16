"""A flooding customer (300 messages in a few seconds) loses nothing and does not hold up anyone else, with the
real group limits: 20 messages a minute into the group, 1 a second into a chat, follow-ups merged every 3 s."""

from __future__ import annotations

import re
import threading
import time

import pytest

from db.models import InboundEvent, Message, Ticket
from tests.helpers import eventually

REAL_LIMITS = {"telegram.rate_group_per_min": 20, "telegram.rate_chat_per_s": 1, "sender.merge_interval_s": 3}
FLOODER, OTHER = 31, 32
N = 300


def flood_text(i: int) -> str:
    return f"flood {i:03d}: my order 5531 has still not arrived, please check it"


def flooded_lines(k) -> list[int]:
    """The flood's message numbers as they appear in the group, in order."""
    return [int(n) for text in k.group_texts() for n in re.findall(r"^flood (\d{3}):", text, re.M)]


def test_a_flood_loses_nothing_and_does_not_hold_up_another_customer(make_khidmat):
    k = make_khidmat(**REAL_LIMITS)
    posted = threading.Event()

    def flood():
        for i in range(N):
            assert k.tg_message(FLOODER, flood_text(i), first_name="Flood").status_code == 200
        posted.set()

    started = time.monotonic()
    flooder = threading.Thread(target=flood)
    flooder.start()
    # the flood's card is in the group and its follow-ups are being relayed: now someone else writes
    eventually(lambda: 0 in flooded_lines(k), timeout=10, what="the flood's first message in the group")
    eventually(lambda: InboundEvent.select().count() >= N // 3, timeout=10, what="a third of the flood accepted")
    asked = time.monotonic()
    assert k.tg_message(OTHER, "my parcel arrived damaged", first_name="Other").status_code == 200
    backlog = InboundEvent.select().where(InboundEvent.status == "pending").count()
    eventually(
        lambda: Message.get_or_none(Message.text == "my parcel arrived damaged"),
        timeout=20,
        interval=0.01,
        what="the other customer's message handled",
    )
    handled = time.monotonic() - asked  # the inbox handles events in arrival order: the flood's come first
    k.wait_group(lambda t: "arrived damaged" in t, timeout=20, what="the other customer's card")
    other_waited = time.monotonic() - asked
    k.wait_chat(OTHER, timeout=5, what="the other customer's acknowledgement")
    flooder.join(60)
    assert posted.is_set(), "the flood was not accepted"
    flood_accepted = time.monotonic() - started

    # every flood message reaches the group, exactly once and in order, merged into few messages
    eventually(lambda: len(flooded_lines(k)) >= N, timeout=90, interval=0.2, what="every flood message in the group")
    lines = flooded_lines(k)
    assert lines == list(range(N)), "lost, repeated or reordered: " + str(
        [(i, n) for i, n in enumerate(lines) if n != i][:5]
    )
    group_messages = [t for t in k.group_texts() if "flood " in t]
    assert len(group_messages) <= N // 20, len(group_messages)  # merged, not one message per text
    assert all(len(t) <= 4096 for t in k.group_texts())
    flood_ticket = Ticket.get(Ticket.id == Message.get(Message.text == flood_text(0)).ticket_id)
    assert Message.select().where(Message.ticket == flood_ticket).count() == N
    assert Ticket.select().count() == 2  # one ticket for the whole flood
    assert len(k.chat(FLOODER)) == 1  # acknowledged once
    timing = (
        f"flood accepted in {flood_accepted:.1f}s; the other customer's message was handled after "
        f"{handled:.1f}s (behind {backlog} waiting flood events) and its card was in the group after "
        f"{other_waited:.1f}s; {len(group_messages)} group messages for {N} texts"
    )
    print("\n" + timing)
    assert other_waited < 8, timing


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # sender logic, the same on both databases
def test_a_new_customer_is_not_held_up_when_floods_spend_the_groups_minute(make_khidmat, db_url):
    """Two long floods at once: merge_interval_s (3 s) × rate_group_per_min (20) = 60 s, so ONE flooding ticket
    could take the group's whole minute (a merged follow-up every 3 s) and two twice over. The sender keeps
    the last quarter of the minute's slots for tickets that have not had their share (sender/loop.py
    _flooding): a new customer's card goes at once instead of waiting for the minute to renew."""
    k = make_khidmat(**REAL_LIMITS)
    long = " and the tracking page still says it is in Lahore, I have called your shop twice already" * 3

    def flood(who):
        for i in range(150):
            k.tg_message(who, flood_text(i) + long, first_name=f"Flood{who}")

    floods = [threading.Thread(target=flood, args=(who,)) for who in (FLOODER, 33)]
    for thread in floods:
        thread.start()
    window = lambda: k.sender.pacer.groups.get("group")  # noqa: E731 — the group's per-minute window
    eventually(
        lambda: window() and window().free(time.monotonic()) <= 5,
        timeout=60,
        interval=0.2,
        what="the floods to spend the group's minute down to the slots kept for others",
    )
    time.sleep(4)  # more than a merge interval: the floods had their chance to take the kept slots
    assert window().free(time.monotonic()) >= 1, "the floods took the slots kept for other tickets"
    asked = time.monotonic()
    k.tg_message(OTHER, "my parcel arrived damaged", first_name="Other")
    try:
        k.wait_group(lambda t: "arrived damaged" in t, timeout=5, what="the new customer's card within 5 s")
    finally:
        print(f"\nnew customer's card: waited {time.monotonic() - asked:.1f}s so far")
        for thread in floods:
            thread.join()


def test_the_inbox_lets_chats_take_turns_and_keeps_each_chats_order():
    from types import SimpleNamespace as NS

    from inbox import processor as inbox

    arrived = [("telegram", "31", i) for i in range(4)] + [
        ("telegram", "32", 0),
        ("twilio", "+92300", 0),
        ("telegram", "31", 4),
        ("telegram", "32", 1),
    ]
    parsed = [(NS(source=source, n=n), (NS(chat_id=chat), None)) for source, chat, n in arrived]
    order = [(event.source, item.chat_id, event.n) for event, (item, _) in inbox.taking_turns(parsed)]
    assert order == [
        ("telegram", "31", 0),
        ("telegram", "32", 0),
        ("twilio", "+92300", 0),
        ("telegram", "31", 1),
        ("telegram", "32", 1),
        ("telegram", "31", 2),
        ("telegram", "31", 3),
        ("telegram", "31", 4),
    ]
