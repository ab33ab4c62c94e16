"""Handling one stored event: routed to the desk (the agents' group) or the customer router, its outcome,
its outbound messages and its 'done' mark in one transaction; a failure is kept and the agents are told."""

from __future__ import annotations

import logging
from dataclasses import replace

from peewee import IntegrityError

import outbox
from bots.base import Inbound
from db.connection import write
from db.models import InboundEvent
from handlers import router
from handlers.core import teams, texts
from handlers.desk import agents
from handlers.features import delivery

log = logging.getLogger(__name__)


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
            continue  # a concurrent first message from the same customer won a race: try again
        except Exception as exc:  # a bug must not lose the message, nor leave the team unaware of it
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
                outbox.to_group(
                    texts.for_agents(
                        "agents/handling_failed", channel=channel, event=event.external_id, error=type(exc).__name__
                    ),
                    purpose="agents",
                )
    except Exception:
        log.exception("could not record failed %s event %s", event.source, event.external_id)


def route(inbound: Inbound) -> None:
    """Where an event goes: the agents' group to the desk, a customer's private chat to the customer router."""
    if inbound.kind == "ignored":
        return
    if inbound.place:  # a shared location, venue or contact travels as a short text in the agents' words
        kind, values = inbound.place
        inbound = replace(inbound, text=" ".join(texts.for_agents(f"agents/places/{kind}", **values).split()))
    if inbound.kind == "member":
        on_membership(inbound)
        return
    if inbound.is_group or (inbound.kind == "callback" and teams.is_agents_chat(inbound.chat_id)):
        if teams.is_agents_chat(inbound.chat_id):
            agents.on_group_message(inbound)
        elif inbound.kind == "command":
            agents.on_other_chat_command(inbound)
        return
    router.route(inbound)


def on_membership(inbound: Inbound) -> None:
    if inbound.migrate_to_chat_id and teams.is_agents_chat(inbound.chat_id):
        teams.on_group_migrated(inbound.chat_id, inbound.migrate_to_chat_id)
    elif not inbound.is_group and inbound.text in ("kicked", "member"):
        delivery.set_reachable(inbound.channel, inbound.chat_id, blocked=inbound.text == "kicked")
