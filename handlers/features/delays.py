"""Delay notices: an order marked delayed (the command line, the API, the agents' /delay) and the hourly
overdue-orders job tell the customer — once per order and date, in their language, on WhatsApp outside
the 24-hour window through the shop's approved template or not at all (then the agents are told)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal

from peewee import IntegrityError, fn

import config
import outbox
from bots.base import WHATSAPP
from db.connection import database, write
from db.models import Coupon, Order, Outbox, State
from handlers.core import cards, clock, customers, hours, texts, tickets
from handlers.features import campaigns, loyalty, orderdata
from handlers.features.orderdata import Invalid, NotFound, agent_date, clean_ref, customer_date, due_date, today

log = logging.getLogger(__name__)

BATCH = 200  # overdue orders handled per transaction
LIST_LINES = 50  # lines of the daily overdue list; the rest is counted
LIST_STATE = "orders:overdue_list"


# ---- notices ---------------------------------------------------------------------------------------------
@dataclass
class Notice:
    outcome: str  # sent / already / no_template / unreachable
    kind: str = "delay"  # delay / overdue
    channel: str | None = None
    coupon: str | None = None


def template_for(kind: str, lang: str) -> str:
    """The approved WhatsApp template (Content SID) for a notice kind ('delay', 'overdue') in a language."""
    return config.orders().whatsapp_template(kind, lang)


def _coupon(order: Order) -> Coupon | None:
    """The compensation coupon for a late order (orders.delay_coupon_percent; one per order)."""
    percent = config.orders().delay_coupon_percent
    if percent <= 0:
        return None
    existing = Coupon.get_or_none((Coupon.order == order) & (Coupon.issued_by == "delay"))
    if existing:
        return existing
    return loyalty.issue_coupon(
        order.customer,
        kind="percent",
        value=percent,
        issued_by="delay",
        reason=f"order {order.ref} late",
        order=order,
        valid_days=config.orders().delay_coupon_valid_days or None,
    )


def notify(order: Order, kind: str, key: str, day: dt.date | None, reason: str = "") -> Notice:
    """Tell the order's customer, in their language, that it is late ('delay': new date and reason;
    'overdue': the promised date has passed). Once per key (the outbox's idempotency key). On WhatsApp
    outside the 24-hour window it goes as the shop's approved template, or not at all."""
    customer = order.customer
    if Outbox.select().where(Outbox.idempotency_key == key).exists():
        return Notice("already", kind)
    lang = customers.language_of(customer)
    contact = customers.best_contact(customer)  # the one rule for messages the shop starts
    if contact is None:
        return Notice("unreachable", kind)
    way = campaigns.window(contact, clock.now(), template_for, kind, lang)
    if way.skip:
        return Notice(campaigns.NO_TEMPLATE, kind, channel=WHATSAPP)
    coupon = _coupon(order)
    date_words = customer_date(lang, day) if day else ""
    text = texts.render(
        lang,
        f"orders/{kind}_notice",
        name=customers.greeting_name(customer),
        ref=order.ref,
        items=order.items or texts.render(lang, "orders/no_items"),
        date=date_words,
        reason=reason,
        shop=config.app().shop_name,
    )
    if coupon:
        text += "\n\n" + texts.render(
            lang,
            "orders/coupon" if coupon.expires_on else "orders/coupon_no_expiry",
            code=coupon.code,
            percent=f"{Decimal(str(coupon.value)).normalize():f}",
            until=customer_date(lang, coupon.expires_on) if coupon.expires_on else "",
        )
    variables = [order.ref, date_words] + ([reason] if kind == "delay" else []) + ([coupon.code] if coupon else [])
    extra = way.extra({str(i): v for i, v in enumerate(variables, start=1)})
    outbox.to_contact(
        contact, text, purpose=f"{kind}_notice", priority=outbox.PRIORITY_NOTICE, idempotency_key=key, **extra
    )
    order.notified_at = clock.now()
    log.info(
        "%s notice queued order=%s channel=%s customer=%s template=%s",
        kind,
        order.ref,
        contact.channel,
        customer.id,
        bool(way.sid),
    )
    return Notice("sent", kind, channel=contact.channel, coupon=coupon.code if coupon else None)


def why_not(order: Order, notice: Notice) -> str:
    """Why a notice did not go, for the agents."""
    lang = customers.language_of(order.customer)
    return texts.for_agents(f"agents/orders/why_{notice.outcome}", lang=lang, kind=notice.kind)


def _tell_group_not_sent(order: Order, notice: Notice) -> None:
    ticket = tickets.open_ticket_of(order.customer)
    outbox.to_group(
        texts.for_agents(
            "agents/orders/not_sent",
            ref=order.ref,
            kind=texts.word_for_agents("agents/orders/notice_", notice.kind),
            name=customers.display_name(order.customer),
            why=why_not(order, notice),
        ),
        purpose="agents",
        ticket=ticket,
    )


def delay(ref: str, until: str, reason: str, tell_group: bool = True) -> tuple[Order, Notice]:
    """Mark an order delayed until a new date and tell its customer at once (once per order and date).
    Raises NotFound, Invalid. Runs inside the caller's write transaction."""
    order = Order.get_or_none(Order.ref == clean_ref(ref))
    if order is None:
        raise NotFound(ref)
    words: dict[str, tuple[str, dict]] = {}  # field → (agents/orders/ template, its values)
    try:
        day = orderdata.date(until or "")
    except ValueError:
        words["until"] = ("bad_date", {"until": (until or "")[:40]})
    else:
        if day < today():
            words["until"] = ("past_date", {"date": day.isoformat()})
    reason = " ".join((reason or "").split())
    if not reason:
        words["reason"] = ("no_reason", {})
    elif len(reason) > 500:
        words["reason"] = ("long_reason", {"limit": 500})
    if not order.is_open:
        words["status"] = ("nothing_to_delay", {"ref": order.ref, "status": order.status})
    if words:
        words = {field: (f"agents/orders/{name}", values) for field, (name, values) in words.items()}
        raise Invalid({field: texts.render("en", name, **values) for field, (name, values) in words.items()}, words)
    key = f"delay:{order.ref}:{day.isoformat()}"
    if order.delayed_until == day and Outbox.select().where(Outbox.idempotency_key == key).exists():
        return order, Notice("already")
    old_due = due_date(order)
    order.delayed_until, order.delay_reason, order.updated_at = day, reason, clock.now()
    if old_due and old_due < day and (order.notified_for is None or order.notified_for < old_due):
        order.notified_for = old_due  # the missed date is answered by this notice: the job will not repeat it
    notice = notify(order, "delay", key, day, reason)
    order.save()
    log.info("order delayed ref=%s until=%s notice=%s", order.ref, day, notice.outcome)
    if tell_group and notice.outcome in ("no_template", "unreachable"):
        _tell_group_not_sent(order, notice)
    return order, notice


# ---- the overdue-orders job ------------------------------------------------------------------------------
def overdue_query(day: dt.date):
    """Open orders whose expected date is before `day`. Selected through the (is_open, promised_date)
    index: a delay only moves the date later, so every late order also has promised_date < day."""
    due = fn.COALESCE(Order.delayed_until, Order.promised_date)
    return Order.select().where((Order.is_open == True) & (Order.promised_date < day) & (due < day))  # noqa: E712


def to_notify_query(day: dt.date):
    due = fn.COALESCE(Order.delayed_until, Order.promised_date)
    return overdue_query(day).where(Order.notified_for.is_null() | (Order.notified_for < due))


def overdue_now() -> str:
    """`flask --app webhook jobs run overdue`: the job now, even outside opening hours."""
    return overdue(any_time=True)


def overdue(any_time: bool = False) -> str:
    """Scheduler job (hourly; customers are written to during opening hours only): tell each customer whose
    open order is past its date — once per order and date — then post the day's list of late orders to
    the agents (once a day). Returns a summary line."""
    if not any_time and not hours.is_open(clock.now()):
        log.info("overdue orders: the shop is closed, notices wait for the opening")
        return "the shop is closed: notices wait for the opening"
    day = today()
    not_sent, sent = [], 0
    while True:
        with write():
            batch = list(to_notify_query(day).order_by(Order.promised_date, Order.id).limit(BATCH))
            for order in batch:
                due = due_date(order)
                try:
                    with database.atomic():
                        notice = notify(order, "overdue", f"overdue:{order.ref}:{due.isoformat()}", due)
                        order.notified_for = due
                        order.save()
                except IntegrityError:  # another run queued it a moment ago
                    Order.update(notified_for=due).where(Order.id == order.id).execute()
                    continue
                sent += notice.outcome == "sent"
                if notice.outcome in ("no_template", "unreachable"):
                    not_sent.append(
                        texts.for_agents(
                            "agents/orders/not_sent_line",
                            ref=order.ref,
                            name=customers.display_name(order.customer),
                            why=why_not(order, notice),
                        )
                    )
        if len(batch) < BATCH:
            break
    with write():
        if not_sent:
            outbox.to_group(
                texts.for_agents(
                    "agents/orders/not_sent_list", count=len(not_sent), lines="\n".join(not_sent[:LIST_LINES])
                ),
                purpose="agents",
            )
        listed = None
        if State.read(LIST_STATE) != day.isoformat():
            listed = _post_daily_list(day)
            State.put(LIST_STATE, day.isoformat())
    summary = f"overdue orders: {sent} notified, {len(not_sent)} could not be told"
    if listed is not None:
        summary += f", daily list of {listed} posted"
    log.info(summary)
    return summary


def _post_daily_list(day: dt.date) -> int:
    late = overdue_query(day)
    count = late.count()
    if not count:
        return 0
    lines = []
    for order in late.order_by(Order.promised_date, Order.id).limit(LIST_LINES):
        due = due_date(order)
        told = order.notified_at is not None and order.notified_at.date() >= due
        lines.append(
            texts.for_agents(
                "agents/orders/overdue_line",
                ref=order.ref,
                name=customers.display_name(order.customer),
                due=agent_date(due),
                days=(day - due).days,
                status=texts.word_for_agents("agents/orders/status_", order.status),
                told=texts.for_agents("agents/orders/told_yes" if told else "agents/orders/told_no"),
            )
        )
    more = texts.for_agents("agents/orders/overdue_more", count=count - len(lines)) if count > len(lines) else ""
    outbox.to_group(
        texts.for_agents(
            "agents/orders/overdue_list", count=count, date=agent_date(day), lines="\n".join(lines), more=more
        ).rstrip(),
        purpose="agents",
        idempotency_key=f"overdue_list:{day.isoformat()}",
    )
    return count


# ---- the agents' command ----------------------------------------------------------------------------------
def delay_command(args: str, ticket) -> str:
    """The agents' /delay REF YYYY-MM-DD reason: the line to answer with."""
    parts = args.split(maxsplit=2)
    if len(parts) < 3:
        return texts.for_agents("agents/orders/usage_delay")
    ref, until, reason = parts
    try:
        order, notice = delay(ref, until, reason, tell_group=False)
    except NotFound:
        return texts.for_agents("agents/orders/unknown", ref=clean_ref(ref))
    except Invalid as exc:
        if "status" in exc.words:
            name, values = exc.words["status"]
            status = texts.word_for_agents("agents/orders/status_", values["status"])
            return texts.for_agents(
                "agents/orders/cannot_delay", problem=texts.for_agents(name, **{**values, "status": status})
            )
        problems = "; ".join(texts.for_agents(name, **values) for name, values in exc.words.values())
        return texts.for_agents("agents/orders/usage_delay") + "\n" + problems
    log.info("/delay by agent order=%s", order.ref)
    if ticket is not None and ticket.customer_id == order.customer_id and not ticket.order_ref:
        ticket.order_ref = order.ref  # used in the customer's ticket: its card now shows the order
        ticket.save()
        cards.refresh(ticket)
    name_ = customers.display_name(order.customer)
    if notice.outcome == "sent":
        told = texts.for_agents("agents/orders/told", channel=customers.channel_name(notice.channel))
    elif notice.outcome == "already":
        told = texts.for_agents("agents/orders/told_already")
    else:
        told = texts.for_agents("agents/orders/not_told", why=why_not(order, notice))
    if notice.coupon:
        told += " " + texts.for_agents("agents/orders/with_coupon", code=notice.coupon)
    return texts.for_agents(
        "agents/orders/delayed", ref=order.ref, name=name_, date=agent_date(order.delayed_until), told=told
    )
