"""The Now page: what is waiting right now, and the last 24 hours by channel."""

from __future__ import annotations

import datetime as dt

from peewee import fn

from db.models import Contact, Ticket
from handlers.core import clock
from handlers.features.reports import sql
from handlers.features.reports.model import Figure, Report, Table
from handlers.features.reports.stats import CHANNELS


def _by_channel(since: dt.datetime, until: dt.datetime, team: str | None) -> dict[str, int]:
    rows = (
        Ticket.select(Contact.channel, fn.COUNT(Ticket.id))
        .join(Contact, on=Ticket.contact == Contact.id)
        .where(sql.of_team(team, (Ticket.created_at >= since) & (Ticket.created_at < until)))
        .group_by(Contact.channel)
        .tuples()
    )
    return dict(rows)


def report(team: str | None = None) -> Report:
    """The whole shop's, or one team's (config.sections.DEFAULT_TEAM: the main group's)."""
    now = clock.now()
    is_open = sql.of_team(team, Ticket.status == "open")
    unanswered = is_open & Ticket.first_response_at.is_null()
    oldest = Ticket.select(Ticket.id, Ticket.created_at).where(unanswered).order_by(Ticket.created_at).first()
    day, before = (
        _by_channel(now - dt.timedelta(hours=24), now, team),
        _by_channel(now - dt.timedelta(hours=48), now - dt.timedelta(hours=24), team),
    )
    figures = [
        Figure("open_tickets", Ticket.select().where(is_open).count()),
        Figure("unassigned_tickets", Ticket.select().where(is_open & Ticket.assignee.is_null()).count()),
        Figure("past_target", Ticket.select().where(unanswered & Ticket.sla_breached_at.is_null(False)).count()),
        Figure(
            "oldest_waiting",
            round((now - oldest.created_at).total_seconds() / 60) if oldest else None,
            unit="age",
            link=f"ticket:{oldest.id}" if oldest else None,
        ),
        Figure("last_24h", sum(day.values()), previous=sum(before.values())),
    ]
    table = Table(
        "last_24h_by_channel",
        ["channel", "tickets", "previous_24h"],
        [[c, day.get(c, 0), before.get(c, 0)] for c in CHANNELS],
        chart="bar",
        coded=frozenset({"channel"}),
    )
    return Report("now", figures, [table])
