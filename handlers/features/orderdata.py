"""Order fields as a shop gives them (a CSV row, a JSON body): checked and turned into clean values; and
the dates orders are about (the shop's today, dates in the customer's words).

One place for the rules, so the import, the API and the commands say the same thing about the same
mistake. No database, no platform.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

import phonenumbers

import config
from handlers.core import clock, texts

# The status words a shop may use (case-insensitive; spaces and hyphens count as "_"). An order is open —
# the overdue job and "where is my order" look at it — until it is delivered, cancelled or returned.
OPEN_STATUSES = ("pending", "confirmed", "processing", "packed", "shipped", "out_for_delivery")
CLOSED_STATUSES = ("delivered", "cancelled", "returned")
STATUSES = OPEN_STATUSES + CLOSED_STATUSES
STATUS_ALIASES = {
    "canceled": "cancelled",
    "new": "pending",
    "dispatched": "shipped",
    "in_transit": "shipped",
    "out_for_delivery": "out_for_delivery",
    "completed": "delivered",
    "complete": "delivered",
}

FIELDS = (
    "order_ref",
    "customer_name",
    "phone",
    "telegram_id",
    "items",
    "amount",
    "status",
    "promised_date",
    "birthday",
    "anniversary",
    "language",
    "tags",
)
REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
LANGUAGE_WORDS = {"ur": "ur", "urdu": "ur", "اردو": "ur", "en": "en", "english": "en", "eng": "en"}
DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")  # Urdu and Arabic-Indic digits


class NotFound(Exception):
    """No order with that reference."""


def today() -> dt.date:
    """The shop's date (app.timezone), as promised dates are meant."""
    return shop_date(clock.now())


def shop_date(moment: dt.datetime) -> dt.date:
    """The shop's date (app.timezone) at a naive-UTC moment."""
    zone = ZoneInfo(config.app().timezone)
    return moment.replace(tzinfo=dt.UTC).astimezone(zone).date()


def customer_date(lang: str, day: dt.date) -> str:
    """A date as a customer reads it, in their language: 'Tuesday 1 December 2026'."""
    return texts.render(
        lang,
        "orders/date",
        weekday=texts.render(lang, "weekdays").splitlines()[day.weekday()],
        day=day.day,
        month=texts.render(lang, "months").splitlines()[day.month - 1],
        year=day.year,
    )


def agent_date(day: dt.date | None) -> str:
    """A date as agents read it: 'Sat 28 Nov 2026' / 'ہفتہ 28 نومبر 2026' (agents/date and its lists)."""
    if day is None:
        return "—"
    return texts.for_agents(
        "agents/date",
        weekday=texts.for_agents("agents/weekdays_short").splitlines()[day.weekday()],
        day=f"{day.day:02d}",
        month=texts.for_agents("agents/months_short").splitlines()[day.month - 1],
        year=day.year,
    )


def due_date(order) -> dt.date | None:
    """The date the customer now expects the order: the new one after a delay, else the promised one."""
    return order.delayed_until or order.promised_date


class Invalid(Exception):
    """Field errors: {field: message}; `words`, where given: {field: (template, values)}, to say the same to
    agents in their language."""

    def __init__(self, errors: dict[str, str], words: dict[str, tuple[str, dict]] | None = None):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
        self.words = words or {}


def ascii_digits(text: str) -> str:
    return (text or "").translate(DIGITS)


def clean_ref(value: str) -> str:
    """An order reference as customers and agents type it: '#5531' and '۵۵۳۱' are 5531."""
    return ascii_digits(value or "").strip().lstrip("#")


