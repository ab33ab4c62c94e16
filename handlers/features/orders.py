"""Orders: imports (CSV) and pushes (API) saved by one function, "where is my order", the order on a ticket's
card and the customer's latest orders in /history. The CLI and the API only parse and call these; delay notices
live in handlers/delays.py."""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
from dataclasses import dataclass, field
from decimal import Decimal

from peewee import IntegrityError

import config
import outbox
from bots.base import Inbound
from db.connection import database, write
from db.models import Contact, Customer, CustomerTag, Order
from handlers.core import cards, clock, commands, events, texts
from handlers.features import delays, orderdata
from handlers.features.orderdata import (
    Invalid,
    NotFound,
    agent_date,
    ascii_digits,
    clean_ref,
    customer_date,
    is_open,
    today,
)

log = logging.getLogger(__name__)

IMPORT_CHUNK = 100  # CSV rows per transaction (SQLite has one writer: let webhooks in between)


# ---- saving (CSV rows, API bodies) ------------------------------------------------------------------------
def save(raw: dict, existing: Order | None = None, seen_customers: set | None = None) -> tuple[Order, str]:
    """Create or update one order (and its customer) from the shop's fields; 'created', 'updated' or
    'unchanged'. Raises Invalid. Runs inside the caller's write transaction.
    seen_customers (an import): customers whose details an earlier row of the same file set — a later row
    only adds tags, so two rows that spell a name differently cannot flip it on every import."""
    values = orderdata.check(raw)
    order = existing or Order.get_or_none(Order.ref == values["order_ref"])
    customer = _customer_for(values, order)
    if seen_customers is not None and customer.id in seen_customers:
        values = {k: v for k, v in values.items() if k not in ("customer_name", "language", "birthday", "anniversary")}
    customer_changed = _update_customer(customer, values)
    now = clock.now()
    if order is None:
        status = values.get("status", "pending")
        order = Order.create(
            ref=values["order_ref"],
            customer=customer,
            items=values.get("items", ""),
            amount=values.get("amount"),
            status=status,
            is_open=is_open(status),
            promised_date=values.get("promised_date"),
            created_at=now,
            updated_at=now,
        )
        outcome = "created"
    else:
        if order.customer_id != customer.id:
            order.customer = customer
        for key in ("items", "amount", "status", "promised_date"):
            if key in values and getattr(order, key) != values[key]:
                setattr(order, key, values[key])
        changed = _dirty_names(order)
        if "status" in changed:
            order.is_open = is_open(order.status)
        if "promised_date" in changed and order.delayed_until:
            order.delayed_until = order.delay_reason = None  # the shop's new promise replaces the delay
        if changed:
            order.updated_at = now
            order.save()
        outcome = "updated" if changed or customer_changed else "unchanged"
    if outcome != "unchanged":
        events.announce(events.ORDER_SAVED, order)
        log.info("order %s ref=%s customer=%s status=%s", outcome, order.ref, customer.id, order.status)
    return order, outcome


def _dirty_names(model) -> set[str]:
    return {f.name for f in model.dirty_fields}


def _customer_for(values: dict, order: Order | None) -> Customer:
    """The order's customer: found by phone or Telegram id (one customer per number across WhatsApp and
    SMS), kept as it was when an update names neither, otherwise created."""
    phone, telegram_id = values.get("phone"), values.get("telegram_id")
    by_phone = Customer.get_or_none(Customer.phone == phone) if phone else None
    by_telegram = Customer.get_or_none(Customer.telegram_user_id == telegram_id) if telegram_id else None
    if by_phone and by_telegram and by_phone.id != by_telegram.id:
        raise Invalid({"telegram_id": f"telegram_id {telegram_id} and phone {phone} are two different customers"})
    customer = by_phone or by_telegram
    if customer is None and not (phone or telegram_id):
        if order is not None:
            return order.customer
        raise Invalid({"phone": "phone or telegram_id is required"})
    if customer is None:
        return Customer.create(
            name=values.get("customer_name", ""),
            phone=phone,
            telegram_user_id=telegram_id,
            language=values.get("language"),
            created_at=clock.now(),
        )
    if phone and customer.phone != phone:
        customer.phone = phone
    if telegram_id and customer.telegram_user_id != telegram_id:
        customer.telegram_user_id = telegram_id
    return customer


