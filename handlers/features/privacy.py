"""One customer's data on request: find them, export everything stored about them, or forget them.

Forgetting erases what identifies the person — name, username, phone and Telegram ids, the addresses they wrote
from, every message text and media reference of their tickets, birthdays and anniversaries, their questions,
labels and self-service state, and their words wherever else they were copied (messages in the outbox, failed
webhook events kept for replay). It keeps the rows as anonymous counts (tickets with their times, ratings and
tags, orders, points, coupons), so the owners' numbers stay true, and records when it happened (Erasure). A new
message from the same number or Telegram account then starts a new customer.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from decimal import Decimal

from peewee import OP, Expression, Value
from playhouse.shortcuts import model_to_dict

from db.connection import write
from db.models import (
    Contact,
    Coupon,
    Customer,
    CustomerTag,
    Erasure,
    FaqLog,
    GreetingSent,
    InboundEvent,
    Message,
    Order,
    Outbox,
    PointsChange,
    Ticket,
)
from handlers.core import clock, customers
from handlers.features import orderdata

log = logging.getLogger(__name__)

KINDS = ("phone", "telegram", "customer")
ERASED = "—"  # what stands where the person's name or number was


class Unknown(Exception):
    """No such customer (or not one customer): the message says which and how to ask."""


# ---- finding the customer ----------------------------------------------------------------------------------
def find(ref: str) -> Customer:
    """The customer a person means by PHONE (+92300…, 0300-…), TELEGRAM_ID or CUSTOMER_ID; `phone:`,
    `telegram:` or `customer:` in front settles a bare number that could be more than one of them."""
    kind, _, value = ref.strip().partition(":")
    if kind not in KINDS:
        kind, value = "", ref.strip()
    value = orderdata.ascii_digits(value).strip()
    found: dict[int, tuple[str, Customer]] = {}
    for name, customer in _candidates(kind, value):
        if customer is not None and not Erasure.select().where(Erasure.customer == customer).exists():
            found.setdefault(customer.id, (name, customer))
    if not found:
        raise Unknown(f"no customer {ref!r} (give a phone number, a Telegram id or a customer id)")
    if len(found) > 1:
        meant = ", ".join(f"{name}:{value} is customer {cid}" for cid, (name, _) in sorted(found.items()))
        raise Unknown(f"{ref!r} is more than one customer ({meant}): put phone:, telegram: or customer: in front")
    return next(iter(found.values()))[1]


def _candidates(kind: str, value: str):
    digits = value.lstrip("+").isdigit()
    if kind in ("", "phone") and (kind == "phone" or not digits or value.startswith(("+", "0"))):
        number = _phone(value)
        if number:
            yield "phone", Customer.get_or_none(Customer.phone == number)
    if not digits or value.startswith("+") or len(value) > 18:
        return
    if kind in ("", "telegram"):
        yield "telegram", Customer.get_or_none(Customer.telegram_user_id == int(value))
    if kind in ("", "customer"):
        yield "customer", Customer.get_or_none(Customer.id == int(value))


def _phone(value: str) -> str | None:
    try:
        return orderdata.phone(value)
    except ValueError:
        return None


# ---- export ------------------------------------------------------------------------------------------------
def _plain(value):
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _row(instance, *exclude) -> dict:
    fields = [getattr(type(instance), name) for name in exclude]
    return _plain(model_to_dict(instance, recurse=False, exclude=fields))


def export(customer: Customer) -> dict:
    """Everything stored about the customer, as plain JSON values."""
    tickets = []
    for ticket in Ticket.select().where(Ticket.customer == customer).order_by(Ticket.id):
        row = _row(ticket, "customer", "group_chat_id", "root_message_id", "thread_id")
        row["number"] = ticket.number
        row["messages"] = [
            _row(m, "ticket") for m in Message.select().where(Message.ticket == ticket).order_by(Message.id)
        ]
        tickets.append(row)
    person = _row(customer, "dialog")
    person["opted_out_of_offers"] = person.pop("marketing_opt_out")
    person["tags"] = [t.tag for t in CustomerTag.select().where(CustomerTag.customer == customer)]
    return {
        "customer": person,
        "contacts": [_row(c, "customer") for c in Contact.select().where(Contact.customer == customer)],
        "tickets": tickets,
        "orders": [_row(o, "customer") for o in Order.select().where(Order.customer == customer).order_by(Order.id)],
        "coupons": [_row(c, "customer") for c in Coupon.select().where(Coupon.customer == customer)],
        "points_changes": [
            _row(p, "customer")
            for p in PointsChange.select().where(PointsChange.customer == customer).order_by(PointsChange.id)
        ],
        "greetings_sent": [_row(g, "customer") for g in GreetingSent.select().where(GreetingSent.customer == customer)],
        "questions": [_row(q, "customer") for q in FaqLog.select().where(FaqLog.customer == customer)],
    }


# ---- forget ------------------------------------------------------------------------------------------------
def forget(customer: Customer) -> Erasure:
    """Erase the customer's personal data (see the module's docstring), in one transaction; the record of it."""
    with write():
        names, numbers = _needles(customer)
        contacts = list(Contact.select().where(Contact.customer == customer))
        tickets = Ticket.select(Ticket.id).where(Ticket.customer == customer)
        lanes = [f"{c.channel}:{c.address}" for c in contacts]
        record = Erasure.create(
            customer=customer,
            erased_at=clock.now(),
            tickets=tickets.count(),
            messages=Message.select().where(Message.ticket.in_(tickets)).count(),
            orders=Order.select().where(Order.customer == customer).count(),
        )
        Outbox.update(status="skipped", reason="forgotten").where(
            Outbox.destination.in_(lanes) & (Outbox.status == "pending")
        ).execute()
        Outbox.update(payload={}, chat_id=ERASED, destination=ERASED).where(Outbox.destination.in_(lanes)).execute()
        Outbox.update(payload={}).where(Outbox.ticket.in_(tickets)).execute()
        for contact in contacts:
            Contact.update(address=f"erased-{contact.id}", unreachable="erased", unreachable_at=clock.now()).where(
                Contact.id == contact.id
            ).execute()
        Message.update(text="", media=None).where(Message.ticket.in_(tickets)).execute()
        Ticket.update(subject="", close_reason=None, rating_comment=None).where(Ticket.customer == customer).execute()
        Ticket.update(status="closed", closed_at=clock.now(), closed_by="erased").where(
            (Ticket.customer == customer) & (Ticket.status == "open")
        ).execute()
        FaqLog.update(question="").where(FaqLog.customer == customer).execute()
        CustomerTag.delete().where(CustomerTag.customer == customer).execute()
        Customer.update(
            name="",
            phone=None,
            telegram_user_id=None,
            username=None,
            birthday=None,
            birth_year=None,
            anniversary=None,
            dialog=None,
            marketing_opt_out=True,
        ).where(Customer.id == customer.id).execute()
        _scrub_elsewhere(names, numbers)
    log.info("customer %d forgotten: %d tickets, %d messages erased", customer.id, record.tickets, record.messages)
    return record


def _needles(customer: Customer) -> tuple[list[str], list[str]]:
    """What identifies the customer: their names (name, @username) and their numbers (phone with and without +,
    Telegram id, the addresses they wrote from), longest first."""
    names = {customer.name, customer.username and f"@{customer.username}"}
    numbers = {customer.phone, customer.phone and customer.phone.lstrip("+")}
    if customer.telegram_user_id:
        numbers.add(str(customer.telegram_user_id))
    for contact in Contact.select().where(Contact.customer == customer):
        numbers |= {contact.address, contact.address.removeprefix("whatsapp:")}

    def usable(found):
        return sorted((n for n in found if n and len(n.strip()) >= 2), key=len, reverse=True)

    return usable(names), usable(numbers)


def _pattern(needles: list[str]) -> re.Pattern:
    """Each needle as a whole word or number (a name inside a longer word, or digits inside a longer number,
    are someone else's)."""
    return re.compile("|".join(rf"(?<![\w+]){re.escape(n)}(?!\w)" for n in needles))


def _scrubbed(value, pattern: re.Pattern):
    if isinstance(value, str):
        return pattern.sub(ERASED, value)
    if isinstance(value, dict):
        return {k: _scrubbed(v, pattern) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v, pattern) for v in value]
    return value