def phone(value: str) -> str:
    """E.164 with the shop's default country: '0300-1234567' → '+923001234567'. Raises ValueError."""
    region = (config.app().default_country or "PK").upper()
    try:
        number = phonenumbers.parse(ascii_digits(value), region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(str(exc)) from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def date(value: str) -> dt.date:
    """YYYY-MM-DD, or DD-MM-YYYY / DD/MM/YYYY as Pakistani shops write dates. Raises ValueError."""
    value = ascii_digits(value).strip()
    for pattern in ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise ValueError(value)


def day_of_year(value: str) -> tuple[str, int | None]:
    """A birthday or anniversary: YYYY-MM-DD or MM-DD → ("MM-DD", year or None). Raises ValueError."""
    value = ascii_digits(value).strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        day = dt.datetime.strptime(value, "%Y-%m-%d").date()
        return day.strftime("%m-%d"), day.year
    if re.fullmatch(r"\d{1,2}-\d{1,2}", value):
        month, day_ = (int(x) for x in value.split("-"))
        dt.date(2000, month, day_)  # a leap year: 02-29 is a real birthday
        return f"{month:02d}-{day_:02d}", None
    raise ValueError(value)


def status(value: str) -> str:
    word = re.sub(r"[\s-]+", "_", value.strip().lower())
    word = STATUS_ALIASES.get(word, word)
    if word not in STATUSES:
        raise ValueError(value)
    return word


def is_open(status_word: str) -> bool:
    return status_word not in CLOSED_STATUSES


def amount(value: str) -> Decimal:
    text = ascii_digits(value).strip().replace(",", "")
    text = re.sub(r"^(rs\.?|pkr)\s*", "", text, flags=re.I)
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(value) from None
    if not number.is_finite() or number < 0 or number >= Decimal("1e12"):
        raise ValueError(value)
    return number.quantize(Decimal("0.01"))


def tags(value: str) -> list[str]:
    found = []
    for word in re.split(r"[,\s]+", value.strip()):
        word = word.lstrip("#").lower()[:64]
        if word and word not in found:
            found.append(word)
    return found


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise TypeError
    return str(value).strip()


def check(raw: dict) -> dict:
    """The given fields, checked: clean values for those given (empty = not given). Raises Invalid with
    every field's problem at once. Whether an order needs a phone or a Telegram id is the caller's rule
    (a new order does; an update may leave the customer as is)."""
    errors, values = {}, {}
    for key in raw:
        if key not in FIELDS:
            errors[str(key)] = "unknown field"
    texts = {}
    for key in FIELDS:
        try:
            texts[key] = _text(raw.get(key))
        except TypeError:
            errors[key] = "must be text or a number"
    if not texts.get("order_ref"):
        errors.setdefault("order_ref", "missing order_ref")
    elif not REF.fullmatch(texts["order_ref"]):
        errors.setdefault(
            "order_ref", f'bad order_ref "{texts["order_ref"][:70]}" (letters, digits, . _ - only; at most 64)'
        )
    else:
        values["order_ref"] = texts["order_ref"]

    def parse(key, parser, message):
        given = texts.get(key)
        if not given or key in errors:
            return
        try:
            values[key] = parser(given)
        except (ValueError, TypeError):
            errors[key] = message.format(value=given[:70])

    parse("phone", phone, 'bad phone "{value}"')
    parse("telegram_id", _telegram_id, 'bad telegram_id "{value}"')
    parse("amount", amount, 'bad amount "{value}"')
    parse("status", status, 'unknown status "{value}" (one of ' + ", ".join(STATUSES) + ")")
    parse("promised_date", date, 'unknown date "{value}" (use YYYY-MM-DD)')
    parse("birthday", day_of_year, 'unknown date "{value}" (use YYYY-MM-DD or MM-DD)')
    parse("anniversary", day_of_year, 'unknown date "{value}" (use YYYY-MM-DD or MM-DD)')
    parse("language", lambda v: LANGUAGE_WORDS[v.lower()], 'unknown language "{value}" (ur or en)')
    parse("tags", tags, 'bad tags "{value}"')
    for key, limit in (("customer_name", 200), ("items", 2000)):
        given = texts.get(key)
        if given and len(given) > limit:
            errors[key] = f"longer than {limit} characters"
        elif given:
            values[key] = given
    if errors:
        raise Invalid(errors)
    return values


def _telegram_id(value: str) -> int:
    number = int(value)
    if not 0 < number < 2**63:
        raise ValueError(value)
    return number
