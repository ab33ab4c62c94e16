"""Service levels: targets per priority ([sla] in settings, in business minutes), the first response and
resolution times recorded per ticket, and the scheduler job that reminds the group of a ticket nearing
its first-response target (once) and calls the owners when it is breached (once)."""

from __future__ import annotations

import datetime as dt
import logging

from peewee import fn

import config
import outbox
from bots.base import utf16_len
from db.connection import write
from db.models import Agent, Ticket
from handlers.core import clock, customers, hours, teams, texts

log = logging.getLogger(__name__)

DEFAULT_PRIORITY = "normal"


def targets(priority: str) -> tuple[float, float]:
    """(first response, resolution) targets in business minutes for a priority (unknown ones count as normal)."""
    conf = config.sla()
    if not hasattr(conf, f"first_response_{priority}"):
        priority = DEFAULT_PRIORITY
    return getattr(conf, f"first_response_{priority}"), getattr(conf, f"resolution_{priority}")


def is_overdue(ticket, now: dt.datetime | None = None) -> bool:
    """An open ticket past its first-response target (still unanswered) or its resolution target."""
    if ticket.status != "open":
        return False
    first_response, resolution = targets(ticket.priority)
    waited = hours.business_minutes(ticket.created_at, now or clock.now())
    return waited >= resolution or (ticket.first_response_at is None and waited >= first_response)


# -- the reminder job --------------------------------------------------------------------------------


def _owner_name(user_id: int) -> str:
    agent = Agent.get_or_none(Agent.telegram_user_id == user_id)
    return (agent and agent.first_name) or texts.for_agents("agents/sla_owner_name")


def _calling_owners(text: str) -> tuple[str, list]:
    """The text with a line calling the owners (settings telegram.owner_ids) by name, and the
    [offset, length, user_id] mentions (UTF-16 offsets) that make Telegram notify them."""
    owner_ids = config.telegram().owner_ids
    if not owner_ids:
        return text, []
    before, _, after = texts.for_agents("agents/sla_owners", owners="\0").partition("\0")
    text, mentions = f"{text}\n{before}", []
    comma = texts.for_agents("agents/list_separator")
    for index, user_id in enumerate(owner_ids):
        name = _owner_name(user_id)
        if index:
            text += comma
        mentions.append([utf16_len(text), utf16_len(name), user_id])
        text += name
    return text + after, mentions


def _mark(ticket: Ticket, column, now: dt.datetime) -> bool:
    """Set the reminder column if nobody did and the ticket still waits for its first answer."""
    changes = {column: now}
    if column is Ticket.sla_breached_at:
        changes[Ticket.sla_warned_at] = fn.COALESCE(Ticket.sla_warned_at, now)
    return (
        Ticket.update(changes)
        .where(
            (Ticket.id == ticket.id) & column.is_null() & (Ticket.status == "open") & Ticket.first_response_at.is_null()
        )
        .execute()
        == 1
    )


def _remind(ticket: Ticket, waited: float, target: int, now: dt.datetime) -> None:
    values = dict(ticket=ticket.number, name=customers.display_name(ticket.customer), waited=int(waited), target=target)
    breached = waited >= target
    with write(), teams.speaking_for(ticket):
        if not _mark(ticket, Ticket.sla_breached_at if breached else Ticket.sla_warned_at, now):
            return
        if breached:
            text, mentions = _calling_owners(texts.for_agents("agents/sla_breached", **values))
            outbox.to_group(text, purpose="sla", ticket=ticket, mentions=mentions or None)
        else:
            outbox.to_group(texts.for_agents("agents/sla_warning", **values), purpose="sla", ticket=ticket)
    log.info(
        "sla %s ticket=%s waited=%d target=%d", "breached" if breached else "warning", ticket.number, waited, target
    )


def remind() -> None:
    """Scheduler job (every minute): open tickets still waiting for a first answer get a reminder in their
    thread at warn_at of the target, and a call to the owners once the target has passed — each once."""
    now = clock.now()
    warn_at = config.sla().warn_at
    waiting = list(
        Ticket.select().where(
            (Ticket.status == "open") & Ticket.first_response_at.is_null() & Ticket.sla_breached_at.is_null()
        )
    )
    for ticket in waiting:
        target = targets(ticket.priority)[0]
        waited = hours.business_minutes(ticket.created_at, now)
        if waited >= target or (waited >= warn_at * target and ticket.sla_warned_at is None):
            _remind(ticket, waited, target, now)
