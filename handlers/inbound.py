"""The door: every webhook event is stored before the 200 (duplicates dropped), then routed to the
customer, ticket or agent rules — its outcome and its outbound messages in one transaction."""
from __future__ import annotations

import collections
import json
import logging
import threading
import time

from peewee import IntegrityError

from bots.base import SMS, Inbound
from db.connection import after_commit, database, is_sqlite, write
from db.models import InboundEvent, utcnow
import outbox
from handlers.core import customers, texts, tickets
from handlers.desk import agents
from handlers.features import broadcasts, csat, greetings, loyalty, orders, selfservice

log = logging.getLogger(__name__)


_storing = 0   # webhooks storing right now: the processor and the sender let them go first
_storing_lock = threading.Lock()


_recent = collections.deque(maxlen=4)   # when the last few stores finished


def storing() -> bool:
    """True while webhooks are storing, or during a burst (several stores in the last 50 ms); a single
    message, one at a time, is handled at once."""
    return _storing > 0 or (len(_recent) >= 3 and time.monotonic() - _recent[-3] < 0.05)


def store(source: str, external_id: str, raw) -> bool:
    """Keep a webhook event before answering 200; False when it is a redelivery we already have.
    The inbox processor handles it right after (inbox.py)."""
    global _storing
    with _storing_lock:
        _storing += 1
    try:
        return _store(source, external_id, raw)
    finally:
        with _storing_lock:
            _storing -= 1
            _recent.append(time.monotonic())


_INSERT = {   # the webhook's one hot statement, written out: building it with peewee costs more than running it
    True: "INSERT OR IGNORE INTO inbound_event (source, external_id, received_at, status, payload) "
          "VALUES (?, ?, ?, 'pending', ?)",
    False: "INSERT INTO inbound_event (source, external_id, received_at, status, payload) "
           "VALUES (%s, %s, %s, 'pending', %s) ON CONFLICT DO NOTHING",
}


def _store(source: str, external_id: str, raw) -> bool:
    payload = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False, default=str)
    sqlite = is_sqlite()
    received_at = utcnow()
    with write():
        created = database.execute_sql(_INSERT[sqlite], (source, external_id, str(received_at) if sqlite
                                                          else received_at, payload)).rowcount
        if not created:
            log.info("duplicate %s event %s ignored", source, external_id)
            return False
        if not is_sqlite():
            database.execute_sql("NOTIFY khidmat_inbox")   # the processor may be in another process
        after_commit(_wake)
    return True


_listeners = []


def on_store(fn) -> None:
    """Call fn() after an event was stored (the processor's wake-up)."""
    _listeners.append(fn)


def _wake() -> None:
    for fn in list(_listeners):
        fn()


def handle(event: InboundEvent, inbound: Inbound | None) -> None:
    """Handle one stored event: its outcome, its outbound messages and its 'done' mark in one transaction.
    If handling fails, the event is kept (status 'error', payload intact) and the agents are told."""
    for _ in range(3):
        try:
            with write():
                if inbound is not None:
                    route(inbound)
                InboundEvent.update(status="done", payload=None).where(InboundEvent.id == event.id).execute()
            return
        except IntegrityError:
            continue   # a concurrent first message from the same customer won a race: try again
        except Exception as exc:   # a bug must not lose the message, nor leave the team unaware of it
            log.exception("handling %s event %s failed", event.source, event.external_id)
            failed(event, exc, inbound.channel if inbound else None)
            return
    failed(event, RuntimeError("kept conflicting"), inbound.channel if inbound else None)


def failed(event: InboundEvent, exc: Exception, channel: str | None) -> None:
    """Keep an event we could not handle (payload kept, to replay it) and tell the agents."""
    try:
        with write():
            InboundEvent.update(status="error", error=repr(exc)[:2000]).where(InboundEvent.id == event.id).execute()
            if channel:
                outbox.to_group(texts.for_agents("agents/handling_failed", channel=channel, event=event.external_id,
                                                 error=type(exc).__name__), purpose="agents")
    except Exception:
        log.exception("could not record failed %s event %s", event.source, event.external_id)


def route(inbound: Inbound) -> None:
    if inbound.kind == "ignored":
        return
    if inbound.kind == "member":
        on_membership(inbound)
        return
    if inbound.is_group or (inbound.kind == "callback" and agents.is_agents_chat(inbound.chat_id)):
        if agents.is_agents_chat(inbound.chat_id):
            agents.on_group_message(inbound)
        elif inbound.kind == "command":
            agents.on_other_chat_command(inbound)
        return
    if broadcasts.on_private(inbound):   # owners' /broadcast flow (and non-owners refused) before customers
        return
    customer, contact = customers.identify(inbound)
    if inbound.kind == "callback":   # a customer's tap on one of our buttons (menu, questions, "did this help?")
        selfservice.on_button(inbound, customer, contact)
        return
    lang = customers.language_of(customer)
    if inbound.kind == "command":
        name, _ = agents.parse_command(inbound.text)
        if name == "start" and selfservice.on_start(customer, contact):   # welcome and menu
            return
        if name == "start":
            outbox.to_contact(contact, texts.render(lang, "welcome", name=customers.greeting_name(customer),
                                                    shop=_shop()), purpose="welcome")
            return
        if name == "help":
            outbox.to_contact(contact, texts.render(lang, "help", shop=_shop()), purpose="help")
            return
        if name != "stop":
            inbound.kind = "message"   # anything else a customer types is just words to us
    if csat.take_answer(customer, contact, inbound):
        return
    choice = customers.opt_out_word(inbound.channel, inbound.text, customer.marketing_opt_out)
    if choice:
        customer.marketing_opt_out = choice == "out"
        customer.save()
        if inbound.channel != SMS:   # on SMS the carrier already answered STOP/START
            outbox.to_contact(contact, texts.render(lang, "opted_out" if choice == "out" else "opted_in"),
                              purpose="optout")
        ticket = tickets.open_ticket_of(customer)
        if ticket:
            outbox.to_group(texts.for_agents("agents/opted_out" if choice == "out" else "agents/opted_in",
                                             word=inbound.text.strip()), purpose="agents", ticket=ticket)
        log.info("marketing opt-%s channel=%s customer=%s", choice, inbound.channel, customer.id)
        return
    for answers in SELF_ANSWERS:
        if answers(inbound, customer, contact):
            return
    tickets.on_customer_message(inbound, customer, contact)


# What the bot answers by itself before a message becomes (part of) a ticket, in this order. Each takes
# (inbound, customer, contact) and returns True when it handled the message.
SELF_ANSWERS = [greetings.on_customer_message, loyalty.on_customer_message, orders.on_customer_message,
                selfservice.on_customer_message]


def on_membership(inbound: Inbound) -> None:
    if inbound.migrate_to_chat_id and agents.is_agents_chat(inbound.chat_id):
        agents.on_group_migrated(inbound.chat_id, inbound.migrate_to_chat_id)
    elif not inbound.is_group and inbound.text in ("kicked", "member"):
        from handlers.features import delivery
        delivery.set_reachable(inbound.channel, inbound.chat_id, blocked=inbound.text == "kicked")


def _shop() -> str:
    import config
    return config.current()["app"]["shop_name"]
