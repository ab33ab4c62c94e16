"""Coupons at the till: redeeming a code (the shop's API, POST /api/coupons/<code>/redeem), an agent looking one
up (/coupon CODE in the group), and the customer's coupons in a ticket's /history. Coupons are issued in
handlers/features/loyalty.py (/discount), greetings and delay notices.

A code is redeemed once, even when two tills send it at the same moment: one conditional UPDATE … WHERE
redeemed_at IS NULL AND (not expired) sets redeemed_at, and only the request whose UPDATE changed the row (its
rowcount) is told "redeemed"; every other gets "already redeemed". A coupon is valid through the shop-local day of
expires_on. The redemption is noted in the ticket the coupon was issued in (its conversation and /history) and
counted on the owners' dashboard (Proactive care: coupons redeemed).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import config
from db.models import Coupon, Customer, Message
from handlers.core import clock, commands, customers, texts
from handlers.features import loyalty

log = logging.getLogger(__name__)

REDEEMED, UNKNOWN, ALREADY, EXPIRED = "redeemed", "unknown", "already_redeemed", "expired"
HISTORY_COUPONS = 5  # /history shows this many of the customer's latest coupons
_CODE = re.compile(r"[A-Za-z0-9-]{1,32}")


@dataclass
class Redemption:
    outcome: str  # REDEEMED / UNKNOWN / ALREADY / EXPIRED
    coupon: Coupon | None = None


def clean_code(code: str) -> str:
    """A code as a till or an agent types it: 'abcd 2345', ' ABCD2345 ' → 'ABCD2345'; '' when it cannot be one."""
    code = re.sub(r"\s+", "", code or "").upper()
    return code if _CODE.fullmatch(code) else ""


def _expired(coupon: Coupon, today: dt.date) -> bool:
    expires = coupon.expires_on
    if isinstance(expires, str):
        expires = dt.date.fromisoformat(expires)
    return expires is not None and expires < today


def redeem(code: str, till: str = "") -> Redemption:
    """Redeem a code once (call inside a write transaction): REDEEMED with the coupon for the one request whose
    conditional UPDATE took it; UNKNOWN, ALREADY or EXPIRED otherwise."""
    code = clean_code(code)
    if not code:
        return Redemption(UNKNOWN)
    now, today = clock.now(), clock.local_now().date()
    still_valid = Coupon.expires_on.is_null() | (Coupon.expires_on >= today)
    taken = (
        Coupon.update(redeemed_at=now, redeemed_by=(till or "").strip()[:100] or None)
        .where((Coupon.code == code) & Coupon.redeemed_at.is_null() & still_valid)
        .execute()
    )
    coupon = Coupon.get_or_none(Coupon.code == code)
    if coupon is None:
        log.info("coupon redeem refused: unknown code")
        return Redemption(UNKNOWN)
    if not taken:
        outcome = ALREADY if coupon.redeemed_at is not None else EXPIRED
        log.info("coupon %s redeem refused: %s", coupon.id, outcome)
        return Redemption(outcome, coupon)
    _note_in_ticket(coupon)
    log.info("coupon %s redeemed customer=%s ticket=%s", coupon.id, coupon.customer_id, coupon.ticket_id)
    return Redemption(REDEEMED, coupon)


def _note_in_ticket(coupon: Coupon) -> None:
    """The redemption as an internal note in the ticket the coupon was issued in (its /history shows it too)."""
    if coupon.ticket_id is None:
        return
    note = texts.for_agents("agents/coupon_redeemed_note", **_agent_words(coupon))
    Message.create(ticket=coupon.ticket_id, direction="note", channel="telegram", text=note, created_at=clock.now())


def as_dict(coupon: Coupon) -> dict:
    """A coupon as the API answers it."""
    expires = coupon.expires_on
    return {
        "code": coupon.code,
        "kind": coupon.kind,
        "value": str(Decimal(str(coupon.value)).quantize(Decimal("0.01"))),
        "value_words": loyalty.value_words(config.app().agent_language, coupon.kind, coupon.value),  # staff read it
        "expires_on": expires.isoformat() if hasattr(expires, "isoformat") else expires,
        "customer_id": coupon.customer_id,
        "ticket": coupon.ticket.number if coupon.ticket_id else None,
        "redeemed_at": coupon.redeemed_at.isoformat(timespec="seconds") + "Z" if coupon.redeemed_at else None,
        "redeemed_by": coupon.redeemed_by,
    }


# ---- what agents read ---------------------------------------------------------------------------------------
def _local(moment: dt.datetime) -> str:
    """A moment (naive UTC) as the shop's clock read it: '2026-11-25 12:00'."""
    zone = ZoneInfo(config.app().timezone)
    return moment.replace(tzinfo=dt.UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _agent_words(coupon: Coupon) -> dict:
    lang = config.app().agent_language
    words = loyalty.coupon_words(lang, coupon)
    return {
        **words,
        "till": texts.for_agents("agents/coupon_till", till=coupon.redeemed_by) if coupon.redeemed_by else "",
        "when": _local(coupon.redeemed_at) if coupon.redeemed_at else "",
    }


def _state(coupon: Coupon) -> str:
    words = _agent_words(coupon)
    if coupon.redeemed_at:
        return texts.for_agents("agents/coupon_state_redeemed", **words)
    if _expired(coupon, clock.local_now().date()):
        return texts.for_agents("agents/coupon_state_expired", **words)
    return texts.for_agents("agents/coupon_state_open", **words)


def _customer_name(coupon: Coupon) -> str:
    customer = Customer.get_or_none(Customer.id == coupon.customer_id) if coupon.customer_id else None
    return customers.display_name(customer) if customer else texts.for_agents("agents/coupon_anyone")


@commands.command("coupon")
def coupon_command(name: str, args: str, ticket, agent, agent_name: str):
    """/coupon CODE anywhere in the agents' group: who issued it, for whom, its value, until when, whether and
    when it was redeemed."""
    code = clean_code(args)
    if not code or len(args.split()) > 2:
        return texts.for_agents("agents/usage_coupon")
    coupon = Coupon.get_or_none(Coupon.code == code)
    if coupon is None:
        return texts.for_agents("agents/coupon_unknown", code=code)
    words = _agent_words(coupon)
    return texts.for_agents(
        "agents/coupon_card",
        name=_customer_name(coupon),
        issued_by=coupon.issued_by or "—",
        issued=_local(coupon.created_at),
        reason=f" — {coupon.reason}" if coupon.reason else "",
        ticket=texts.for_agents("agents/coupon_in_ticket", ticket=coupon.ticket.number) if coupon.ticket_id else "",
        state=_state(coupon),
        **words,
    )


def history(customer: Customer) -> str:
    """The customer's latest coupons for /history (newest first): code, value, issued, redeemed or not; '' if none."""
    latest = list(
        Coupon.select()
        .where(Coupon.customer == customer)
        .order_by(Coupon.created_at.desc(), Coupon.id.desc())
        .limit(HISTORY_COUPONS)
    )
    if not latest:
        return ""
    lines = [
        texts.for_agents(
            "agents/coupon_history_line",
            issued=_local(c.created_at)[:10],
            issued_by=c.issued_by or "—",
            state=_state(c),
            **_agent_words(c),
        )
        for c in latest
    ]
    return "\n".join([texts.for_agents("agents/coupon_history_head"), *lines])


def stats(since: dt.datetime) -> str:
    """The coupons line of /stats: issued and redeemed since a moment (each by its indexed time); '' when none."""
    issued = Coupon.select().where(Coupon.created_at >= since).count()
    redeemed = Coupon.select().where(Coupon.redeemed_at >= since).count()
    if not (issued or redeemed):
        return ""
    return texts.for_agents("agents/stats_coupons", issued=issued, redeemed=redeemed)
