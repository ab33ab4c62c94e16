"""Service levels: first response and resolution times per ticket, reminders and breaches."""
from __future__ import annotations

from handlers import clock, hours


def on_first_response(ticket) -> None:
    """An agent answered the customer for the first time (caller saves the ticket)."""
    ticket.first_response_at = clock.now()
    ticket.first_response_minutes = hours.business_minutes(ticket.created_at, ticket.first_response_at)


def on_closed(ticket) -> None:
    """The ticket was closed (caller saves the ticket)."""
    ticket.resolution_minutes = hours.business_minutes(ticket.created_at, ticket.closed_at)
