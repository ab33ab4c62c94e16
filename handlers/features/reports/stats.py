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


def _ranked(counts: Counter, ranks: list[int]) -> list:
    """The values at these 0-based ranks of the counted values in order (as if each were listed `count` times)."""
    out, seen, wanted = [], 0, iter(ranks)
    rank = next(wanted)
    for value in sorted(counts):
        seen += counts[value]
        while rank is not None and rank < seen:
            out.append(value)
            rank = next(wanted, None)
        if rank is None:
            break
    return out


def median_of(counts: Counter) -> float | None:
    """median() of the values counted (value → how many times): the same figure, without listing them."""
    n = sum(counts.values())
    if not n:
        return None
    if n % 2:
        return round(_ranked(counts, [n // 2])[0], 1)
    low, high = _ranked(counts, [n // 2 - 1, n // 2])
    return round((low + high) / 2, 1)


def p90_of(counts: Counter) -> float | None:
    """p90() of the values counted (value → how many times)."""
    n = sum(counts.values())
    return round(_ranked(counts, [math.ceil(0.9 * n) - 1])[0], 1) if n else None


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
