"""What happens to a ticket, announced: the ticket's life (handlers.core.tickets) says a ticket was opened,
got its first response or was closed, and the features that care (the rating question, SLA, self-service
context) subscribe. Order changes are announced the same way (loyalty points). Subscribers run in the
announcer's transaction, in the order they subscribed."""

from __future__ import annotations

from collections.abc import Callable

TICKET_OPENED = "ticket_opened"  # (ticket, customer, channel)
TICKET_POSTED = "ticket_posted"  # (ticket): its card is on its way to the group (what follows comes after it)
FIRST_RESPONSE = "first_response"  # (ticket)
TICKET_CLOSED = "ticket_closed"  # (ticket)
ORDER_SAVED = "order_saved"  # (order)

_subscribers: dict[str, list[Callable]] = {}


def on(event: str):
    """Subscribe the decorated function to `event`."""

    def subscribe(fn: Callable) -> Callable:
        if fn not in _subscribers.setdefault(event, []):
            _subscribers[event].append(fn)
        return fn

    return subscribe


def announce(event: str, *args) -> None:
    for fn in list(_subscribers.get(event, ())):
        fn(*args)
