"""The ticket card: the ticket's first message in the agents' group, kept up to date by editing it,
with buttons for the common actions; and the forum topic whose name and state follow the ticket."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

import config
import outbox
from bots.base import WHATSAPP
from db.models import Contact, Message, Outbox, Ticket
from handlers.core import clock, customers, teams, texts

PRIORITY_MARK = {"low": "▫️", "normal": "", "high": "🟠", "urgent": "🔴"}
PRIORITIES = ("low", "normal", "high", "urgent")
CARD_EXCERPT = 1500

# lines the features add to a card, each (rank, fn(ticket) -> str, '' for none); core lines rank between them
_line_providers: list[tuple[int, Callable[[Ticket], str]]] = []
RANK_CUSTOMER = 10  # who the customer is to the shop (loyalty)
RANK_WINDOW = 20  # the WhatsApp window (core)
RANK_ORDER = 30  # what the ticket is about (the order)


def line(rank: int):
    """Register the decorated fn(ticket) -> str as a card line (shown when not empty), placed by rank."""

    def register(fn: Callable[[Ticket], str]) -> Callable[[Ticket], str]:
        if all(f is not fn for _, f in _line_providers):
            _line_providers.append((rank, fn))
            _line_providers.sort(key=lambda p: p[0])
        return fn

    return register


def priority_words(priority: str) -> str:
    """A priority as agents read it, with its mark: '🟠 high' (the word from agents/priority_<p>)."""
    return f"{PRIORITY_MARK.get(priority, '')} {texts.for_agents(f'agents/priority_{priority}')}".strip()


def language_words(language: str) -> str:
    """A customer's language as agents read it (agents/language_<code>; the code itself for any other)."""
    return texts.word_for_agents("agents/language_", language)


def whatsapp_window(contacts: list[Contact]) -> str:
    """When the WhatsApp 24-hour window closes, in app.timezone, and how long that is from now ('' for customers
    not on WhatsApp). The card is edited only when the ticket changes: the closing time stays true meanwhile."""
    contact = next((c for c in contacts if c.channel == WHATSAPP), None)
    if contact is None or contact.last_inbound_at is None:
        return ""
    closes = contact.last_inbound_at + customers.WHATSAPP_WINDOW
    left = closes - clock.now()
    if left.total_seconds() <= 0:
        return texts.for_agents("agents/card_window_closed")
    hours, minutes = divmod(int(left.total_seconds()) // 60, 60)
    local = closes.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(config.app().timezone))
    weekday = texts.for_agents("weekdays").splitlines()[local.weekday()]
    return texts.for_agents(
        "agents/card_window_open", weekday=weekday, time=local.strftime("%H:%M"), hours=hours, minutes=minutes
    )


SELF_SERVICE = "self-service"  # Message.author of the bot's own words in a ticket (handlers/selfservice.py)


def self_service_note(ticket: Ticket) -> str:
    note = (
        Message.select(Message.text)
        .where((Message.ticket == ticket) & (Message.direction == "note") & (Message.author == SELF_SERVICE))
        .order_by(Message.id)
        .first()
    )
    return note.text if note else ""


def first_message(ticket: Ticket) -> str:
    first = (
        Message.select().where((Message.ticket == ticket) & (Message.direction == "in")).order_by(Message.id).first()
    )
    return first.text if first else ""


