"""Coupons and loyalty: personal discount codes (/discount), points from orders, tiers, "points".

- Coupons: unique 8-character codes (no 0/O, 1/I), percent or amount, an expiry (shop-local date), who issued
  them and why. Agents issue them in a ticket with /discount (within coupons.agent_max_percent /
  agent_max_amount; owners have no limit); greetings issue them too (handlers/greetings.py).
- Points: loyalty.points_per_100 per 100 of an order's amount, once per order (Order.points_awarded), when
  the order's status is one of loyalty.award_statuses (delivered) — on_order_saved hears every saved order
  (handlers.core.events.ORDER_SAVED); taken back when that order is then cancelled or returned, never below zero.
  Every change is a PointsChange row (the ledger). The tier (loyalty.tiers, "Name:threshold") is kept in
  Customer.tier; a customer who goes up a tier is told in their language (loyalty/tier_up).
- Customers ask "points", "پوائنٹس", "points kitne hain", /points; with an open ticket only /points or the
  bare word is answered by the bot (anything else is words for the agents).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from decimal import Decimal, InvalidOperation

from peewee import fn

import config
import outbox
from db.connection import write
from db.models import Contact, Coupon, Customer, Message, Order, PointsChange, Ticket
from handlers.core import cards, clock, commands, customers, events, team, texts
from handlers.features import campaigns

log = logging.getLogger(__name__)

POINT_WORDS = {"points", "point", "pts", "پوائنٹس", "پوائنٹ", "پوائنٹز"}
EXACT_WORDS = {"points", "پوائنٹس"}  # all the bot answers by itself while the customer has an open ticket
# words that may stand around the point word in a question about them ("how many points do I have",
# "mere points kitne hain", "میرے پوائنٹس کتنے ہیں"); any other word makes it a message for the agents
FILLER_WORDS = {
    "my",
    "mere",
    "meray",
    "mery",
    "mairay",
    "how",
    "many",
    "much",
    "do",
    "i",
    "have",
    "what",
    "are",
    "is",
    "check",
    "balance",
    "total",
    "loyalty",
    "show",
    "please",
    "plz",
    "pls",
    "kitne",
    "kitnay",
    "kitny",
    "kitni",
    "hain",
    "hai",
    "hen",
    "hy",
    "ke",
    "kay",
    "ki",
    "batao",
    "bataen",
    "bataein",
    "bta",
    "btao",
    "me",
    "mujhe",
    "kya",
    "میرے",
    "میرا",
    "میری",
    "کتنے",
    "کتنی",
    "ہیں",
    "ہے",
    "چیک",
    "بیلنس",
    "لائلٹی",
    "بتائیں",
    "بتاؤ",
    "کیا",
    "کریں",
    "پلیز",
    "مجھے",
}
_PUNCTUATION = re.compile(r"[?؟!.,،۔:;'\"()]+")
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud and typed on phones
TAKE_BACK_STATUSES = ("cancelled", "returned")  # an awarded order in one of these gives its points back
AWARDED, ADJUSTED = "awarded", "adjusted"  # PointsChange.reason (or the order's status when taken back)


# ---- points and tiers ---------------------------------------------------------------------------------


def tiers() -> list[tuple[str, int]]:
    """loyalty.tiers as (name, threshold), lowest first; bad entries are logged and left out."""
    found = []
    for entry in config.loyalty().tiers:
        name, _, threshold = str(entry).rpartition(":")
        if name.strip() and threshold.strip().isdigit():
            found.append((name.strip(), int(threshold)))
        else:
            log.error('loyalty.tiers: %r is not "Name:points"', entry)
    return sorted(found, key=lambda t: t[1])


def tier_for(points: int) -> str | None:
    reached = [name for name, threshold in tiers() if points >= threshold]
    return reached[-1] if reached else None


def next_tier(points: int) -> tuple[str, int] | None:
    """The next tier above these points and how many points it takes; None at the top."""
    return next(((name, threshold - points) for name, threshold in tiers() if threshold > points), None)


def points_for(amount) -> int:
    """Points an amount earns: points_per_100 per whole 100 of it (rounded down)."""
    try:
        value = Decimal(str(amount or 0))
    except InvalidOperation:
        return 0
    rate = Decimal(str(config.loyalty().points_per_100))
    return max(0, int(value * rate / 100))


def add_points(customer_id: int, points: int, *, reason: str = ADJUSTED, order=None) -> Customer:
    """Add points (in one UPDATE, so concurrent awards add up), record the change (PointsChange) and keep the tier
    in step; a customer who reaches a higher tier is told (tier_up). Call inside a write transaction."""
    Customer.update(points=Customer.points + points).where(Customer.id == customer_id).execute()
    customer = Customer.get_by_id(customer_id)
    if points:
        _record(customer, points, reason, order)
    _keep_tier(customer)
    return customer


def take_back(order, reason: str) -> int | None:
    """A delivered order was cancelled or returned: take back the points it earned (what the ledger says it
    added; for an order awarded before the ledger existed, what its amount earns), never below zero, once (the
    order's points_awarded flag is cleared by one conditional UPDATE). The points really taken; None when the order
    had none to give back. Call inside a write transaction."""
    awarded = Order.points_awarded == True  # noqa: E712 - a peewee expression (SQL), not a Python comparison
    claimed = Order.update(points_awarded=False).where((Order.id == order.id) & awarded).execute()
    if not claimed:
        return None
    order.points_awarded = False
    order._dirty.discard("points_awarded")
    earned = PointsChange.select(fn.SUM(PointsChange.change)).where(PointsChange.order == order.id).scalar()
    owed = int(earned) if earned is not None else points_for(order.amount)
    if owed <= 0:
        return None
    # take the customer's row first (PostgreSQL: a row lock until commit; SQLite: the one writer already), so the
    # balance read next is the one the change applies to
    Customer.update(points=Customer.points).where(Customer.id == order.customer_id).execute()
    before = Customer.get_by_id(order.customer_id).points
    after = max(0, before - owed)
    Customer.update(points=after).where(Customer.id == order.customer_id).execute()
    customer = Customer.get_by_id(order.customer_id)
    _record(customer, after - before, reason, order)
    _keep_tier(customer)
    log.info(
        "order %s %s: %d of %d points taken back customer=%s", order.ref, reason, before - after, owed, customer.id
    )
    return before - after


def _record(customer: Customer, change: int, reason: str, order) -> None:
    PointsChange.create(
        customer=customer.id,
        order=order.id if order is not None else None,
        change=change,
        balance=customer.points,
        reason=reason,
        created_at=clock.now(),
    )


def _rank(tier: str | None) -> int:
    names = [name for name, _ in tiers()]
    return names.index(tier) + 1 if tier in names else 0


def _keep_tier(customer: Customer) -> None:
    """The tier for the customer's points; a customer who went up is told in their language."""
    tier = tier_for(customer.points)
    if tier == customer.tier:
        return
    before = customer.tier
    Customer.update(tier=tier).where(Customer.id == customer.id).execute()
    customer.tier = tier
    customer._dirty.discard("tier")
    log.info("tier now %s (was %s) customer=%s", tier, before, customer.id)
    if tier is not None and _rank(tier) > _rank(before):
        _tell_tier_up(customer)


def _tell_tier_up(customer: Customer) -> None:
    """'You are now a Gold customer' on the customer's usual channel (not to those who sent STOP; WhatsApp only
    inside the 24-hour window: there is no approved template for it)."""
    if customer.marketing_opt_out:
        log.info("tier up not told: opted out customer=%s", customer.id)
        return
    contact = customers.best_contact(customer)
    if contact is None or campaigns.window(contact, clock.now(), lambda: "").skip:
        log.info("tier up not told: no contact that takes it now customer=%s", customer.id)
        return
    lang = customers.language_of(customer)
    text = texts.render(
        lang,
        "loyalty/tier_up",
        name=customers.greeting_name(customer),
        points=f"{customer.points:,}",
        tier=tier_name(lang, customer.tier or ""),
        shop=config.app().shop_name,
    )
    outbox.to_contact(contact, text, purpose="tier_up")
    log.info("tier up told channel=%s customer=%s", contact.channel, customer.id)


@events.on(events.ORDER_SAVED)
def on_order_saved(order) -> None:
    """An order was created or changed (import, API): award its points once it counts — when its status is
    one of loyalty.award_statuses — once per order, however often it is saved again; take them back when an
    awarded order is cancelled or returned."""
    status = str(order.status or "").strip().lower()
    if status in TAKE_BACK_STATUSES and order.points_awarded:
        with write():
            take_back(order, status)
        return
    statuses = {str(s).strip().lower() for s in config.loyalty().award_statuses}
    if order.points_awarded or status not in statuses:
        return
    with write():
        not_yet = Order.points_awarded == False  # noqa: E712 - a peewee expression (SQL), not a Python comparison
        claimed = Order.update(points_awarded=True).where((Order.id == order.id) & not_yet).execute()
        if not claimed:
            return
        order.points_awarded = True
        order._dirty.discard("points_awarded")
        points = points_for(order.amount)
        if points:
            add_points(order.customer_id, points, reason=AWARDED, order=order)
    log.info("order %s: %d points customer=%s", order.ref, points, order.customer_id)


# ---- the customer asks --------------------------------------------------------------------------------
def _words(text: str) -> list[str]:
    return _PUNCTUATION.sub(" ", text.lower()).split()


def asks_for_points(text: str, strict: bool) -> bool:
    """'/points', 'points', 'پوائنٹس' — and, unless strict, a short question about them ('points kitne
    hain', 'how many points do I have'); 'points not added for my order' is a message for the agents."""
    text = text.strip()
    if re.fullmatch(r"/points(@\w+)?", text, re.I):
        return True
    words = _words(text)
    if strict:
        return len(words) == 1 and words[0] in EXACT_WORDS
    return (
        0 < len(words) <= 7
        and any(w in POINT_WORDS for w in words)
        and all(w in POINT_WORDS or w in FILLER_WORDS for w in words)
    )


def answer_points(customer: Customer, contact: Contact, channel: str) -> str:
    """A customer asked for their points: their points, tier and what the next tier needs; the answer's text."""
    text = points_text(customers.language_of(customer), customer)
    outbox.to_contact(contact, text, purpose="points")
    log.info("points asked channel=%s customer=%s", channel, customer.id)
    return text


def tier_name(lang: str, tier: str) -> str:
    """A tier's name as the customer reads it (templates/<lang>/loyalty/tier_<name>.txt, else as in settings)."""
    key = f"loyalty/tier_{tier.lower()}"
    return texts.render(lang, key) if re.fullmatch(r"[\w-]+", tier.lower()) and texts.exists(key) else tier


def points_text(lang: str, customer: Customer) -> str:
    lines = [
        texts.render(
            lang,
            "loyalty/points",
            name=customers.greeting_name(customer),
            points=f"{customer.points:,}",
            shop=config.app().shop_name,
        )
    ]
    if customer.tier:
        lines.append(texts.render(lang, "loyalty/points_tier", tier=tier_name(lang, customer.tier)))
    upcoming = next_tier(customer.points)
    if upcoming:
        lines.append(
            texts.render(lang, "loyalty/points_next", next=tier_name(lang, upcoming[0]), missing=f"{upcoming[1]:,}")
        )
    elif customer.tier:
        lines.append(texts.render(lang, "loyalty/points_top"))
    lines.append(texts.render(lang, "loyalty/points_how", rate=config.loyalty().points_per_100))
    return "\n".join(lines)


@cards.line(cards.RANK_CUSTOMER)
def ticket_card_line(ticket: Ticket) -> str:
    """ "⭐ Gold · 2,340 points" on the card: regulars are recognised."""
    return card_line(ticket.customer)


def card_line(customer: Customer) -> str:
    """The ticket card's loyalty line ('⭐ Gold · 2,340 points'); '' for a customer without points."""
    if customer.tier:
        return texts.for_agents("agents/card_loyalty", tier=customer.tier, points=f"{customer.points:,}")
    if customer.points:
        return texts.for_agents("agents/card_points", points=f"{customer.points:,}")
    return ""


# ---- coupons ------------------------------------------------------------------------------------------
def issue_coupon(
    customer,
    *,
    kind: str,
    value,
    issued_by: str,
    reason: str = "",
    ticket=None,
    order=None,
    valid_days: int | None = None,
):
    """A new personal coupon with a unique code (not yet sent: the caller words and enqueues the message).
    It expires at the end of the shop-local day valid_days from today (None: never)."""
    for _ in range(20):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
        if not Coupon.select().where(Coupon.code == code).exists():
            break
    expires = clock.local_now().date() + dt.timedelta(days=valid_days) if valid_days else None
    return Coupon.create(
        code=code,
        customer=customer,
        kind=kind,
        value=Decimal(str(value)),
        expires_on=expires,
        issued_by=issued_by[:100],
        reason=reason or "",
        ticket=ticket,
        order=order,
        created_at=clock.now(),
    )


def _number(value) -> str:
    value = Decimal(str(value))
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"


def value_words(lang: str, kind: str, value) -> str:
    """'10%' or 'Rs 500' / '500 روپے'."""
    if kind == "percent":
        return texts.render(lang, "loyalty/percent", percent=_number(value))
    return texts.render(lang, "loyalty/amount", amount=_number(value))


def coupon_words(lang: str, coupon) -> dict:
    """The values a coupon's message shows: code, value, expires."""
    expires = coupon.expires_on
    if isinstance(expires, str):
        expires = dt.date.fromisoformat(expires)
    return {
        "code": coupon.code,
        "value": value_words(lang, coupon.kind, coupon.value),
        "expires": texts.day_month(lang, expires.day, expires.month, expires.year)
        if expires
        else texts.render(lang, "loyalty/no_expiry"),
    }


_AMOUNT = re.compile(r"^(?:(?:rs\.?|pkr)\s*(?P<a>\d[\d,]*)|(?P<b>\d[\d,]*)\s*(?:rs\.?|pkr|روپے))$", re.I)
_PERCENT = re.compile(r"^(?P<p>\d+(?:\.\d+)?)\s*%?$")


def parse_discount(args: str) -> tuple[str, Decimal, str] | None:
    """'10 late delivery' → percent 10; 'Rs500 …', 'rs 500', '500pkr', '500 Rs' → amount 500; the rest is the
    reason. None when it is neither."""
    args = args.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩٪", "01234567890123456789%")).strip()
    tokens = args.split()
    for take in (2, 1):  # "rs 500 reason" / "500 rs reason" first, then "rs500 reason", "10 reason"
        head, rest = " ".join(tokens[:take]), " ".join(tokens[take:])
        amount, percent = _AMOUNT.match(head), _PERCENT.match(head)
        if amount:
            value = Decimal((amount.group("a") or amount.group("b")).replace(",", ""))
            return ("amount", value, rest) if value > 0 else None
        if percent and (take == 1 or head.endswith("%")):
            value = Decimal(percent.group("p"))
            return ("percent", value, rest) if 0 < value <= 100 else None
    return None


def _limit_exceeded(kind: str, value: Decimal, agent) -> str | None:
    """The agent's limit as words when this discount is above it; None when allowed (owners: always)."""
    if agent is not None and team.is_owner(agent.telegram_user_id):
        return None
    conf = config.coupons()
    if kind == "percent" and value > Decimal(str(conf.agent_max_percent)):
        return value_words(config.app().agent_language, "percent", conf.agent_max_percent)
    if kind == "amount" and value > Decimal(str(conf.agent_max_amount)):
        return value_words(config.app().agent_language, "amount", conf.agent_max_amount)
    return None


@commands.command("discount", in_ticket=True)
def discount_command(name: str, args: str, ticket, agent, agent_name: str):
    """/discount 10 [reason] (percent) or /discount Rs500 [reason] (amount) in a ticket: a coupon for its
    customer, sent to them in their language and noted in the ticket."""
    conf = config.coupons()
    agent_lang = config.app().agent_language
    parsed = parse_discount(args)
    if parsed is None:
        return texts.for_agents(
            "agents/usage_discount",
            max_percent=value_words(agent_lang, "percent", conf.agent_max_percent),
            max_amount=value_words(agent_lang, "amount", conf.agent_max_amount),
        )
    kind, value, reason = parsed
    limit = _limit_exceeded(kind, value, agent)
    if limit:
        log.info("discount refused ticket=%s: %s %s above the agent's limit", ticket.number, kind, value)
        return texts.for_agents("agents/discount_refused", asked=value_words(agent_lang, kind, value), limit=limit)
    customer, contact = ticket.customer, ticket.contact
    coupon = issue_coupon(
        customer,
        kind=kind,
        value=value,
        issued_by=agent_name or "agent",
        reason=reason,
        ticket=ticket,
        valid_days=conf.valid_days,
    )
    lang = customers.language_of(customer)
    text = texts.render(
        lang,
        "loyalty/coupon",
        name=customers.greeting_name(customer),
        shop=config.app().shop_name,
        **coupon_words(lang, coupon),
    )
    outbox.to_contact(contact, text, purpose="coupon", ticket=ticket)
    Message.create(
        ticket=ticket, direction="out", channel=contact.channel, text=text, author=agent_name, created_at=clock.now()
    )
    words = coupon_words(agent_lang, coupon)
    note = texts.for_agents(
        "agents/discount_issued",
        name=customers.display_name(customer),
        agent=agent_name,
        reason=f" — {reason}" if reason else "",
        **words,
    )
    Message.create(
        ticket=ticket, direction="note", channel="telegram", text=note, author=agent_name, created_at=clock.now()
    )
    log.info("coupon %s issued ticket=%s customer=%s", kind, ticket.number, customer.id)
    return note