def _update_customer(customer: Customer, values: dict) -> bool:
    """The customer's details from the shop (name, language, occasions, tags); True when anything changed."""
    for key, attr in (("customer_name", "name"), ("language", "language")):
        if key in values and getattr(customer, attr) != values[key]:
            setattr(customer, attr, values[key])
    if "birthday" in values:
        day, year = values["birthday"]
        if customer.birthday != day:
            customer.birthday = day
        if year and customer.birth_year != year:
            customer.birth_year = year
    if "anniversary" in values and customer.anniversary != values["anniversary"][0]:
        customer.anniversary = values["anniversary"][0]
    changed = customer.is_dirty()
    if changed:
        customer.save()
    if values.get("tags"):
        have = {row.tag for row in CustomerTag.select(CustomerTag.tag).where(CustomerTag.customer == customer)}
        for tag in values["tags"]:
            if tag not in have:
                CustomerTag.create(customer=customer, tag=tag)
                changed = True
    return changed


def patch(ref: str, raw: dict) -> tuple[Order, str]:
    """Change some fields of an existing order (API PATCH). Raises NotFound, Invalid."""
    order = Order.get_or_none(Order.ref == clean_ref(ref))
    if order is None:
        raise NotFound(ref)
    if "order_ref" in raw and str(raw["order_ref"]).strip() != order.ref:
        raise Invalid({"order_ref": "an order's ref cannot change"})
    return save({**raw, "order_ref": order.ref}, existing=order)


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list = field(default_factory=list)  # (line, message)
    ignored_columns: list = field(default_factory=list)

    def summary(self, name: str) -> str:
        lines = [
            f"{name}: {self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
            f"{len(self.rejected)} rejected"
        ]
        if self.ignored_columns:
            lines.append("ignored columns: " + ", ".join(self.ignored_columns))
        lines += [f"line {line}: {message}" for line, message in self.rejected]
        return "\n".join(lines)


