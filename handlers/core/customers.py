"""Who is writing: find or create the customer and the contact (channel + address) they wrote from."""

from __future__ import annotations

import datetime as dt
import re

import config
from bots.base import SMS, TELEGRAM, WHATSAPP, Inbound
from db.models import Contact, Customer, Ticket
from handlers.core import clock, texts

CHANNEL_NAMES = {TELEGRAM: "Telegram", WHATSAPP: "WhatsApp", SMS: "SMS"}
WHATSAPP_WINDOW = dt.timedelta(hours=24)  # free-form WhatsApp messages only this long after the customer's last

# SMS carriers opt a number out on all of these (Twilio then refuses sends with 21610); on WhatsApp and
# Telegram only the unambiguous ones count, so "cancel" there stays a message about an order.
# The carrier (Twilio's opt-out handling) answers its own English keywords; the Urdu ones are ours to answer.
CARRIER_OPT_OUT = {"stop", "stopall", "unsubscribe", "end", "quit", "revoke", "optout", "cancel"}
CARRIER_OPT_IN = {"start", "unstop", "yes"}
SMS_OPT_OUT = CARRIER_OPT_OUT | {"بند"}
SMS_OPT_IN = CARRIER_OPT_IN | {"شروع"}
CHAT_OPT_OUT = {"stop", "unsubscribe", "بند", "/stop"}
CHAT_OPT_IN = {"start", "شروع"}  # "begin": an Urdu reader's START


def phone_of(inbound: Inbound) -> str | None:
    if inbound.channel in (WHATSAPP, SMS):
        number = inbound.chat_id.removeprefix("whatsapp:")
        return number if re.fullmatch(r"\+\d{6,15}", number) else None
    return None


def identify(inbound: Inbound) -> tuple[Customer, Contact]:
    """The customer and contact behind an inbound message, created on first contact.

    WhatsApp and SMS from the same number are one customer; the language follows what they write.
    Must run inside a write transaction.
    """
    contact = (
        Contact.select(Contact, Customer)
        .join(Customer)
        .where((Contact.channel == inbound.channel) & (Contact.address == inbound.chat_id))
        .first()
    )
    if contact is None:
        customer = None
        phone = phone_of(inbound)
        telegram_id = int(inbound.user_id) if inbound.channel == TELEGRAM and inbound.user_id else None
        if phone:
            customer = Customer.get_or_none(phone=phone)
        if customer is None and telegram_id:
            customer = Customer.get_or_none(telegram_user_id=telegram_id)
        if customer is None:
            customer = Customer.create(
                name=(inbound.user_name or "")[:200],
                phone=phone,
                username=inbound.username,
                telegram_user_id=telegram_id,
                language=texts.detect_language(inbound.text, inbound.language_code, None),
            )
        contact = Contact.create(
            customer=customer, channel=inbound.channel, address=inbound.chat_id, last_inbound_at=clock.now()
        )
        contact.customer = customer
        contact._dirty.clear()
    else:
        contact.last_inbound_at = clock.now()
    customer = contact.customer
    changed = False
    language = texts.detect_language(inbound.text, inbound.language_code, customer.language)
    if language != customer.language:
        customer.language, changed = language, True
    if inbound.user_name and not customer.name:
        customer.name, changed = inbound.user_name[:200], True
    if inbound.username and inbound.username != customer.username:
        customer.username, changed = inbound.username, True
    if changed:
        customer.save()
    if contact.unreachable:  # they wrote to us, so they can be reached again
        contact.unreachable = None
        contact.unreachable_at = None
    if contact.is_dirty():
        contact.save()
    return customer, contact


