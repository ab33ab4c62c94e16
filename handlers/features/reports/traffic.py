"""The Traffic page: new tickets per day (or week) by channel, and when customers write (weekday × hour over the
last 4 weeks, with the opening hours marked). New tickets come from the daily roll-ups and today's tickets
(handlers/features/reports/daily.py); the messages are counted by the database (handlers/features/reports/sql.py)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from peewee import fn

from db.models import Message, Ticket
from handlers.core import hours
from handlers.features.reports import daily, periods, sql
from handlers.features.reports.model import Figure, Report, Table
from handlers.features.reports.periods import Period
from handlers.features.reports.stats import CHANNELS

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
HEATMAP_DAYS = 28


def count(period: Period) -> int:
    return daily.tickets(daily.read(period, "created")["created"])


def per_day(period: Period) -> Table:
    counts: Counter = Counter()
    for (day, channel), tally in daily.read(period, "created")["created"].items():
        counts[(period.bucket_of(day), channel)] += tally.tickets
    return Table(
        "tickets_by_channel",
        ["week" if period.by_week else "day", *CHANNELS],
        [[b.isoformat(), *(counts[(b, c)] for c in CHANNELS)] for b in period.buckets()],
        chart="stacked_bar",
    )


def heatmap(team: str | None = None) -> Table:
    """Incoming messages by local weekday (rows) and hour (columns), the last 28 days up to today (to one team's
    tickets only, when given)."""
    last = periods.today()
    since, until = periods.utc_of(last - dt.timedelta(days=HEATMAP_DAYS - 1)), periods.utc_of(last + dt.timedelta(1))
    weekday, hour = sql.local_weekday_hour(Message.created_at, sql.offset_minutes(since))
    where = (Message.direction == "in") & (Message.created_at >= since) & (Message.created_at < until)
    query = Message.select(weekday, hour, fn.COUNT(Message.id))
    if team is not None:
        query = query.join(Ticket, on=Message.ticket == Ticket.id)
        where = sql.of_team(team, where)
    query = query.where(where).group_by(weekday, hour)
    counts: Counter = Counter()
    for sunday_first, h, n in sql.rows(query):
        counts[((int(sunday_first) + 6) % 7, int(h))] += n  # Monday first, as the page shows the week
    week = [last - dt.timedelta(days=i) for i in range(7)]  # the latest of each weekday: its opening hours
    marks = [[False] * 24 for _ in WEEKDAYS]
    for day in week:
        for h in range(24):
            marks[day.weekday()][h] = hours.is_open(periods.utc_of(day) + dt.timedelta(hours=h, minutes=30))
    return Table(
        "messages_by_hour",
        ["weekday", *(f"{h:02d}" for h in range(24))],
        [[WEEKDAYS[d], *(counts[(d, h)] for h in range(24))] for d in range(7)],
        chart="heatmap",
        coded=frozenset({"weekday"}),
        marks=marks,
    )


def report(period: Period) -> Report:
    table = per_day(period)
    total = sum(sum(row[1:]) for row in table.rows)
    return Report(
        "traffic", [Figure("new_tickets", total, previous=count(period.previous()))], [table, heatmap(period.team)]
    )
