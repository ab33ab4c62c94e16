"""The Speed page: first-response and resolution times (business minutes, as the tickets recorded them), the
share within the SLA target per priority, and each agent's tickets closed, median first response and rating.

An agent's figures are those of the tickets they closed (the ticket records who closed it, not who answered
first): closed, the median first response of those tickets, their average rating."""

from __future__ import annotations

from collections import defaultdict

from db.models import Ticket
from handlers.features import sla
from handlers.features.reports.model import Figure, Report, Table
from handlers.features.reports.periods import Period
from handlers.features.reports.stats import average, median, p90, share

PRIORITIES = ("urgent", "high", "normal", "low")


def _answered(period: Period) -> list[tuple]:
    """(created_at, first_response_minutes, priority) of tickets opened in the period and answered."""
    return list(
        Ticket.select(Ticket.created_at, Ticket.first_response_minutes, Ticket.priority)
        .where(
            (Ticket.created_at >= period.start)
            & (Ticket.created_at < period.end)
            & Ticket.first_response_minutes.is_null(False)
        )
        .tuples()
    )


def _closed(period: Period) -> list[tuple]:
    """(closed_at, resolution_minutes, closed_by, first_response_minutes, rating) of tickets closed in the period."""
    return list(
        Ticket.select(
            Ticket.closed_at, Ticket.resolution_minutes, Ticket.closed_by, Ticket.first_response_minutes, Ticket.rating
        )
        .where((Ticket.closed_at >= period.start) & (Ticket.closed_at < period.end))
        .tuples()
    )


def times(period: Period, answered: list[tuple], closed: list[tuple]) -> Table:
    first, resolved = defaultdict(list), defaultdict(list)
    for created, minutes, _ in answered:
        first[period.bucket(created)].append(minutes)
    for closed_at, minutes, *_ in closed:
        if minutes is not None:
            resolved[period.bucket(closed_at)].append(minutes)
    rows = [
        [day.isoformat(), median(first[day]), p90(first[day]), median(resolved[day]), p90(resolved[day])]
        for day in period.buckets()
    ]
    return Table(
        "response_times",
        [
            "week" if period.by_week else "day",
            "first_response_median",
            "first_response_p90",
            "resolution_median",
            "resolution_p90",
        ],
        rows,
        chart="line",
        units=dict.fromkeys(
            ("first_response_median", "first_response_p90", "resolution_median", "resolution_p90"), "minutes"
        ),
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
    before_answered, before_closed = _answered(period.previous()), _closed(period.previous())
    resolution = [m for _, m, *_ in closed if m is not None]
    before_resolution = [m for _, m, *_ in before_closed if m is not None]
    figures = [
        Figure(
            "first_response_median",
            median([m for _, m, _ in answered]),
            "minutes",
            median([m for _, m, _ in before_answered]),
        ),
        Figure(
            "first_response_p90", p90([m for _, m, _ in answered]), "minutes", p90([m for _, m, _ in before_answered])
        ),
        Figure("resolution_median", median(resolution), "minutes", median(before_resolution)),
        Figure("resolution_p90", p90(resolution), "minutes", p90(before_resolution)),
    ]
    return Report("speed", figures, [times(period, answered, closed), within_target(answered), agents(closed)])
