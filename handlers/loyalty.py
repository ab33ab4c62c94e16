"""Coupons and loyalty: personal discount codes (/discount), points from orders, tiers, "points"."""
from __future__ import annotations

from bots.base import Inbound
from db.models import Contact, Customer


def on_customer_message(inbound: Inbound, customer: Customer, contact: Contact) -> bool:
    """A customer asking for their points (/points, "points", "پوائنٹس"); True when handled."""
    return False


def agent_command(name: str, args: str, ticket, agent, agent_name: str):
    """The agents' coupon commands (/discount); handlers.agents.NOT_MINE for any other command."""
    from handlers.agents import NOT_MINE
    return NOT_MINE
