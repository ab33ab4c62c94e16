"""Business hours: when the shop's team works ([hours] in settings, read in app.timezone), what the
acknowledgement of a new ticket promises, the group's summary of the tickets that came in while the shop
was closed (a scheduler job, once per opening), and business minutes between two moments.

Moments are naive UTC, like the database columns; opening hours are local wall-clock times.
"""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from peewee import IntegrityError

import config
import outbox
from db.connection import write
from db.models import State, Ticket
from handlers.core import clock, customers, teams, texts

log = logging.getLogger(__name__)

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WHOLE_DAY = (dt.timedelta(0), dt.timedelta(days=1))
LOOK_AHEAD_DAYS = 400  # next_opening gives up beyond this (a shop closed for over a year)
SUMMARY_STATE = "hours_summary_opening"  # State: the opening (naive UTC, ISO) last summarised
SUMMARY_LINE_CHARS = 80


# -- the schedule -----------------------------------------------------------------------------------


def _clock_time(text: str, key: str) -> dt.timedelta:
    """'09:30' → 9 h 30 min after midnight ('24:00' is the end of the day)."""
    hours, sep, minutes = text.strip().partition(":")
    if not (sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise ValueError(f"hours.{key}: {text!r} is not a time like 09:30")
    value = dt.timedelta(hours=int(hours), minutes=int(minutes))
    if int(minutes) > 59 or value > dt.timedelta(days=1):
        raise ValueError(f"hours.{key}: {text!r} is not a time of day")
    return value


def _ranges(spec: str, key: str) -> list[tuple[dt.timedelta, dt.timedelta]]:
    """'10:00-13:00,14:00-20:00' → [(10 h, 13 h), (14 h, 20 h)]; '' → [] (closed all day)."""
    ranges = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        start, sep, end = part.partition("-")
        if not sep:
            raise ValueError(f"hours.{key}: {part!r} is not a range like 10:00-20:00")
        opens, closes = _clock_time(start, key), _clock_time(end, key)
        if closes <= opens:
            raise ValueError(f"hours.{key}: {part!r} closes before it opens")
        ranges.append((opens, closes))
    return sorted(ranges)


def _schedule() -> tuple[list[list], set[dt.date], ZoneInfo]:
    """Opening ranges per weekday (Monday first), the closed dates and the shop's time zone.
    A shop that sets no hours at all is always open."""
    conf = config.hours()
    week = [_ranges(getattr(conf, day) or "", day) for day in DAYS]
    if not any(week):
        week = [[WHOLE_DAY] for _ in DAYS]
    closed = {dt.date.fromisoformat(str(d).strip()) for d in conf.closed_dates}
    return week, closed, ZoneInfo(config.app().timezone)


def weekly() -> tuple[list[list[tuple[dt.timedelta, dt.timedelta]]], list[dt.date]]:
    """The opening ranges per weekday (Monday first, each a time since midnight) and the closed dates, sorted:
    what the FAQ's opening-hours answer says (handlers/features/shopinfo.py)."""
    week, closed, _ = _schedule()
    return week, sorted(closed)


def _utc(day: dt.date, since_midnight: dt.timedelta, zone: ZoneInfo) -> dt.datetime:
    local = dt.datetime.combine(day, dt.time(), tzinfo=zone) + since_midnight
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def _local(moment: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC).astimezone(zone)


def periods(first_day: dt.date, last_day: dt.date):
    """The shop's open periods as (opens, closes) in naive UTC, on local days first_day..last_day,
    in order; periods that touch (23:00-24:00 then 00:00-…) are one."""
    week, closed, zone = _schedule()
    pending = None
    day = first_day
    while day <= last_day:
        if day not in closed:
            for opens, closes in week[day.weekday()]:
                start, end = _utc(day, opens, zone), _utc(day, closes, zone)
                if pending and start <= pending[1]:
                    pending = (pending[0], max(end, pending[1]))
                    continue
                if pending:
                    yield pending
                pending = (start, end)
        day += dt.timedelta(days=1)
    if pending:
        yield pending


def _local_day(moment: dt.datetime) -> dt.date:
    return _local(moment, ZoneInfo(config.app().timezone)).date()


def current_period(moment: dt.datetime) -> tuple[dt.datetime, dt.datetime] | None:
    """The open period `moment` falls in, or None when the shop is closed then."""
    day = _local_day(moment)
    for opens, closes in periods(day - dt.timedelta(days=1), day + dt.timedelta(days=1)):
        if opens <= moment < closes:
            return opens, closes
    return None


def is_open(moment: dt.datetime) -> bool:
    return current_period(moment) is not None


def next_opening(moment: dt.datetime) -> dt.datetime | None:
    """When the team next starts work after `moment` (a closed moment); None if not within a year."""
    day = _local_day(moment)
    for opens, _ in periods(day, day + dt.timedelta(days=LOOK_AHEAD_DAYS)):
        if opens > moment:
            return opens
    return None


def last_closing(moment: dt.datetime) -> dt.datetime | None:
    """When the shop last closed for the day before `moment` (a break within a day, 13:00-14:00, is no closing);
    None if it has not been open in the last week."""
    day = _local_day(moment)
    zone = ZoneInfo(config.app().timezone)
    spans = list(periods(day - dt.timedelta(days=7), day + dt.timedelta(days=1)))
    closings = [
        closes
        for (_, closes), following in zip(spans, [*spans[1:], None], strict=True)
        if closes <= moment and (following is None or _local(following[0], zone).date() != _local(closes, zone).date())
    ]
    return closings[-1] if closings else None


def business_minutes(start: dt.datetime, end: dt.datetime) -> float:
    """Minutes between two naive-UTC moments that fall inside business hours."""
    if end <= start:
        return 0.0
    total = dt.timedelta(0)
    for opens, closes in periods(_local_day(start) - dt.timedelta(days=1), _local_day(end)):
        overlap = min(closes, end) - max(opens, start)
        if overlap > dt.timedelta(0):
            total += overlap
    return total.total_seconds() / 60


# -- what the customer is told ----------------------------------------------------------------------


def opening_words(lang: str, opening: dt.datetime, now: dt.datetime) -> str:
    """The next opening as a customer reads it: 'today at 10:00', 'tomorrow at 10:00', 'on Monday at
    10:00', or with the date when it is more than a week away."""
    zone = ZoneInfo(config.app().timezone)
    local = _local(opening, zone)
    days_ahead = (local.date() - _local(now, zone).date()).days
    values = dict(
        time=local.strftime("%H:%M"),
        weekday=texts.render(lang, "weekdays").splitlines()[local.weekday()],
        day=local.day,
        month=texts.render(lang, "months").splitlines()[local.month - 1],
    )
    name = {0: "opening_today", 1: "opening_tomorrow"}.get(
        days_ahead, "opening_weekday" if days_ahead < 7 else "opening_date"
    )
    return texts.render(lang, name, **values)


def acknowledgement(lang: str, customer, ticket, first_contact: bool) -> str:
    """The acknowledgement of a new ticket: its number and when the team will answer — in minutes while
    the shop is open, or the next opening time when it is closed (then the ticket is marked
    opened_while_closed and saved, for the opening summary)."""
    app = config.app()
    values = dict(
        name=customers.greeting_name(customer),
        ticket=ticket.number,
        shop=app.shop_name,
        minutes=app.first_response_minutes,
    )
    name = "ack_welcome" if first_contact else "ack"
    if is_open(ticket.created_at):
        return texts.render(lang, name, **values)
    ticket.opened_while_closed = True
    ticket.save()
    opening = next_opening(ticket.created_at)
    log.info("ticket opened while closed ticket=%s next_opening=%s", ticket.number, opening)
    if opening is not None:
        return texts.render(lang, f"{name}_closed", when=opening_words(lang, opening, ticket.created_at), **values)
    return texts.render(lang, name, **values)


# -- the opening summary (scheduler job) --------------------------------------------------------------


def _summary_line(ticket: Ticket) -> str:
    first_line = ticket.subject.strip() or texts.for_agents("agents/opening_summary_no_text")
    if len(first_line) > SUMMARY_LINE_CHARS:
        first_line = first_line[: SUMMARY_LINE_CHARS - 1] + "…"
    return texts.for_agents(
        "agents/opening_summary_line",
        ticket=ticket.number,
        name=customers.display_name(ticket.customer),
        channel=customers.channel_name(ticket.contact.channel),
        first_line=first_line,
    )


def waiting_since_closing(opening: dt.datetime, since: dt.datetime | None) -> list[Ticket]:
    """Open tickets that arrived while the shop was closed, after `since` and before `opening`."""
    query = Ticket.select().where(
        (Ticket.status == "open") & Ticket.opened_while_closed & (Ticket.created_at < opening)
    )
    if since is not None:
        query = query.where(Ticket.created_at >= since)
    return list(query.order_by(Ticket.id))


def post_opening_summary() -> None:
    """Scheduler job (every minute): once the shop opens, tell the group which open tickets came in while
    it was closed. Once per opening, also across restarts and repeated runs (State + idempotency key)."""
    period = current_period(clock.now())
    if period is None:
        return
    opening = period[0]
    try:
        with write():
            last = State.read(SUMMARY_STATE)
            since = dt.datetime.fromisoformat(last) if last else None
            if since is not None and since >= opening:
                return
            waiting = waiting_since_closing(opening, since)
            per_group: dict[str | None, list[Ticket]] = {}
            for ticket in waiting:  # each group hears of its own tickets (its team's), in its language
                per_group.setdefault(teams.known(ticket.team), []).append(ticket)
            for name, theirs in per_group.items():
                with teams.speaking_in(name):
                    text = texts.for_agents(
                        "agents/opening_summary", count=len(theirs), lines="\n".join(_summary_line(t) for t in theirs)
                    )
                key = f"opening_summary:{opening.isoformat()}" + (f":{name}" if name else "")
                outbox.to_group(text, purpose="agents", group=teams.lane(name), idempotency_key=key)
            State.put(SUMMARY_STATE, opening.isoformat())
    except IntegrityError:
        log.info("opening summary for %s already posted by another run", opening.isoformat())
        return
    if waiting:
        log.info("opening summary posted: tickets=%s", ",".join(str(t.number) for t in waiting))
