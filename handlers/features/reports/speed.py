"""The Speed page: first-response and resolution times (business minutes, as the tickets recorded them), the
share within the SLA target per priority, and each agent's tickets closed, median first response and rating.

An agent's figures are those of the tickets they closed (the ticket records who closed it, not who answered
first): closed, the median first response of those tickets, their average rating."""

from __future__ import annotations

from collections import defaultdict

from db.models import Ticket
from handlers.features import sla
from handlers.features.reports import sql
from handlers.features.reports.model import Figure, Report, Table
from handlers.features.reports.periods import Period
from handlers.features.reports.stats import average, median, p90, share

PRIORITIES = ("urgent", "high", "normal", "low")
TIMES = ("first_response_median", "first_response_p90", "resolution_median", "resolution_p90")


def _answered(period: Period) -> list[tuple]:
    """(local day, first_response_minutes, priority) of tickets opened in the period and answered."""
    day = sql.local_day(Ticket.created_at, sql.offset_minutes(period.start))
    return sql.rows(
        Ticket.select(day, Ticket.first_response_minutes, Ticket.priority).where(
            (Ticket.created_at >= period.start)
            & (Ticket.created_at < period.end)
            & Ticket.first_response_minutes.is_null(False)
        )
    )


def _closed(period: Period) -> list[tuple]:
    """(local day, resolution_minutes, closed_by, first_response_minutes, rating) of tickets closed in the period."""
    day = sql.local_day(Ticket.closed_at, sql.offset_minutes(period.start))
    return sql.rows(
        Ticket.select(
            day, Ticket.resolution_minutes, Ticket.closed_by, Ticket.first_response_minutes, Ticket.rating
        ).where((Ticket.closed_at >= period.start) & (Ticket.closed_at < period.end))
    )


def _minutes(column, moment, period: Period) -> list[float]:
    """Only the minutes (for the previous period's figures)."""
    query = Ticket.select(column).where((moment >= period.start) & (moment < period.end) & column.is_null(False))
    return [row[0] for row in sql.rows(query)]


def times(period: Period, answered: list[tuple], closed: list[tuple]) -> Table:
    first, resolved = defaultdict(list), defaultdict(list)
    for day, minutes, _ in answered:
        first[period.bucket_of(day)].append(minutes)
    for day, minutes, *_ in closed:
        if minutes is not None:
            resolved[period.bucket_of(day)].append(minutes)
    rows = [
        [b.isoformat(), median(first[b]), p90(first[b]), median(resolved[b]), p90(resolved[b])]
        for b in period.buckets()
    ]
    return Table(
        "response_times",
        ["week" if period.by_week else "day", *TIMES],
        rows,
        chart="line",
        units=dict.fromkeys(TIMES, "minutes"),
    )


def within_target(answered: list[tuple]) -> Table:
    by_priority = defaultdict(list)
    for _, minutes, priority in answered:
        by_priority[priority if priority in PRIORITIES else sla.DEFAULT_PRIORITY].append(minutes)
    rows = []
    for priority in PRIORITIES:
        target = sla.targets(priority)[0]
        values = by_priority[priority]
        inside = sum(1 for m in values if m <= target)
        rows.append([priority, target, len(values), inside, share(inside, len(values))])
    return Table(
        "within_target",
        ["priority", "target", "answered", "within", "share"],
        rows,
        chart="bar",
        series=("share",),
        coded=frozenset({"priority"}),
        units={"target": "minutes", "share": "percent"},
    )


def agents(closed: list[tuple]) -> Table:
    by_agent = defaultdict(list)
    for _, _, closed_by, first, rating in closed:
        by_agent[closed_by or ""].append((first, rating))
    rows = []
    for agent, items in sorted(by_agent.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        firsts = [f for f, _ in items if f is not None]
        ratings = [r for _, r in items if r is not None]
        rows.append([agent or "—", len(items), median(firsts), average(ratings)])
    return Table(
        "agents",
        ["agent", "closed", "first_response_median", "rating_average"],
        rows,
        units={"first_response_median": "minutes", "rating_average": "rating"},
    )


def report(period: Period) -> Report:
    answered, closed = _answered(period), _closed(period)
    before = period.previous()
    first = [m for _, m, _ in answered]
    before_first = _minutes(Ticket.first_response_minutes, Ticket.created_at, before)
    resolution = [m for _, m, *_ in closed if m is not None]
    before_resolution = _minutes(Ticket.resolution_minutes, Ticket.closed_at, before)
    figures = [
        Figure("first_response_median", median(first), "minutes", median(before_first)),
        Figure("first_response_p90", p90(first), "minutes", p90(before_first)),
        Figure("resolution_median", median(resolution), "minutes", median(before_resolution)),
        Figure("resolution_p90", p90(resolution), "minutes", p90(before_resolution)),
    ]
    return Report("speed", figures, [times(period, answered, closed), within_target(answered), agents(closed)])
