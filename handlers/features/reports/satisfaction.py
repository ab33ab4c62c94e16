"""The Satisfaction page: ratings 1–5, the average over time, the response rate (rated ÷ asked), and the latest
low ratings (1 or 2) with their words. A rating counts in the period its question was asked in."""

from __future__ import annotations

from collections import Counter, defaultdict

from db.models import Ticket
from handlers.features.reports import daily, sql
from handlers.features.reports.model import Figure, Report, Table
from handlers.features.reports.periods import Period
from handlers.features.reports.stats import share

LOW = 2
LATEST_LOW = 20


def _asked(period: Period) -> list[tuple]:
    """(local day, rating or None, tickets) of the rating questions asked in the period (handlers/features/reports/
    daily.py)."""
    rows = []
    for (day, _), tally in daily.read(period, "asked")["asked"].items():
        if tally.blank:
            rows.append((day, None, tally.blank))
        rows.extend((day, rating, n) for rating, n in Counter(tally.values).items())
    return rows


def _figures(asked: list[tuple]) -> tuple[Counter, int]:
    """Tickets per rating (1–5), and the questions asked."""
    counts: Counter = Counter()
    for _, rating, n in asked:
        if rating is not None:
            counts[int(rating)] += n
    return counts, sum(n for *_, n in asked)


def _average(counts: Counter) -> float | None:
    rated = sum(counts.values())
    return round(sum(r * n for r, n in counts.items()) / rated, 2) if rated else None


def report(period: Period) -> Report:
    asked = _asked(period)
    counts, questions = _figures(asked)
    before, before_questions = _figures(_asked(period.previous()))
    rated = sum(counts.values())
    distribution = Table(
        "ratings",
        ["rating", "tickets", "share"],
        [[n, counts[n], share(counts[n], rated)] for n in range(1, 6)],
        chart="bar",
        series=("tickets",),
        units={"share": "percent"},
    )
    by_day: dict = defaultdict(Counter)
    asked_by_day: Counter = Counter()
    for day, rating, n in asked:
        bucket = period.bucket_of(day)
        asked_by_day[bucket] += n
        if rating is not None:
            by_day[bucket][int(rating)] += n
    over_time = Table(
        "rating_over_time",
        ["week" if period.by_week else "day", "rating_average", "rated", "asked"],
        [[b.isoformat(), _average(by_day[b]), sum(by_day[b].values()), asked_by_day[b]] for b in period.buckets()],
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
                sql.of_team(
                    period.team,
                    (Ticket.csat_asked_at >= period.start)
                    & (Ticket.csat_asked_at < period.end)
                    & (Ticket.rating <= LOW),
                )
            )
            .order_by(Ticket.csat_asked_at.desc())
            .limit(LATEST_LOW)
            .tuples()
        ],
        links={"ticket": "ticket"},
    )
    figures = [
        Figure("rating_average", _average(counts), "rating", _average(before)),
        Figure("response_rate", share(rated, questions), "percent", share(sum(before.values()), before_questions)),
        Figure("ratings_count", rated, previous=sum(before.values())),
    ]
    return Report("satisfaction", figures, [distribution, over_time, low])
