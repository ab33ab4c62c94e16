"""Greetings: birthdays, anniversaries and the shop's holidays, sent once a year by a daily job.

Occasions are stored on the customer as "MM-DD" (indexed): set by order imports, by an agent in a ticket
(/setbirthday DD-MM, /setanniversary DD-MM) or by the customer (/birthday DD-MM on Telegram, "birthday 14-08"
or "سالگرہ 14-08" anywhere). Holidays are listed in settings ([greetings] holidays, "YYYY-MM-DD name").

The `greetings` job (scheduler, every minute) does the day's work once the shop's local time has passed
greetings.send_at; `flask --app webhook jobs run greetings` does it now, whatever the time. Each customer is
greeted at most once per occasion and year: a GreetingSent row (unique customer, occasion, year) is written
in the same transaction as the outbox row (idempotency key g:{occasion}:{year}:c{customer}) — or as the
reason they were left out (opted out, unreachable, no contact, no WhatsApp template), which is final for
that year. A day the bot was down is caught up at the next run: birthdays and anniversaries of up to
greetings.catch_up_days missed days are greeted with the belated wording (greetings/<occasion>_belated), by the
same GreetingSent row and key, so never twice (State greetings:done_through is the last day done). Messages go
at bulk priority in chunks (broadcasts.chunk) while the outbox holds fewer than broadcasts.backlog bulk
messages, so replies to customers are never held up; the next run continues.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import logging
import re
from dataclasses import dataclass

from peewee import fn

import config
import outbox
from bots.base import TELEGRAM, Inbound
from db.connection import write
from db.models import Contact, Customer, GreetingSent, State
from handlers.core import clock, commands, customers, texts, tickets
from handlers.features import campaigns, loyalty

log = logging.getLogger(__name__)

LOCK_KEY = 7212006  # PostgreSQL advisory lock: one greetings run at a time (scheduler and CLI)
DONE_THROUGH = "greetings:done_through"  # State: the last local day whose greetings all went out (ISO date)
OCCASION_FIELDS = {"birthday": "birthday", "anniversary": "anniversary"}

# what a customer types: the command or keyword, then the date
_CUSTOMER_FORMS = [
    ("birthday", re.compile(r"^/birthday(?:@\w+)?(?:\s+(?P<rest>.*))?$", re.I | re.S), True),
    ("anniversary", re.compile(r"^/anniversary(?:@\w+)?(?:\s+(?P<rest>.*))?$", re.I | re.S), True),
    ("anniversary", re.compile(r"^(?:my\s+)?(?:wedding\s+)?anniversary\s*[:\-]?\s+(?P<rest>.+)$", re.I | re.S), False),
    ("anniversary", re.compile(r"^(?:میری\s+)?شادی\s+کی\s+سالگرہ\s*[:\-]?\s*(?P<rest>.+)$", re.S), False),
    ("birthday", re.compile(r"^(?:my\s+)?(?:birthday|b-?day|dob)\s*[:\-]?\s+(?P<rest>.+)$", re.I | re.S), False),
    ("birthday", re.compile(r"^(?:میری\s+)?سالگرہ\s*[:\-]?\s*(?P<rest>.+)$", re.S), False),
]
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_NUMERIC = re.compile(r"^(\d{1,2})\s*[-/.]\s*(\d{1,2})(?:\s*[-/.]\s*(\d{4}))?$")
_WORDED = re.compile(r"^(\d{1,2})\s*[-\s]\s*([^\d\s-]+)(?:\s*[-\s]\s*(\d{4}))?$")
_MONTH_SHORT = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]


# ---- dates ------------------------------------------------------------------------------------------
def _month_number(word: str) -> int | None:
    word = word.strip(".").lower()
    for lang in texts.LANGUAGES:
        names = [n.strip().lower() for n in texts.render(lang, "months").splitlines()]
        if word in names:
            return names.index(word) + 1
    return _MONTH_SHORT.index(word[:3]) + 1 if word[:3] in _MONTH_SHORT and len(word) >= 3 else None


def looks_like_date(text: str) -> bool:
    """Day and month written the way people do (valid or not): 14-08, 14/8, ۱۴-۰۸, 14 August, 31-02."""
    text = text.translate(_DIGITS).strip().rstrip(".!")
    worded = _WORDED.match(text)
    return bool(_NUMERIC.match(text) or (worded and _month_number(worded.group(2))))


def parse_day(text: str, today: dt.date | None = None) -> tuple[str, int | None] | None:
    """'14-08', '14/8', '۱۴-۰۸', '14 August', '14-08-1990' → ('08-14', year or None); None when not a real day.
    29 February is a real birthday (greeted on 28 February in other years)."""
    text = (text or "").translate(_DIGITS).strip().rstrip(".!")
    numeric, worded = _NUMERIC.match(text), _WORDED.match(text)
    if numeric:
        day, month, year = int(numeric.group(1)), int(numeric.group(2)), numeric.group(3)
    elif worded and _month_number(worded.group(2)):
        day, month, year = int(worded.group(1)), _month_number(worded.group(2)), worded.group(3)
    else:
        return None
    year = int(year) if year else None
    today = today or clock.local_now().date()
    if year is not None and not 1900 <= year <= today.year:
        return None
    try:
        dt.date(year or 2000, month, day)  # 2000: a leap year, so 29 February passes without a year
    except ValueError:
        return None
    return f"{month:02d}-{day:02d}", year


def describe_day(lang: str, mm_dd: str) -> str:
    month, day = (int(x) for x in mm_dd.split("-"))
    return texts.day_month(lang, day, month)


def _set(customer: Customer, occasion: str, value: tuple[str, int | None] | None) -> None:
    """Store (or clear, with None) a customer's birthday or anniversary."""
    fields = {OCCASION_FIELDS[occasion]: value[0] if value else None}
    if occasion == "birthday" and (value is None or value[1]):
        fields["birth_year"] = value[1] if value else None
    Customer.update(**fields).where(Customer.id == customer.id).execute()
    for name, v in fields.items():
        setattr(customer, name, v)
    customer._dirty -= set(fields)