def import_csv(data: bytes) -> ImportReport:
    """Import a shop's CSV (header row, UTF-8, columns in any order). Valid rows are saved, each rejected
    row changes nothing; importing the same file again changes nothing. Raises Invalid for a file that
    cannot be read at all."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid({"file": f"not UTF-8 text (byte {exc.start})"}) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise Invalid({"file": "the file is empty"}) from None
    except csv.Error as exc:
        raise Invalid({"file": f"not CSV ({exc})"}) from None
    if "order_ref" not in header:
        raise Invalid({"file": "the header row has no order_ref column"})
    report = ImportReport(ignored_columns=[h for h in header if h not in orderdata.FIELDS])
    rows, seen, seen_customers = [], {}, set()
    try:
        for cells in reader:
            rows.append((reader.line_num, cells))
    except csv.Error as exc:
        raise Invalid({"file": f"not CSV at line {reader.line_num} ({exc})"}) from None
    for start in range(0, len(rows), IMPORT_CHUNK):
        with write():
            for line, cells in rows[start : start + IMPORT_CHUNK]:
                if not any(c.strip() for c in cells):
                    continue
                if len(cells) > len(header):
                    report.rejected.append((line, f"{len(cells)} cells but {len(header)} columns"))
                    continue
                row = {h: c for h, c in zip(header, cells, strict=False) if h in orderdata.FIELDS}
                ref = row.get("order_ref", "").strip()
                if ref and ref in seen:
                    report.rejected.append((line, f"order_ref {ref} repeats line {seen[ref]}"))
                    continue
                try:
                    with database.atomic():  # a savepoint: a rejected row leaves no trace
                        order, outcome = save(row, seen_customers=seen_customers)
                except Invalid as exc:
                    report.rejected.append((line, "; ".join(exc.errors.values())))
                    continue
                except IntegrityError as exc:  # the message would carry the phone number: not logged
                    log.warning("order import line %d conflicts (%s)", line, type(exc).__name__)
                    report.rejected.append((line, "conflicts with another customer's phone or telegram_id"))
                    continue
                seen[ref] = line
                seen_customers.add(order.customer_id)
                setattr(report, outcome, getattr(report, outcome) + 1)
    log.info(
        "orders imported: created=%d updated=%d unchanged=%d rejected=%d",
        report.created,
        report.updated,
        report.unchanged,
        len(report.rejected),
    )
    return report


def as_dict(order: Order) -> dict:
    customer = order.customer
    return {
        "order_ref": order.ref,
        "status": order.status,
        "is_open": order.is_open,
        "items": order.items,
        "amount": None if order.amount is None else str(Decimal(str(order.amount)).quantize(Decimal("0.01"))),
        "promised_date": _iso(order.promised_date),
        "delayed_until": _iso(order.delayed_until),
        "delay_reason": order.delay_reason,
        "notified_for": _iso(order.notified_for),
        "customer": {
            "id": customer.id,
            "name": customer.name,
            "phone": customer.phone,
            "telegram_id": customer.telegram_user_id,
            "language": customer.language,
        },
    }


def _iso(day) -> str | None:
    return day.isoformat() if day else None


# ---- customers asking about their orders (handlers/router.py decides when) -------------------------------------
ORDER_WORDS = {
    "order",
    "orders",
    "parcel",
    "package",
    "delivery",
    "shipment",
    "courier",
    "آرڈر",
    "آڈر",
    "پارسل",
    "ڈیلیوری",
    "آرڈرز",
}
QUESTION_WORDS = {
    "where",
    "when",
    "status",
    "track",
    "tracking",
    "kahan",
    "kahaan",
    "kaha",
    "kidhar",
    "kiddar",
    "kab",
    "kb",
    "کہاں",
    "کب",
    "کدھر",
    "کہاں؟",
    "کب؟",
}
FILLER = {
    "my",
    "mera",
    "meri",
    "mere",
    "the",
    "is",
    "no",
    "number",
    "num",
    "nr",
    "ref",
    "id",
    "please",
    "plz",
    "pls",
    "میرا",
    "میری",
    "میرے",
    "نمبر",
    "کا",
    "کی",
}
QUESTION_CHARS = 200
MAX_REFS = 10
_PHONE_LIKE = re.compile(r"(?:\+|00|0|92)\d{9,12}")  # 0300…, +92…, 92300…: a phone number, not an order ref
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_WORD = re.compile(r"[^\W_]+")


@dataclass
class Question:
    refs: list  # order references the message names
    bare: bool  # nothing but a reference (and "my order", "number" …)
    asks: bool  # where / when / status / kab / کہاں …
    about_orders: bool  # order / parcel / آرڈر …


def read_question(text: str) -> Question:
    """What a customer's words say about orders. Urdu and Arabic-Indic digits count as digits; a phone
    number written as one (0300…, +92…) is not an order reference."""
    refs = []

    def take(match):
        token = match.group(0).rstrip("._-")
        if len(token) < 3 or not any(ch.isdigit() for ch in token) or _PHONE_LIKE.fullmatch(token):
            return match.group(0)
        if token not in refs:
            refs.append(token)
        return " "

    rest = _TOKEN.sub(take, ascii_digits(text)).lower()
    words = set(_WORD.findall(rest))
    short = len(text) <= QUESTION_CHARS  # a long message is a complaint, whatever numbers it holds
    return Question(
        refs=refs[:MAX_REFS],
        bare=short and 0 < len(refs) <= 3 and words <= ORDER_WORDS | FILLER,
        asks=short and bool(words & QUESTION_WORDS),
        about_orders=bool(words & ORDER_WORDS),
    )


def own_orders(customer: Customer, refs: list[str]) -> list[Order]:
    """The customer's own orders among the references (as typed, or in upper or lower case)."""
    variants = {v: ref for ref in reversed(refs) for v in (ref, ref.upper(), ref.lower())}
    found = {}
    for order in Order.select().where(Order.ref.in_(list(variants)) & (Order.customer == customer)):
        found.setdefault(variants[order.ref], order)
    return [found[ref] for ref in refs if ref in found]


