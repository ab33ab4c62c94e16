"""The door: every parsed webhook event is stored (duplicates dropped) and routed, in one transaction."""
from __future__ import annotations

import json
import logging

from peewee import IntegrityError

from bots.base import SMS, Inbound
from db.connection import write
from db.models import InboundEvent
from handlers import agents, csat, customers, outbox, texts, tickets

log = logging.getLogger(__name__)


def accept(source: str, inbound: Inbound, raw=None) -> bool:
    """Store and handle one event. False when it was a redelivery we already have.

    If handling fails, the event is still stored (with its payload, status 'error') so nothing is lost.
    """
    for _ in range(3):
        try:
            with write():
                InboundEvent.create(source=source, external_id=inbound.external_id)
                route(inbound)
            return True
        except IntegrityError:
            if InboundEvent.get_or_none(source=source, external_id=inbound.external_id):
                log.info("duplicate %s event %s ignored", source, inbound.external_id)
                return False
            # a concurrent first message from the same customer won the race to create them: try again
        except Exception as exc:   # a bug must not lose the message, nor leave the team unaware of it
            log.exception("handling %s event %s failed", source, inbound.external_id)
            store_failed(source, inbound.external_id, raw, exc, channel=inbound.channel)
            return True
    store_failed(source, inbound.external_id, raw, RuntimeError("kept conflicting"))
    return True


def store_failed(source: str, external_id: str, raw, exc: Exception, channel: str | None = None) -> None:
    """Keep an event we could not handle (with its payload, to replay it) and tell the agents."""
    try:
        with write():
            created = InboundEvent.insert(
                source=source, external_id=external_id, status="error", error=repr(exc)[:2000],
                payload=json.dumps(raw, ensure_ascii=False, default=str) if raw is not None else None
            ).on_conflict_ignore().execute()
            if created and channel:
                outbox.to_group(texts.for_agents("agents/handling_failed", channel=channel, event=external_id,
                                                 error=type(exc).__name__), purpose="agents")
    except Exception:
        log.exception("could not store failed %s event %s", source, external_id)


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
    if inbound.kind == "callback":
        return
    customer, contact = customers.identify(inbound)
    lang = customers.language_of(customer)
    if inbound.kind == "command":
        name, _ = agents.parse_command(inbound.text)
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
    tickets.on_customer_message(inbound, customer, contact)


def on_membership(inbound: Inbound) -> None:
    if inbound.migrate_to_chat_id and agents.is_agents_chat(inbound.chat_id):
        agents.on_group_migrated(inbound.chat_id, inbound.migrate_to_chat_id)
    elif not inbound.is_group and inbound.text in ("kicked", "member"):
        from handlers import delivery
        delivery.set_reachable(inbound.channel, inbound.chat_id, blocked=inbound.text == "kicked")


def _shop() -> str:
    import config
    return config.current()["app"]["shop_name"]
