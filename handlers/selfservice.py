"""Self-service: the menu, answers to common questions (FAQ) and the handoff to a person."""
from __future__ import annotations

from bots.base import Inbound
from db.models import Contact, Customer


def on_customer_message(inbound: Inbound, customer: Customer, contact: Contact) -> bool:
    """A message the bot answers itself (menu, a common question, feedback on an answer); True when handled.
    Anything else (a complaint above all) goes on to the ticket rules."""
    return False
