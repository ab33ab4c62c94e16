"""The time as handlers see it: real UTC by default; tests (and demos) can travel to a moment."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import config

_offset = dt.timedelta(0)


def now() -> dt.datetime:
    """Naive UTC, like the database columns."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None) + _offset


def travel_to(moment: dt.datetime) -> None:
    """Make now() read `moment` (naive UTC) from here on, ticking forward normally."""
    global _offset
    _offset = moment - (dt.datetime.now(dt.UTC).replace(tzinfo=None))


def reset() -> None:
    global _offset
    _offset = dt.timedelta(0)


def local_now() -> dt.datetime:
    """The shop's wall-clock time now (app.timezone), naive: what the shop's calendar and clock read."""
    zone = ZoneInfo(config.app().timezone)
    return now().replace(tzinfo=dt.UTC).astimezone(zone).replace(tzinfo=None)
