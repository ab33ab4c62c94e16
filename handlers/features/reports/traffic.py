"""The Traffic page: new tickets per day (or week) by channel, and when customers write (weekday × hour over the
last 4 weeks, with the opening hours marked)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from db.models import Contact, Message, Ticket
from handlers.core import hours
from handlers.features.reports import periods
from handlers.features.reports.model import Figure, Report, Table
from handlers.features.reports.periods import Period
from handlers.features.reports.stats import CHANNELS

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
HEATMAP_DAYS = 28


def _tickets(since: dt.datetime, until: dt.datetime) -> list[tuple[dt.datetime, str]]:
    return list(
        Ticket.select(Ticket.created_at, Contact.channel)
        .join(Contact, on=Ticket.contact == Contact.id)
        .where((Ticket.created_at >= since) & (Ticket.created_at < until))
        .tuples()
    )


def per_day(period: Period) -> tuple[Table, int]:
    counts: Counter = Counter()
    rows = _tickets(period.start, period.end)
    for created, channel in rows:
        counts[(period.bucket(created), channel)] += 1
    table = Table(
        "tickets_by_channel",
        ["week" if period.by_week else "day", *CHANNELS],
        [[day.isoformat(), *(counts[(day, c)] for c in CHANNELS)] for day in period.buckets()],
        chart="stacked_bar",
    )
    return table, len(rows)


def heatmap() -> Table:
    """Incoming messages by local weekday (rows) and hour (columns), the last 28 days up to today."""
    last = periods.today()
    first = last - dt.timedelta(days=HEATMAP_DAYS - 1)
    moments = (
        Message.select(Message.created_at)
        .where(
            (Message.direction == "in")
            & (Message.created_at >= periods.utc_of(first))
            & (Message.created_at < periods.utc_of(last + dt.timedelta(days=1)))
        )
        .tuples()
    )
    counts: Counter = Counter()
    for (created,) in moments:
        local = periods.local_time(created)
        counts[(local.weekday(), local.hour)] += 1
    week = [last - dt.timedelta(days=i) for i in range(7)]  # the latest of each weekday: its opening hours
    marks = [[False] * 24 for _ in WEEKDAYS]
    for day in week:
        for hour in range(24):
            marks[day.weekday()][hour] = hours.is_open(periods.utc_of(day) + dt.timedelta(hours=hour, minutes=30))
    return Table(
        "messages_by_hour",
        ["weekday", *(f"{h:02d}" for h in range(24))],
        [[WEEKDAYS[d], *(counts[(d, h)] for h in range(24))] for d in range(7)],
        chart="heatmap",
        coded=frozenset({"weekday"}),
        marks=marks,
    )


def report(period: Period) -> Report:
    table, total = per_day(period)
    previous = len(_tickets(period.previous().start, period.previous().end))
    return Report("traffic", [Figure("new_tickets", total, previous=previous)], [table, heatmap()])
