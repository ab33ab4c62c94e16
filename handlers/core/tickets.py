"""The life of a ticket: opened by a customer's message, relayed to the agents' group, answered, closed."""

from __future__ import annotations

import logging

import outbox
from bots.base import TELEGRAM, Inbound
from db.connection import is_sqlite
from db.models import Agent, Contact, Customer, GroupMessage, Message, Ticket
from handlers.core import cards, clock, customers, events, hours, media, teams, texts, urgency

log = logging.getLogger(__name__)


def open_ticket_of(customer: Customer) -> Ticket | None:
    """The customer's open ticket, locked for this transaction on PostgreSQL so a burst opens only one."""
    if not is_sqlite():  # SQLite transactions here already hold the write lock
        Customer.select().where(Customer.id == customer.id).for_update().execute()
    return (
        Ticket.select()
        .where((Ticket.customer == customer) & (Ticket.status == "open"))
        .order_by(Ticket.id.desc())
        .first()
    )


def _group_text(inbound: Inbound) -> str:
    if inbound.kind == "unsupported":
        return texts.for_agents("agents/unsupported", kind=texts.kind_for_agents(inbound.unsupported_kind))
    if inbound.kind == "edited":
        return texts.for_agents("agents/edited", text=inbound.text)
    return inbound.text


def on_customer_message(
    inbound: Inbound, customer: Customer, contact: Contact, order_ref: str | None = None
) -> Ticket | None:
    """A customer wrote: open a ticket (card to the group, acknowledgement to them) or add to the open one.
    order_ref: the order the message is about (an answer to a delay notice); the card shows it."""
    if inbound.kind in ("message", "edited") and not inbound.text.strip() and not inbound.media:
        log.info("empty message ignored channel=%s customer=%s", inbound.channel, customer.id)
        return None
    lang = customers.language_of(customer)
    ticket = open_ticket_of(customer)
    media = inbound.media if inbound.kind != "unsupported" else []
    message_fields = dict(
        direction="in", channel=inbound.channel, text=inbound.text, media=[m.kind for m in media] or None
    )
    if ticket is None:
        first_line = (inbound.text.strip().splitlines() or [""])[0]
        ticket = Ticket.create(
            customer=customer,
            contact=contact,
            subject=first_line[:200],
            created_at=clock.now(),
            last_customer_at=clock.now(),
            order_ref=order_ref,
        )
        Message.create(ticket=ticket, **message_fields)
        if urgency.is_urgent(inbound.text):
            ticket.urgent, ticket.priority = True, "high"
            ticket.save()
        teams.route(ticket, customer, inbound.channel)  # the team's group gets it (before anyone hears of it)
        with teams.speaking_for(ticket):
            events.announce(events.TICKET_OPENED, ticket, customer, inbound.channel)
            earlier = customers.earlier_tickets(customer, ticket)
            cards.post(ticket, _group_text(inbound), media, earlier=earlier)
            events.announce(events.TICKET_POSTED, ticket)
        first_contact = earlier == 0 and inbound.channel != TELEGRAM
        ack = hours.acknowledgement(lang, customer, ticket, first_contact)
        outbox.to_contact(contact, ack, purpose="ack", ticket=ticket)
        log.info("ticket opened ticket=%s channel=%s customer=%s", ticket.number, inbound.channel, customer.id)
    else:
        refresh_card = False
        if ticket.contact_id != contact.id:
            ticket.contact = contact  # replies follow the channel the customer used last
            refresh_card = True
        if order_ref and not ticket.order_ref:
            ticket.order_ref, refresh_card = order_ref, True
        if urgency.is_urgent(inbound.text) and not ticket.urgent:
            ticket.urgent, refresh_card = True, True
            if ticket.priority in ("low", "normal"):
                ticket.priority = "high"
        ticket.last_customer_at = clock.now()
        ticket.save()
        with teams.speaking_for(ticket):
            if refresh_card:
                cards.refresh(ticket)
            Message.create(ticket=ticket, **message_fields)
            header = texts.for_agents(
                "agents/relay_header", ticket=ticket.number, name=customers.display_name(customer)
            )
            outbox.to_group(
                _group_text(inbound),
                purpose="relay",
                ticket=ticket,
                media=media,
                merge=not media,
                header=header,
                topic_name=cards.topic_name(ticket),
            )
    if inbound.kind == "unsupported":
        outbox.to_contact(contact, texts.render(lang, "unsupported"), purpose="unsupported", ticket=ticket)
    return ticket


