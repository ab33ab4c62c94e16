"""Date ranges in the shop's calendar (app.timezone): today, the last 7, 30 or 90 days, or custom dates;
the previous period of the same length; and the local day (or week) a UTC moment falls in."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import config
from handlers.core import clock

CHOICES = ("today", "7", "30", "90", "custom")
DEFAULT = "7"
MAX_DAYS = 366


class BadRange(ValueError):
    """A range the owner asked for that we cannot read; `.reason` is a key of words.toml."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Period:
    choice: str
    first_day: dt.date  # local, inclusive
    last_day: dt.date  # local, inclusive
    team: str | None = None  # the tickets of one team only (config.sections.DEFAULT_TEAM: the main group's)

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def start(self) -> dt.datetime:
        """Naive UTC of the first day's local midnight."""
        return utc_of(self.first_day)

    @property
    def end(self) -> dt.datetime:
        """Naive UTC of the local midnight after the last day (exclusive)."""
        return utc_of(self.last_day + dt.timedelta(days=1))

    def previous(self) -> Period:
        length = dt.timedelta(days=self.days)
        return Period(self.choice, self.first_day - length, self.last_day - length, self.team)

    @property
    def by_week(self) -> bool:
        """Long ranges are drawn per week (Monday), short ones per day."""
        return self.days > 31

    def buckets(self) -> list[dt.date]:
        """The days (or the weeks' Mondays) of the period, in order."""
        step = dt.timedelta(days=7 if self.by_week else 1)
        day = week_of(self.first_day) if self.by_week else self.first_day
        out = []
        while day <= self.last_day:
            out.append(day)
            day += step
        return out

    def bucket(self, moment: dt.datetime) -> dt.date:
        day = local_day(moment)
        return week_of(day) if self.by_week else day

    def bucket_of(self, day: str) -> dt.date:
        """The bucket of a local day written 'YYYY-MM-DD' (as the database's sums give it)."""
        return _bucket_of(day, self.by_week)


@functools.lru_cache(maxsize=4096)
def _bucket_of(day: str, by_week: bool) -> dt.date:
    date = dt.date.fromisoformat(str(day))
    return week_of(date) if by_week else date


def zone() -> ZoneInfo:
    return ZoneInfo(config.app().timezone)


def today() -> dt.date:
    return clock.local_now().date()


def utc_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=zone()).astimezone(dt.UTC).replace(tzinfo=None)


def local_time(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC).astimezone(zone()).replace(tzinfo=None)


def local_day(moment: dt.datetime) -> dt.date:
    return local_time(moment).date()


def week_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def parse(choice: str | None, first: str | None = None, last: str | None = None, team: str | None = None) -> Period:
    """The period an owner asked for (the query string's range, from, to, and a team already checked to be one);
    BadRange when it cannot be read."""
    return dataclasses.replace(_parse(choice, first, last), team=team)


def _parse(choice: str | None, first: str | None, last: str | None) -> Period:
    choice = (choice or DEFAULT).strip()
    now = today()
    if choice == "today":
        return Period(choice, now, now)
    if choice in ("7", "30", "90"):
        return Period(choice, now - dt.timedelta(days=int(choice) - 1), now)
    if choice != "custom":
        raise BadRange("bad_range")
    try:
        first_day, last_day = dt.date.fromisoformat((first or "").strip()), dt.date.fromisoformat((last or "").strip())
    except ValueError:
        raise BadRange("bad_dates") from None
    if last_day < first_day:
        raise BadRange("dates_reversed")
    if (last_day - first_day).days + 1 > MAX_DAYS:
        raise BadRange("range_too_long")
    return Period(choice, first_day, last_day)