# ---- the customer tells us ----------------------------------------------------------------------------
def _told(text: str):
    """(occasion, match) when the text tells a birthday or anniversary; None otherwise."""
    for occasion, pattern, is_command in _CUSTOMER_FORMS:
        match = pattern.match(text.strip())
        if match and (is_command or looks_like_date(match.group("rest") or "")):
            return occasion, match
    return None


def tells_occasion(text: str) -> bool:
    """A customer telling us their birthday (/birthday DD-MM, "birthday 14-08", "سالگرہ 14-08") or
    anniversary. A keyword followed by anything but a date ("birthday gift not received") is not."""
    return _told(text) is not None


def save_occasion(inbound: Inbound, customer: Customer, contact: Contact) -> None:
    """Keep the day the customer told us and thank them (or show them how to write it)."""
    occasion, match = _told(inbound.text)
    lang = customers.language_of(customer)
    value = parse_day(match.group("rest") or "")
    if value is None:
        example = texts.render(
            lang, f"greetings/example_{occasion}_{'command' if contact.channel == TELEGRAM else 'word'}"
        )
        outbox.to_contact(contact, texts.render(lang, "greetings/date_invalid", example=example), purpose="occasion")
        return
    _set(customer, occasion, value)
    outbox.to_contact(
        contact,
        texts.render(
            lang,
            f"greetings/{occasion}_saved",
            name=customers.greeting_name(customer),
            date=describe_day(lang, value[0]),
            shop=_shop(),
        ),
        purpose="occasion",
    )
    ticket = tickets.open_ticket_of(customer)
    if ticket:
        outbox.to_group(
            texts.for_agents(
                f"agents/{occasion}_set_by_customer",
                date=describe_day(config.app().agent_language, value[0]),
            ),
            purpose="agents",
            ticket=ticket,
        )
    log.info("%s set by the customer channel=%s customer=%s", occasion, inbound.channel, customer.id)


# ---- agents in a ticket -------------------------------------------------------------------------------
AGENT_COMMANDS = {"setbirthday": "birthday", "setanniversary": "anniversary"}


@commands.command(*AGENT_COMMANDS, in_ticket=True)
def occasion_command(name: str, args: str, ticket, agent, agent_name: str):
    """/setbirthday DD-MM and /setanniversary DD-MM in a ticket set its customer's day (DD-MM-YYYY keeps the
    year of birth; '-' clears it)."""
    occasion = AGENT_COMMANDS[name]
    customer = ticket.customer
    who = customers.display_name(customer)
    if args.strip() == "-":
        _set(customer, occasion, None)
        return texts.for_agents(f"agents/{occasion}_cleared", name=who)
    value = parse_day(args)
    if value is None:
        return texts.for_agents("agents/usage_setoccasion", command=name)
    _set(customer, occasion, value)
    log.info("%s set by agent ticket=%s customer=%s", occasion, ticket.number, customer.id)
    lang = config.app().agent_language
    date = texts.day_month(lang, int(value[0][3:]), int(value[0][:2]), value[1])
    return texts.for_agents(f"agents/{occasion}_set", name=who, date=date, agent=agent_name)