def text(ticket: Ticket, excerpt: str | None = None, earlier: int | None = None) -> str:
    customer, contact = ticket.customer, ticket.contact
    contacts = list(customer.contacts)
    channels = sorted({customers.channel_name(c.channel) for c in contacts})
    body = first_message(ticket) if excerpt is None else excerpt
    if len(body) > CARD_EXCERPT:
        body = body[:CARD_EXCERPT] + "…"
    lines = [
        texts.for_agents(
            "agents/card",
            ticket=ticket.number,
            name=customers.display_name(customer),
            channel=customers.channel_name(contact.channel),
            channels=", ".join(channels),
            address=customers.address_for_agents(contact),
            language=language_words(customers.language_of(customer)),
            earlier=customers.earlier_tickets(customer, ticket) if earlier is None else earlier,
            status=texts.for_agents(f"agents/status_{ticket.status}"),
            priority=priority_words(ticket.priority),
            assignee=ticket.assignee or texts.for_agents("agents/nobody"),
            tags=" ".join(f"#{t}" for t in ticket.tags) or "—",
        )
    ]
    providers = [*_line_providers, (RANK_WINDOW, lambda _ticket: whatsapp_window(contacts))]
    for _, provide in sorted(providers, key=lambda p: p[0]):
        extra = provide(ticket)
        if extra:
            lines.append(extra)
    if ticket.urgent:
        lines.append(texts.for_agents("agents/card_urgent"))
    before = self_service_note(ticket)  # what the bot answered the customer before this ticket
    if before:
        lines += ["", before]
    if body:
        lines.append("")
        lines.append(body)
    return "\n".join(lines)


def buttons(ticket: Ticket, choose_priority: bool = False) -> list:
    t = ticket.id
    if choose_priority:
        return [
            [[priority_words(p), f"t:{t}:priority:{p}"] for p in PRIORITIES],
            [[texts.for_agents("agents/button_back"), f"t:{t}:back"]],
        ]
    if ticket.status == "closed":
        return [
            [
                [texts.for_agents("agents/button_history"), f"t:{t}:history"],
                [texts.for_agents("agents/button_reopen"), f"t:{t}:reopen"],
            ]
        ]
    return [
        [
            [texts.for_agents("agents/button_claim"), f"t:{t}:claim"],
            [texts.for_agents("agents/button_priority"), f"t:{t}:priority"],
        ],
        [
            [texts.for_agents("agents/button_history"), f"t:{t}:history"],
            [texts.for_agents("agents/button_close"), f"t:{t}:close"],
        ],
    ]


def topic_name(ticket: Ticket) -> str:
    mark = PRIORITY_MARK[ticket.priority]
    assignee = f" → {ticket.assignee}" if ticket.assignee else ""
    channel = customers.channel_name(ticket.contact.channel)
    name = f"#{ticket.number} · {customers.display_name(ticket.customer)} · {channel}"
    return f"{mark + ' ' if mark else ''}{name}{assignee}"[:128]


def post(ticket: Ticket, body: str, media=None, earlier: int | None = None) -> None:
    """The new ticket's card (with the first message) into its team's group; its topic is created on the way."""
    with teams.speaking_for(ticket):
        _post(ticket, body, media, earlier)


def _post(ticket: Ticket, body: str, media, earlier: int | None) -> None:
    outbox.to_group(
        text(ticket, excerpt=body, earlier=earlier),
        purpose="ticket_new",
        ticket=ticket,
        buttons=buttons(ticket),
        topic_name=topic_name(ticket),
    )
    rest = body[CARD_EXCERPT:] if len(body) > CARD_EXCERPT else ""
    if rest or media:
        outbox.to_group(body if media else rest, purpose="relay", ticket=ticket, media=media)


def refresh(ticket: Ticket, choose_priority: bool = False, rename_topic: bool = True) -> None:
    """Rewrite the card (and the topic's name) to match the ticket. Only the newest waiting edit is sent."""
    key = f"card{ticket.id}"
    Outbox.update(status="skipped").where((Outbox.merge_key == key) & (Outbox.status == "pending")).execute()
    with teams.speaking_for(ticket):
        outbox.enqueue(
            "telegram",
            teams.lane(ticket.team),
            purpose="card",
            ticket=ticket,
            text=text(ticket),
            priority=outbox.PRIORITY_GROUP,
            merge_key=key,
            edit_card=True,
            method="edit",
            buttons=buttons(ticket, choose_priority),
        )
    if rename_topic:
        outbox.to_group("", purpose="topic", ticket=ticket, method="edit_topic", topic_name=topic_name(ticket))
