"""Customer satisfaction: ask for a 1–5 rating when a ticket closes, understand the answer."""
from __future__ import annotations


def ask(ticket) -> None:
    """Called when a ticket closes (issue 3 fills this in)."""


def take_answer(customer, contact, inbound) -> bool:
    """True when this message was the answer to a rating question (and has been handled)."""
    return False