# ---- the daily job ------------------------------------------------------------------------------------
@dataclass
class Occasion:
    name: str  # GreetingSent.occasion and the template greetings/<name>
    kind: str  # birthday / anniversary / holiday
    year: int
    coupon_percent: float
    days: tuple = ()  # "MM-DD" values to look up (birthdays, anniversaries)
    belated: dt.date | None = None  # a missed day caught up: greeted with greetings/<name>_belated

    @property
    def label(self) -> str:
        """How the run's summary names it: 'birthday', or 'birthday of 2026-11-24 (belated)'."""
        return f"{self.name} of {self.belated.isoformat()} (belated)" if self.belated else self.name


def holidays(problems: list | None = None) -> list[tuple[dt.date, str]]:
    """The shop's holidays from settings: (date, name). Bad entries are left out (and reported)."""
    found = []
    for entry in config.greetings().holidays:
        parts = str(entry).split()
        try:
            day, name = dt.date.fromisoformat(parts[0]), parts[1]
            if len(parts) != 2 or not re.fullmatch(r"[a-z0-9_]{1,60}", name):
                raise ValueError
        except (ValueError, IndexError):
            (problems if problems is not None else []).append(f'holiday {entry!r}: use "YYYY-MM-DD name"')
            continue
        if not texts.exists(f"greetings/{name}"):
            (problems if problems is not None else []).append(
                f"holiday {entry!r}: no templates/en/greetings/{name}.txt"
            )
            continue
        found.append((day, name))
    return found


def occasions_on(day: dt.date, problems: list | None = None) -> list[Occasion]:
    """What to greet for on a local day: birthdays (29 February ones on 28 February of other years),
    anniversaries, and the holidays listed for that date."""
    conf = config.greetings()
    days = (f"{day:%m-%d}",)
    if day.month == 2 and day.day == 28 and not _leap(day.year):
        days += ("02-29",)
    found = []
    if conf.birthdays:
        found.append(Occasion("birthday", "birthday", day.year, float(conf.birthday_coupon_percent), days))
    if conf.anniversaries:
        found.append(Occasion("anniversary", "anniversary", day.year, float(conf.anniversary_coupon_percent), days))
    for holiday, name in holidays(problems):
        if holiday == day:
            found.append(Occasion(name, "holiday", day.year, float(conf.holiday_coupon_percent)))
    return found


def missed_days(day: dt.date) -> list[dt.date]:
    """The days before `day` whose greetings never went out because the bot was down: those after the last day
    done (State greetings:done_through) and at most greetings.catch_up_days back. None before the first run."""
    last = State.read(DONE_THROUGH)
    if not last:
        return []
    first = max(
        dt.date.fromisoformat(last) + dt.timedelta(days=1), day - dt.timedelta(days=config.greetings().catch_up_days)
    )
    return [first + dt.timedelta(days=n) for n in range((day - first).days)]


def belated_on(day: dt.date) -> list[Occasion]:
    """Birthdays and anniversaries of a missed day, to greet late (holidays are not caught up)."""
    return [dataclasses.replace(o, belated=day) for o in occasions_on(day) if o.kind != "holiday"]


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _send_at() -> dt.time:
    try:
        return dt.time.fromisoformat(str(config.greetings().send_at or "10:00"))
    except ValueError:
        log.error("greetings.send_at %r is not HH:MM; using 10:00", config.greetings().send_at)
        return dt.time(10, 0)


def tick() -> str | None:
    """The scheduler's job: the day's greetings, once the shop's local time has passed send_at."""
    local = clock.local_now()
    if not config.greetings().enabled or local.time() < _send_at():
        return None
    return run(local.date())


def run_now() -> str:
    """`flask --app webhook jobs run greetings`: today's greetings now, whatever the time of day."""
    return run(clock.local_now().date())


def selection(occasion: Occasion, after_id: int = 0, limit: int = 500):
    """The next customers to greet for an occasion, by id. Birthdays and anniversaries are found through
    their index (customer_birthday, customer_anniversary) minus those already greeted this year; a holiday
    goes to every customer, after the last one done (kept in State)."""
    query = Customer.select().order_by(Customer.id).limit(limit)
    if occasion.kind == "holiday":
        return query.where(Customer.id > after_id)
    column = getattr(Customer, OCCASION_FIELDS[occasion.kind])
    done = GreetingSent.select(GreetingSent.id).where(
        (GreetingSent.customer == Customer.id)
        & (GreetingSent.occasion == occasion.name)
        & (GreetingSent.year == occasion.year)
    )
    return query.where(column.in_(list(occasion.days)) & (Customer.id > after_id) & ~fn.EXISTS(done))


