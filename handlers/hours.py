"""Business hours: what the acknowledgement promises, and business minutes between two moments."""
from __future__ import annotations

import config
from handlers import customers, texts


def acknowledgement(lang: str, customer, ticket, first_contact: bool) -> str:
    """The acknowledgement of a new ticket: its number and when the team will answer."""
    app = config.current()["app"]
    return texts.render(lang, "ack_welcome" if first_contact else "ack", name=customers.greeting_name(customer),
                        ticket=ticket.number, minutes=app["first_response_minutes"], shop=app["shop_name"])


def business_minutes(start, end) -> float:
    """Minutes between two naive-UTC moments that fall inside business hours."""
    return max(0.0, (end - start).total_seconds() / 60)