def set_assignee(ticket: Ticket, agent: Agent | None, refresh: bool = True) -> None:
    """Give the ticket to an agent (None: to nobody); the agent's last assignment is now. refresh: edit the card
    and the topic's name (False while the card is still to be posted: it is written with the assignee)."""
    ticket.assignee_id = agent.telegram_user_id if agent else None
    ticket.assignee = (agent.first_name or f"@{agent.username}") if agent else None
    ticket.save()
    if agent is not None:
        agent.last_assigned_at = clock.now()
        agent.save()
    if refresh:
        cards.refresh(ticket)


def agent_reply(ticket: Ticket, agent_name: str, inbound: Inbound) -> None:
    """An agent answered in the group: carry it to the customer on the channel they used."""
    customer, contact = ticket.customer, ticket.contact
    lang = customers.language_of(customer)
    Message.create(
        ticket=ticket,
        direction="out",
        channel=contact.channel,
        text=inbound.text,
        media=[m.kind for m in inbound.media] or None,
        author=agent_name,
    )
    record_first_response(ticket)
    if inbound.media and (media.relay_agent_media(ticket, agent_name, inbound, lang) or not inbound.text.strip()):
        return
    body = media.signed_reply(lang, agent_name, inbound.text)
    outbox.to_contact(contact, body, purpose="reply", ticket=ticket)
    log.info("agent reply ticket=%s channel=%s", ticket.number, contact.channel)


def bot_answered(ticket: Ticket, contact: Contact, answer: str, note: str | None = None) -> None:
    """The bot answered the customer while their ticket is open: kept with the ticket, shown in its thread."""
    Message.create(ticket=ticket, direction="out", channel=contact.channel, text=answer, author="bot")
    outbox.to_group(note or texts.for_agents("agents/bot_answered", answer=answer), purpose="agents", ticket=ticket)


def record_first_response(ticket: Ticket) -> None:
    """The customer got their first answer from a person: when, in business minutes, announced once."""
    if ticket.first_response_at is not None:
        return
    ticket.first_response_at = clock.now()
    ticket.first_response_minutes = hours.business_minutes(ticket.created_at, ticket.first_response_at)
    ticket.save()
    events.announce(events.FIRST_RESPONSE, ticket)


def add_note(ticket: Ticket, agent_name: str, text: str) -> None:
    """An internal note: stored with the ticket, never sent to the customer."""
    Message.create(ticket=ticket, direction="note", channel=TELEGRAM, text=text, author=agent_name)
    outbox.to_group(texts.for_agents("agents/note_saved", ticket=ticket.number), purpose="agents", ticket=ticket)


def close(ticket: Ticket, agent_name: str) -> None:
    """Close the ticket, tell the customer and the group, close the topic."""
    if ticket.status == "closed":
        outbox.to_group(
            texts.for_agents("agents/already_closed", ticket=ticket.number), purpose="agents", ticket=ticket
        )
        return
    ticket.status, ticket.closed_at, ticket.closed_by = "closed", clock.now(), agent_name
    ticket.resolution_minutes = hours.business_minutes(ticket.created_at, ticket.closed_at)
    ticket.save()
    lang = customers.language_of(ticket.customer)
    outbox.to_contact(
        ticket.contact,
        texts.render(lang, "closed", ticket=ticket.number, name=customers.greeting_name(ticket.customer)),
        purpose="closed",
        ticket=ticket,
    )
    outbox.to_group(
        texts.for_agents("agents/closed", ticket=ticket.number, agent=agent_name), purpose="agents", ticket=ticket
    )
    outbox.to_group("", purpose="close_topic", ticket=ticket, method="close_topic")
    events.announce(events.TICKET_CLOSED, ticket)
    log.info("ticket closed ticket=%s by agent", ticket.number)


def ticket_for_group_message(chat_id: int, thread_id: int | None, reply_to: int | None) -> Ticket | None:
    """The ticket an agent's message belongs to: its forum topic, or the bot message it replies to."""
    if thread_id:  # topics' ids are per group: the topic of this group
        ticket = (
            Ticket.select()
            .where((Ticket.thread_id == thread_id) & (Ticket.group_chat_id == chat_id))
            .order_by(Ticket.id.desc())
            .first()
        )
        if ticket:
            return ticket
    if reply_to:
        row = GroupMessage.get_or_none(chat_id=chat_id, message_id=reply_to)
        if row:
            return row.ticket
    return None