def run(day: dt.date) -> str:
    """Greet for the occasions of a local day, chunk by chunk while the bulk backlog has room, after catching up
    the birthdays and anniversaries of the days the bot missed (missed_days, belated wording); a summary. Once
    everything is out, the day is recorded as done (State greetings:done_through)."""
    problems: list[str] = []
    found = [o for missed in missed_days(day) for o in belated_on(missed)] + occasions_on(day, problems)
    for problem in problems:
        log.error("greetings: %s", problem)
    counts: dict[str, collections.Counter] = {}
    more = False
    for occasion in found:
        more = _feed(occasion, counts.setdefault(occasion.label, collections.Counter()))
        if more:
            break
        if occasion.belated and not counts[occasion.label]:
            del counts[occasion.label]  # a missed day with nobody to greet: not worth a word
    if not more:
        with write():
            if (State.read(DONE_THROUGH) or "") < day.isoformat():
                State.put(DONE_THROUGH, day.isoformat())
    summary = f"greetings {day}: " + (
        "; ".join(
            f"{name} " + ", ".join(f"{k} {v}" for k, v in sorted(t.items())) if t else f"{name} nothing new"
            for name, t in counts.items()
        )
        or "no occasion today"
    )
    if more:
        summary += " — the outbox is full of bulk messages: the next run continues"
    if any(counts.values()):
        log.info(summary)
    return summary


def _feed(occasion: Occasion, tally: collections.Counter) -> bool:
    """An occasion's customers, chunk by chunk while the bulk backlog has room; True when the outbox is full."""
    after_id = 0  # the last customer id greeted in this run (holidays also keep it in State)

    def next_chunk() -> int | None:
        nonlocal after_id
        done, after_id = _chunk(occasion, after_id, tally)
        return done

    return campaigns.feed(next_chunk)


def _chunk(occasion: Occasion, after_id: int, tally: collections.Counter) -> tuple[int | None, int]:
    """Greet the next customers of an occasion in one transaction, as many as the bulk backlog has room for;
    (how many, None when no room; the last customer id)."""
    cursor_key = f"greetings:{occasion.name}:{occasion.year}"
    with write():
        campaigns.lock(LOCK_KEY)
        limit = campaigns.room()
        if limit <= 0:
            return None, after_id
        if occasion.kind == "holiday":
            after_id = max(after_id, int(State.read(cursor_key, "0")))
        batch = list(selection(occasion, after_id, limit))
        for customer in batch:
            outcome = _greet(customer, occasion)
            GreetingSent.create(
                customer=customer, occasion=occasion.name, year=occasion.year, outcome=outcome, sent_at=clock.now()
            )
            tally[outcome] += 1
        if batch and occasion.kind == "holiday":
            State.put(cursor_key, str(batch[-1].id))
    return len(batch), (batch[-1].id if batch else after_id)


def whatsapp_template(occasion: str, lang: str) -> str:
    """The Content SID configured for an occasion and language ('' when none)."""
    for entry in config.greetings().whatsapp_templates:
        parts = str(entry).split()
        if len(parts) == 3 and parts[0] == occasion and parts[1] == lang:
            return parts[2]
    return ""


def _greet(customer: Customer, occasion: Occasion) -> str:
    """Enqueue one customer's greeting (with a coupon when the shop gives one); the outcome."""
    conf = config.greetings()
    promotional = occasion.coupon_percent > 0
    if customer.marketing_opt_out:
        if not conf.plain_wishes_ignore_opt_out:
            return "opted_out"
        promotional = False  # a plain wish only: never a coupon to someone who said STOP
    contact = customers.best_contact(customer)
    if contact is None:
        has_any = Contact.select().where(Contact.customer == customer).exists()
        return "unreachable" if has_any else "no_contact"
    lang = customers.language_of(customer)
    name = customers.greeting_name(customer)
    way = campaigns.window(contact, clock.now(), whatsapp_template, occasion.name, lang)
    if way.skip:
        log.info(
            "greeting %s skipped: WhatsApp outside the 24-hour window and no template for %s customer=%s",
            occasion.name,
            lang,
            customer.id,
        )
        return campaigns.NO_TEMPLATE
    template = f"greetings/{occasion.name}_belated" if occasion.belated else f"greetings/{occasion.name}"
    text = texts.render(lang, template, name=name, shop=_shop())
    variables = {"1": name, "2": _shop()}
    if promotional:
        coupon = loyalty.issue_coupon(
            customer,
            kind="percent",
            value=occasion.coupon_percent,
            issued_by="greetings",
            reason=f"{occasion.name} {occasion.year}",
            valid_days=int(conf.coupon_valid_days or 14),
        )
        words = loyalty.coupon_words(lang, coupon)
        text += "\n\n" + texts.render(lang, "greetings/coupon", shop=_shop(), **words)
        variables.update({"3": words["code"], "4": words["value"], "5": words["expires"]})
    extra = way.extra(variables)
    outbox.to_contact(
        contact,
        text,
        purpose="greeting",
        priority=outbox.PRIORITY_BULK,
        idempotency_key=f"g:{occasion.name}:{occasion.year}:c{customer.id}",
        **extra,
    )
    return "sent"


def _shop() -> str:
    return config.app().shop_name
