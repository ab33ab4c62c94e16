"""Small sums the pages share: median and 90th percentile (nearest rank, so a hand count agrees), averages,
shares, and counting rows into a period's days or weeks."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable

from handlers.features.reports.periods import Period

CHANNELS = ("telegram", "whatsapp", "sms")


def median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def p90(values: list[float]) -> float | None:
    """The 90th percentile by nearest rank: the smallest value that at least 90 % of them do not exceed."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[math.ceil(0.9 * len(ordered)) - 1], 1)


def average(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def share(part: int, whole: int) -> float | None:
    """Percent, one decimal; None when there is nothing to share."""
    return round(100 * part / whole, 1) if whole else None


def per_bucket(period: Period, moments: Iterable, key=None) -> dict:
    """Counter of (bucket, key) — or of bucket when key is None — for the moments (with their keys) given."""
    counts: Counter = Counter()
    for item in moments:
        if key is None:
            counts[period.bucket(item)] += 1
        else:
            counts[(period.bucket(item[0]), item[1])] += 1
    return counts