def best_contact(customer: Customer) -> Contact | None:
    """Where a proactive message to this customer (greeting, coupon, order-delay notice) goes; None when nowhere.

    The one rule for every message the shop starts (replies to a ticket go to the ticket's contact instead):
    - the reachable contact the customer last wrote from (a contact marked unreachable — blocked,
      unsubscribed, invalid number — is never chosen; a contact they never wrote from counts as oldest);
    - a customer who never wrote (known from an order import or the API) and has no contact yet: by phone,
      WhatsApp when twilio.whatsapp_from is set, else SMS when twilio.sms_from is set; by Telegram id
      (private chat id = user id) when there is no phone. The Contact is created here, so call this inside
      a write transaction;
    - None when every contact is unreachable, or there is no way to write to them.
    The caller still decides what the channel allows: a WhatsApp contact outside the 24-hour window
    (outside_window; never written from = outside) takes an approved template.
    """
    contacts = list(Contact.select().where(Contact.customer == customer))
    reachable = [c for c in contacts if not c.unreachable]
    if reachable:
        best = max(reachable, key=lambda c: (c.last_inbound_at or dt.datetime.min, c.id))
        best.customer = customer
        return best
    if contacts:
        return None
    twilio = config.twilio()
    if customer.phone and twilio.whatsapp_from:
        channel, address = WHATSAPP, f"whatsapp:{customer.phone}"
    elif customer.phone and twilio.sms_from:
        channel, address = SMS, customer.phone
    elif customer.telegram_user_id:
        channel, address = TELEGRAM, str(customer.telegram_user_id)
    else:
        return None
    contact = Contact.get_or_none((Contact.channel == channel) & (Contact.address == address))
    if contact is None:
        contact = Contact.create(customer=customer, channel=channel, address=address)
    elif contact.customer_id != customer.id or contact.unreachable:
        return None  # the address belongs to someone else, or cannot be reached
    contact.customer = customer
    return contact


def channel_name(channel: str) -> str:
    return CHANNEL_NAMES.get(channel, channel)


def outside_window(contact: Contact, now: dt.datetime) -> bool:
    """A WhatsApp contact outside the 24-hour window (or never written from): only an approved template goes."""
    return contact.channel == WHATSAPP and (
        contact.last_inbound_at is None or now - contact.last_inbound_at > WHATSAPP_WINDOW
    )


def language_of(customer: Customer) -> str:
    return customer.language or texts.detect_language("", None, None)


def greeting_name(customer: Customer) -> str:
    """How a message addresses the customer: their name, or "dear customer" in their language."""
    return customer.name or texts.render(language_of(customer), "dear_customer")


def display_name(customer: Customer) -> str:
    return customer.name or (f"@{customer.username}" if customer.username else "") or texts.for_agents("agents/no_name")


def address_for_agents(contact: Contact) -> str:
    """Phone number or @username, as agents need it to recognise the customer."""
    if contact.channel == TELEGRAM:
        customer = contact.customer
        return (
            f"@{customer.username}" if customer.username else texts.for_agents("agents/telegram_id", id=contact.address)
        )
    return contact.address.removeprefix("whatsapp:")


def earlier_tickets(customer: Customer, ticket: Ticket) -> int:
    return Ticket.select().where((Ticket.customer == customer) & (Ticket.id != ticket.id)).count()


def opt_out_word(channel: str, text: str, opted_out: bool) -> str | None:
    """'out' when the whole message is an opt-out keyword, 'in' for an opt-in keyword from an opted-out customer."""
    word = _keyword(text)
    if word in (SMS_OPT_OUT if channel == SMS else CHAT_OPT_OUT):
        return "out"
    if opted_out and word in (SMS_OPT_IN if channel == SMS else CHAT_OPT_IN):
        return "in"
    return None


def carrier_answers(channel: str, text: str) -> bool:
    """Whether the SMS carrier already answered this opt-out or opt-in keyword itself (so we stay silent)."""
    return channel == SMS and _keyword(text) in CARRIER_OPT_OUT | CARRIER_OPT_IN


def _keyword(text: str) -> str:
    return text.strip().strip(".!").lower()


def mask(address: str) -> str:
    """An address safe for logs: the last four digits only."""
    digits = re.sub(r"\D", "", address or "")
    return f"…{digits[-4:]}" if len(digits) > 4 else "…"
