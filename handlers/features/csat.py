"""Customer satisfaction: ask for a 1–5 rating when a ticket closes, understand the answer, sum it up.

- `ask(ticket)` (when a ticket closes): the question in the customer's language; `csat_asked_at` is recorded.
  A ticket is asked once, however often it is reopened and closed again.
- `is_rating_answer(text)` and `record_answer(...)` (the customer router's "rating" rule, while the question
  waits: asked within `csat.answer_within_hours`, not yet answered, no ticket of theirs open): only a rating
  (1–5 in Latin, Urdu or Arabic-Indic digits, or ⭐s, with or without a few words about the help) or a short
  comment on the help ("thanks", "very slow") is an answer. The rating goes to `ticket.rating`, words to
  `ticket.rating_comment`; the agents see it in the ticket's thread (an alert for 1–2) and the customer is
  thanked. A complaint, a question, an order number or anything longer is a new matter (a ticket).
- `summary(since)`: average rating and how many, for the owner's numbers.
"""

from __future__ import annotations

import datetime as dt
import logging
import re

from peewee import fn

import config
import outbox
from db.models import Ticket
from handlers.core import clock, customers, events, texts, tickets
from handlers.features import faq

log = logging.getLogger(__name__)

LOW = 2  # ratings up to this one alert the agents
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")  # Urdu and Arabic-Indic
_NUMBER = re.compile(r"([1-5])(?![0-9]|[.,٫]\d)(?:\s*(?:/|out of)\s*5(?![0-9]))?", re.IGNORECASE)
STARS = "⭐★🌟"
_STARS = re.compile(f"(?:[{STARS}]\ufe0f?\\s*)+")
_SEPARATORS = f" \t\r\n-–—,.:;!\ufe0f{STARS}"


@events.on(events.TICKET_CLOSED)
def ask(ticket: Ticket) -> None:
    """The ticket was just closed: ask the customer to rate the help (once per ticket; not when the
    customer is known to be unreachable there)."""
    if not config.csat().enabled or ticket.csat_asked_at is not None or ticket.contact.unreachable:
        return
    ticket.csat_asked_at = clock.now()
    ticket.save()
    lang = customers.language_of(ticket.customer)
    outbox.to_contact(
        ticket.contact,
        texts.render(lang, "csat_ask", ticket=ticket.number, name=customers.greeting_name(ticket.customer)),
        purpose="csat",
        ticket=ticket,
    )


def parse_answer(text: str) -> tuple[int | None, str | None]:
    """(rating, comment) of an answer: "5" → (5, None), "۴ ok" → (4, "ok"), "⭐⭐" → (2, None),
    "2 very slow" → (2, "very slow"), "slow" → (None, "slow")."""
    text = text.strip()
    number = _NUMBER.match(text.translate(_DIGITS))  # the translation keeps every position
    stars = _STARS.match(text)
    if number:
        rating, rest = int(number.group(1)), text[number.end() :]
    elif stars:
        rating, rest = min(5, sum(c in STARS for c in text[: stars.end()])), text[stars.end() :]
    else:
        return None, text or None
    return rating, rest.lstrip(_SEPARATORS).strip() or None


def _latest(customer) -> Ticket | None:
    return Ticket.select().where(Ticket.customer == customer).order_by(Ticket.id.desc()).first()


def _unanswered(ticket: Ticket | None) -> bool:
    """Asked, not answered, and still within the answer window."""
    if ticket is None or ticket.csat_asked_at is None:
        return False
    if ticket.rating is not None or ticket.rating_comment is not None:
        return False
    return clock.now() - ticket.csat_asked_at <= dt.timedelta(hours=config.csat().answer_within_hours)


def question_waiting(customer) -> Ticket | None:
    """The ticket whose rating question the customer's next message answers: their latest ticket, with an
    unanswered question, while no ticket of theirs is open."""
    if not _unanswered(_latest(customer)):
        return None  # the usual case, decided without a lock
    if tickets.open_ticket_of(customer) is not None:  # locks the customer (PostgreSQL), like a new message
        return None
    latest = _latest(customer)  # again under the lock: a concurrent message may have won
    return latest if _unanswered(latest) else None


COMMENT_WORDS = 6  # a comment on the help without a rating: at most this many words …
COMMENT_CHARS = 60  # … and characters
RATED_CHARS = 200  # a rating with words: at most this long


def is_rating_answer(text: str) -> bool:
    """A rating with or without words about the help ("4", "⭐⭐⭐", "2 very slow"), or a short comment on
    the help ("thanks", "very slow"). Not a complaint, a question or anything longer: when unsure, it is
    a new matter. (Words naming an order are one too: the customer router asks the orders' reading first.)"""
    text = text.strip()
    rating, comment = parse_answer(text)
    words = comment or ""
    if rating is not None:
        return len(text) <= RATED_CHARS
    if len(words) > COMMENT_CHARS or len(words.split()) > COMMENT_WORDS:
        return False
    return not (
        faq.is_complaint(words) or faq.is_question(words) or faq.is_greeting(words) or "?" in words or "؟" in words
    )


def record_answer(ticket: Ticket, customer, contact, text: str) -> None:
    """The customer's answer to the rating question: kept, thanked, and shown in the ticket's thread."""
    ticket.rating, ticket.rating_comment = parse_answer(text)
    ticket.save()
    lang = customers.language_of(customer)
    outbox.to_contact(
        contact,
        texts.render(lang, "csat_thanks", name=customers.greeting_name(customer)),
        purpose="csat",
        ticket=ticket,
    )
    outbox.to_group(_for_agents(ticket, customers.display_name(customer)), purpose="agents", ticket=ticket)
    log.info(
        "csat answer ticket=%s rating=%s comment=%s", ticket.number, ticket.rating, ticket.rating_comment is not None
    )


def _for_agents(ticket: Ticket, name: str) -> str:
    """What the agents read in the ticket's thread: the rating (an alert when low) and the words."""
    if ticket.rating is None:
        head = "agents/csat_feedback"
    else:
        head = "agents/csat_low" if ticket.rating <= LOW else "agents/csat_rated"
    lines = [texts.for_agents(head, ticket=ticket.number, name=name, rating=ticket.rating)]
    if ticket.rating_comment:
        lines.append(texts.for_agents("agents/csat_comment", comment=ticket.rating_comment))
    return "\n".join(lines)


def summary(since: dt.datetime | None = None, only=None) -> dict:
    """{"average": mean rating (2 decimals, None without ratings), "count": ratings} of the tickets
    whose question was asked at or after `since` (naive UTC; None: all time); `only`: a condition on the
    tickets (one team's)."""
    query = Ticket.select(fn.AVG(Ticket.rating), fn.COUNT(Ticket.rating)).where(Ticket.rating.is_null(False))
    if only is not None:
        query = query.where(only)
    if since is not None:
        query = query.where(Ticket.csat_asked_at >= since)
    average, count = query.scalar(as_tuple=True)
    return {"average": round(float(average), 2) if count else None, "count": int(count or 0)}