def status_text(lang: str, order: Order) -> str:
    """One order's state as the customer reads it."""
    values = dict(
        ref=order.ref,
        items=order.items or texts.render(lang, "orders/no_items"),
        status=texts.render(lang, f"orders/status_{order.status}"),
        reason=order.delay_reason or "",
    )
    if order.is_open and order.delayed_until:
        return texts.render(lang, "orders/answer_delayed", date=customer_date(lang, order.delayed_until), **values)
    if order.is_open and order.promised_date:
        late = order.promised_date < today()
        return texts.render(
            lang,
            "orders/answer_late" if late else "orders/answer",
            date=customer_date(lang, order.promised_date),
            **values,
        )
    return texts.render(lang, "orders/answer_no_date", **values)


def recent_notice(customer: Customer) -> Order | None:
    """The customer's order whose delay notice went out within orders.reply_window_days."""
    since = clock.now() - dt.timedelta(days=config.orders().reply_window_days)
    return (
        Order.select()
        .where((Order.customer == customer) & (Order.notified_at >= since))
        .order_by(Order.notified_at.desc())
        .first()
    )


def open_orders(customer: Customer) -> list[Order]:
    """The customer's latest open orders (three at most), for "where is my order" without a number."""
    return list(
        Order.select()
        .where((Order.customer == customer) & (Order.is_open == True))  # noqa: E712 (peewee SQL)
        .order_by(Order.created_at.desc())
        .limit(3)
    )


def answer(contact: Contact, lang: str, mine: list[Order], inbound: Inbound) -> str:
    """Each order's state to the customer, in their language; the answer's text."""
    text = "\n\n".join(status_text(lang, o) for o in mine)
    outbox.to_contact(contact, text, purpose="order_status")
    log.info(
        "order status answered orders=%s channel=%s customer=%s",
        ",".join(o.ref for o in mine),
        inbound.channel,
        contact.customer_id,
    )
    return text


# ---- the ticket card, and the agents' command ---------------------------------------------------------------
@cards.line(cards.RANK_ORDER)
def ticket_card_line(ticket) -> str:
    """The order the ticket is about, on its card."""
    return card_line(ticket.order_ref) if ticket.order_ref else ""


def card_line(ref: str) -> str:
    """The order on a ticket's card: ref, items, amount, status, promised → delayed until, reason."""
    order = Order.get_or_none(Order.ref == ref)
    if order is None:
        return texts.for_agents("agents/orders/card_unknown", ref=ref)
    delayed = (
        texts.for_agents(
            "agents/orders/card_delayed", date=agent_date(order.delayed_until), reason=order.delay_reason or ""
        )
        if order.delayed_until
        else ""
    )
    return texts.for_agents(
        "agents/orders/card",
        ref=order.ref,
        items=order.items or "—",
        amount=_amount(order),
        status=texts.word_for_agents("agents/orders/status_", order.status),
        promised=agent_date(order.promised_date),
        delayed=delayed,
    )


def _amount(order: Order) -> str:
    """4,500 or 4,500.50 (no currency: the shop's own); '—' when the shop gave none."""
    if order.amount is None:
        return "—"
    words = f"{order.amount:,.2f}"
    return words[:-3] if words.endswith(".00") else words


HISTORY_ORDERS = 5  # /history shows this many of the customer's latest orders
HISTORY_ITEMS_CHARS = 40


def history(customer: Customer) -> str:
    """The customer's latest orders for /history (newest first): ref, date, status, amount, items; '' if none."""
    latest = list(
        Order.select()
        .where(Order.customer == customer)
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(HISTORY_ORDERS)
    )
    if not latest:
        return ""
    lines = [
        texts.for_agents(
            "agents/orders/history_line",
            ref=o.ref,
            date=orderdata.shop_date(o.created_at),
            status=texts.word_for_agents("agents/orders/status_", o.status),
            amount=_amount(o),
            items=_short(o.items),
        )
        for o in latest
    ]
    return "\n".join([texts.for_agents("agents/orders/history_head"), *lines])


def _short(items: str) -> str:
    items = (items or "").strip() or "—"
    return items if len(items) <= HISTORY_ITEMS_CHARS else items[: HISTORY_ITEMS_CHARS - 1].rstrip() + "…"


@commands.command("delay")
def delay_command(name: str, args: str, ticket, agent, agent_name: str):
    """The agents' order command: /delay REF YYYY-MM-DD reason (anywhere in the group)."""
    return delays.delay_command(args, ticket)
