"""The Satisfaction page: ratings 1–5, the average over time, the response rate (rated ÷ asked), and the latest
low ratings (1 or 2) with their words. A rating counts in the period its question was asked in."""

from __future__ import annotations

from collections import Counter, defaultdict

from db.models import Ticket
from handlers.features.reports.model import Figure, Report, Table
from handlers.features.reports.periods import Period
from handlers.features.reports.stats import average, share

LOW = 2
LATEST_LOW = 20


def _asked(period: Period) -> list[tuple]:
    """(csat_asked_at, rating) of the tickets whose rating question was asked in the period."""
    return list(
        Ticket.select(Ticket.csat_asked_at, Ticket.rating)
        .where((Ticket.csat_asked_at >= period.start) & (Ticket.csat_asked_at < period.end))
        .tuples()
    )


def report(period: Period) -> Report:
    asked, before = _asked(period), _asked(period.previous())
    ratings = [r for _, r in asked if r is not None]
    before_ratings = [r for _, r in before if r is not None]
    counts = Counter(ratings)
    distribution = Table(
        "ratings",
        ["rating", "tickets", "share"],
        [[n, counts[n], share(counts[n], len(ratings))] for n in range(1, 6)],
        chart="bar",
        series=("tickets",),
        units={"share": "percent"},
    )
    by_day = defaultdict(list)
    asked_by_day: Counter = Counter()
    for moment, rating in asked:
        asked_by_day[period.bucket(moment)] += 1
        if rating is not None:
            by_day[period.bucket(moment)].append(rating)
    over_time = Table(
        "rating_over_time",
        ["week" if period.by_week else "day", "rating_average", "rated", "asked"],
        [[day.isoformat(), average(by_day[day]), len(by_day[day]), asked_by_day[day]] for day in period.buckets()],
        chart="line",
        series=("rating_average",),
        units={"rating_average": "rating"},
    )
    low = Table(
        "low_ratings",
        ["ticket", "rating", "comment", "closed_by"],
        [
            list(row)
            for row in Ticket.select(Ticket.id, Ticket.rating, Ticket.rating_comment, Ticket.closed_by)
            .where(
                (Ticket.csat_asked_at >= period.start) & (Ticket.csat_asked_at < period.end) & (Ticket.rating <= LOW)
            )
            .order_by(Ticket.csat_asked_at.desc())
            .limit(LATEST_LOW)
            .tuples()
        ],
        links={"ticket": "ticket"},
    )
    figures = [
        Figure("rating_average", average(ratings), "rating", average(before_ratings)),
        Figure("response_rate", share(len(ratings), len(asked)), "percent", share(len(before_ratings), len(before))),
        Figure("ratings_count", len(ratings), previous=len(before_ratings)),
    ]
    return Report("satisfaction", figures, [distribution, over_time, low])
