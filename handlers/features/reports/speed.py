"""The Speed page: first-response and resolution times (business minutes, as the tickets recorded them), the
share within the SLA target per priority, and each agent's tickets closed, median first response and rating.

An agent's figures are those of the tickets they closed (the ticket records who closed it, not who answered
first): closed, the median first response of those tickets, their average rating."""

from __future__ import annotations

import bisect
from collections import Counter

from handlers.features import sla
from handlers.features.reports import daily
from handlers.features.reports.model import Figure, Report, Table
from handlers.features.reports.periods import Period
from handlers.features.reports.stats import average, median, p90, share

PRIORITIES = ("urgent", "high", "normal", "low")
TIMES = ("first_response_median", "first_response_p90", "resolution_median", "resolution_p90")


def _read(period: Period) -> dict[str, daily.Counts]:
    """The period's tickets, per local day (handlers/features/reports/daily.py): first responses by the day the
    ticket was opened (per priority), and by the day it was closed: first responses and ratings per agent, and
    resolution times."""
    return daily.read(period, "first_response", "closed", "closed_rating", "resolution")


def times(period: Period, counts: dict[str, daily.Counts]) -> Table:
    first = daily.pooled(counts["first_response"], lambda day_key: period.bucket_of(day_key[0]))
    resolved = daily.pooled(counts["resolution"], lambda day_key: period.bucket_of(day_key[0]))
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


def within_target(counts: dict[str, daily.Counts]) -> Table:
    by_priority = daily.pooled(
        counts["first_response"], lambda day_key: day_key[1] if day_key[1] in PRIORITIES else sla.DEFAULT_PRIORITY
    )
    rows = []
    for priority in PRIORITIES:
        target = sla.targets(priority)[0]
        answered = by_priority[priority]  # in order
        inside = bisect.bisect_right(answered, target)
        rows.append([priority, target, len(answered), inside, share(inside, len(answered))])
    return Table(
        "within_target",
        ["priority", "target", "answered", "within", "share"],
        rows,
        chart="bar",
        series=("share",),
        coded=frozenset({"priority"}),
        units={"target": "minutes", "share": "percent"},
    )


def agents(counts: dict[str, daily.Counts]) -> Table:
    closed: Counter = Counter()
    for (_, agent), tally in counts["closed"].items():
        closed[agent] += tally.tickets
    firsts = daily.pooled(counts["closed"], lambda day_key: day_key[1])
    ratings = daily.pooled(counts["closed_rating"], lambda day_key: day_key[1])
    rows = []
    for agent, n in sorted(closed.items(), key=lambda kv: (-kv[1], kv[0])):
        rows.append([agent or "—", n, median(firsts[agent]), average(ratings[agent])])
    return Table(
        "agents",
        ["agent", "closed", "first_response_median", "rating_average"],
        rows,
        units={"first_response_median": "minutes", "rating_average": "rating"},
    )


def report(period: Period) -> Report:
    counts, before = _read(period), daily.read(period.previous(), "first_response", "resolution")
    first, before_first = daily.pooled(counts["first_response"])[None], daily.pooled(before["first_response"])[None]
    resolution, before_resolution = daily.pooled(counts["resolution"])[None], daily.pooled(before["resolution"])[None]
    figures = [
        Figure("first_response_median", median(first), "minutes", median(before_first)),
        Figure("first_response_p90", p90(first), "minutes", p90(before_first)),
        Figure("resolution_median", median(resolution), "minutes", median(before_resolution)),
        Figure("resolution_p90", p90(resolution), "minutes", p90(before_resolution)),
    ]
    return Report("speed", figures, [times(period, counts), within_target(counts), agents(counts)])