def _scrub_elsewhere(names: list[str], numbers: list[str]) -> None:
    """Their name or number copied into other rows. Messages in the outbox (group summaries, lists) lose both;
    other tickets' messages and coupon reasons lose the numbers only (a name there may be someone else's);
    failed webhook events kept for replay are emptied (they can no longer be replayed)."""
    targets = (
        (Outbox.payload, names + numbers),
        (Message.text, numbers),
        (Coupon.reason, numbers),
    )
    for column, needles in targets:
        if not needles:
            continue
        model, pattern = column.model, _pattern(sorted(needles, key=len, reverse=True))
        for row_id, value in model.select(model.id, column).where(_mentions(column, needles)).tuples():
            cleaned = _scrubbed(value, pattern)
            if cleaned != value:
                model.update({column: cleaned}).where(model.id == row_id).execute()
    if numbers:
        InboundEvent.update(payload=None).where(
            _mentions(InboundEvent.payload, numbers) & (InboundEvent.status != "pending")  # pending: still to handle
        ).execute()


def _mentions(column, needles: list[str]):
    """Rows whose column holds any of the needles (as raw text: a JSON column's value is not converted)."""
    condition = None
    for needle in needles:
        found = Expression(column, OP.ILIKE, Value(f"%{needle}%", converter=False))
        condition = found if condition is None else condition | found
    return condition


def display(customer: Customer) -> str:
    """How the command line names the customer: id, name and where they write from (numbers masked)."""
    contacts = Contact.select().where(Contact.customer == customer)
    where = ", ".join(f"{c.channel} {customers.mask(c.address)}" for c in contacts) or "no contact"
    return f"customer {customer.id} ({customer.name or 'no name'}; {where})"
