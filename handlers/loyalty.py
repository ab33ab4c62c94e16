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


def on_order_saved(order) -> None:
    """An order was created or changed (import, API): award its points once it counts (see the settings)."""
    return None


def issue_coupon(customer, *, kind: str, value, issued_by: str, reason: str = "", ticket=None, order=None,
                 valid_days: int | None = None):
    """A new personal coupon with a unique code (not yet sent: the caller words and enqueues the message)."""
    import datetime as dt
    import secrets

    from db.models import Coupon
    from handlers import clock
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"   # no 0/O, 1/I: codes are read aloud and typed on phones
    for _ in range(10):
        code = "".join(secrets.choice(alphabet) for _ in range(8))
        if not Coupon.select().where(Coupon.code == code).exists():
            break
    expires = clock.now().date() + dt.timedelta(days=valid_days) if valid_days else None
    return Coupon.create(code=code, customer=customer, kind=kind, value=value, expires_on=expires,
                         issued_by=issued_by, reason=reason, ticket=ticket, order=order)
