"""Greetings: birthdays, anniversaries and the shop's holidays, sent once a year by a daily job."""
from __future__ import annotations

from bots.base import Inbound
from db.models import Contact, Customer


def on_customer_message(inbound: Inbound, customer: Customer, contact: Contact) -> bool:
    """A customer telling us their birthday (/birthday DD-MM, "birthday 14-08"); True when handled."""
    return False


def agent_command(name: str, args: str, ticket, agent, agent_name: str):
    """The agents' greeting commands (/setbirthday); handlers.agents.NOT_MINE for any other command."""
    from handlers.agents import NOT_MINE
    return NOT_MINE
