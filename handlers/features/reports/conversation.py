"""A ticket page: the whole conversation, read-only: the customer's messages, the agents' replies, internal notes
(marked), the bot's own messages, and the sends that failed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import outbox
from db.models import Message, Outbox, Ticket
from handlers.core import cards
from handlers.features.reports import periods

# the bot's own messages to the customer that are not kept as the ticket's messages
BOT_PURPOSES = ("ack", "csat", "welcome", "delay_notice", "overdue_notice")
BOT_AUTHORS = ("bot", cards.SELF_SERVICE)


@dataclass
class Entry:
    at: dt.datetime  # the shop's local time
    kind: str  # customer / agent / note / bot / failed (a word key)
    author: str
    text: str
    detail: str = ""


@dataclass
class Conversation:
    ticket: Ticket
    channel: str
    customer: str
    entries: list[Entry]


def of(ticket_id: int) -> Conversation | None:
    ticket = Ticket.get_or_none(Ticket.id == ticket_id)
    if ticket is None:
        return None
    entries = [
        Entry(m.created_at, _kind(m), m.author or "", m.text or "", _media(m.media))
        for m in Message.select().where(Message.ticket == ticket.id).order_by(Message.created_at, Message.id)
    ]
    for row in Outbox.select().where(Outbox.ticket == ticket.id).order_by(Outbox.id):
        at = dt.datetime.fromtimestamp(row.created_at, dt.UTC).replace(tzinfo=None)
        text = (row.payload or {}).get("text", "")
        if row.status in ("gone", "failed"):
            entries.append(Entry(at, "failed", row.channel, text, row.reason or ""))
        elif not outbox.is_group(row.chat_id) and row.purpose in BOT_PURPOSES:
            entries.append(Entry(at, "bot", row.purpose, text))
    entries.sort(key=lambda e: e.at)
    for e in entries:
        e.at = periods.local_time(e.at)
    customer = ticket.customer
    return Conversation(ticket, ticket.contact.channel, customer.name or f"#{customer.id}", entries)


def _kind(m: Message) -> str:
    if m.direction == "in":
        return "customer"
    if m.direction == "note":
        return "note"
    return "bot" if m.author in BOT_AUTHORS else "agent"


def _media(media) -> str:
    """The kinds of media a message carried ("photo, voice")."""
    if not isinstance(media, list):
        return ""
    return ", ".join(str(m.get("kind", "") if isinstance(m, dict) else m) for m in media)
