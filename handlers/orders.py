"""Orders: imports (CSV) and pushes (API), "where is my order", delay notices and the overdue-orders job."""
from __future__ import annotations

from bots.base import Inbound
from db.models import Contact, Customer


def on_customer_message(inbound: Inbound, customer: Customer, contact: Contact) -> bool:
    """A customer's message about an order (its status, or an answer to a delay notice); True when handled."""
    return False


def agent_command(name: str, args: str, ticket, agent, agent_name: str):
    """The agents' order commands (/delay); handlers.agents.NOT_MINE for any other command."""
    from handlers.agents import NOT_MINE
    return NOT_MINE
