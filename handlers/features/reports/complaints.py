"""The Complaints page: the top tags (this period and the previous one), the share with urgent wording, the
questions the bot could not answer and handed to a person, and repeat complainers (3 or more tickets in the
last 30 days)."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

from peewee import fn

from db.models import Customer, FaqLog, Ticket
from handlers.core import clock
from handlers.features.reports import daily, sql
from handlers.features.reports.model import Figure, Report, Table
from handlers.features.reports.periods import Period
from handlers.features.reports.stats import share

TOP_TAGS = 10
REPEAT_TICKETS = 3
REPEAT_DAYS = 30
LIST_LIMIT = 20


def _tickets(period: Period) -> list[tuple]:
    """(tags as stored, urgent, tickets) of the tickets opened in the period, per tag list (a shop has few distinct
    tag lists, so each is read once): handlers/features/reports/daily.py."""
    counts: Counter = Counter()
    for (_, tags), tally in daily.read(period, "tags")["tags"].items():
        urgent = sum(1 for value in tally.values if value)
        counts[(tags, True)] += urgent
        counts[(tags, False)] += tally.tickets - urgent
    return [(tags, urgent, n) for (tags, urgent), n in counts.items() if n]


def _tag_counts(rows: list[tuple]) -> Counter:
    counts: Counter = Counter()
    for tags, _, n in rows:
        for tag in json.loads(tags) if tags else []:
            counts[tag] += n
    return counts


def _urgent_share(rows: list[tuple]) -> float | None:
    return share(sum(n for _, urgent, n in rows if urgent), sum(n for *_, n in rows))


def unanswered_questions(period: Period) -> Table:
    """What customers asked that the bot handed to a person (no good answer, or "did not help")."""
    rows = (
        FaqLog.select(fn.LOWER(FaqLog.question), fn.COUNT(FaqLog.id), fn.MAX(FaqLog.created_at))
        .where(
            (FaqLog.created_at >= period.start)
            & (FaqLog.created_at < period.end)
            & FaqLog.outcome.in_(("handoff", "unhelpful"))
        )
        .group_by(fn.LOWER(FaqLog.question))
        .order_by(fn.COUNT(FaqLog.id).desc(), fn.MAX(FaqLog.created_at).desc())
        .limit(LIST_LIMIT)
        .tuples()
    )
    return Table("unanswered_questions", ["question", "times"], [[q, n] for q, n, _ in rows])


def repeat_complainers(team: str | None = None) -> Table:
    """Customers with REPEAT_TICKETS or more tickets in the last REPEAT_DAYS days: counted per customer from the
    index on (created_at, customer_id), then the few found are named. (The range is bounded at now, so that
    SQLite walks the tickets of those days rather than every customer's.)"""
    now = clock.now()
    top = (
        Ticket.select(Ticket.customer, fn.COUNT(Ticket.id), fn.MAX(Ticket.id))
        .where(
            sql.of_team(team, (Ticket.created_at >= now - dt.timedelta(days=REPEAT_DAYS)) & (Ticket.created_at <= now))
        )
        .group_by(Ticket.customer)
        .having(fn.COUNT(Ticket.id) >= REPEAT_TICKETS)
        .order_by(fn.COUNT(Ticket.id).desc(), Ticket.customer)
        .limit(LIST_LIMIT)
        .tuples()
    )
    counted = list(top)
    names = dict(Customer.select(Customer.id, Customer.name).where(Customer.id.in_([c for c, *_ in counted])).tuples())
    rows = [(cid, names.get(cid), n, latest) for cid, n, latest in counted]
    return Table(
        "repeat_complainers",
        ["customer", "tickets_30_days", "ticket"],
        [[name or f"#{cid}", n, latest] for cid, name, n, latest in rows],
        links={"ticket": "ticket"},
    )


def report(period: Period) -> Report:
    rows, before = _tickets(period), _tickets(period.previous())
    tags, before_tags = _tag_counts(rows), _tag_counts(before)
    top = Table(
        "top_tags",
        ["tag", "tickets", "previous_period"],
        [
            [tag, n, before_tags.get(tag, 0)]
            for tag, n in sorted(tags.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_TAGS]
        ],
        chart="bar",
    )
    figures = [
        Figure("new_tickets", sum(n for *_, n in rows), previous=sum(n for *_, n in before)),
        Figure("urgent_share", _urgent_share(rows), "percent", _urgent_share(before)),
    ]
    return Report("complaints", figures, [top, unanswered_questions(period), repeat_complainers(period.team)])
