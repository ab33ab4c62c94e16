"""What the pages count per local day about tickets, read from the daily roll-ups where a day is settled and from
the tickets themselves for the rest (today, and any day whose tickets changed since it was rolled up).

A metric tallies the tickets whose `moment` falls in a day, per `key`: {(day, key): Tally}, each ticket's `value`
kept exactly (a first response of 12.25 minutes stays 12.25) and in order, so the medians and 90th percentiles the
pages work out are the same whichever way a day was read (and a quarter's are a sort of already sorted runs).

A rolled-up day (report_day, written by handlers/features/reports/rollup.py) is used for a period only when
- the job has counted it (report_day_done.rolled_at),
- with the UTC offset the period counts by (sql.offset_minutes of its start; the job never rolls up a day with
  a change of offset inside it), and
- no change to its tickets was recorded since (report_change, written by the triggers of db/triggers.py).
Every other day is counted live, by the same query the job uses, so both ways give the same figures.
"""

from __future__ import annotations

import datetime as dt
import operator
import sys
from array import array
from collections import defaultdict
from dataclasses import dataclass, field
from functools import reduce

from peewee import fn

from db.models import Contact, ReportChange, ReportDay, ReportDayDone, Ticket
from handlers.features.reports import periods, sql
from handlers.features.reports.periods import Period


@dataclass
class Tally:
    """The tickets of one day and key: how many had no value (or the metric counts none), and the others' values,
    one per ticket, in order, as floats (a rating of 4 is 4.0, urgent wording 1.0), read live or rolled up."""

    blank: int = 0
    values: list = field(default_factory=list)

    @property
    def tickets(self) -> int:
        return self.blank + len(self.values)


Counts = dict[tuple[str, str], Tally]  # (local day 'YYYY-MM-DD', key) → its tally


@dataclass(frozen=True)
class Metric:
    moment: object  # the ticket's moment whose local day the ticket counts in
    key: object | None  # what the counts are told apart by (None: a single key "")
    value: object | None  # the value counted (None: only how many tickets)
    where: object | None = None  # which tickets, besides the day
    by_contact: bool = False  # the key is on the ticket's contact


METRICS = {
    "created": Metric(Ticket.created_at, Contact.channel, None, by_contact=True),
    "tags": Metric(Ticket.created_at, Ticket.tags, Ticket.urgent),
    "first_response": Metric(
        Ticket.created_at, Ticket.priority, Ticket.first_response_minutes, Ticket.first_response_minutes.is_null(False)
    ),
    "closed": Metric(Ticket.closed_at, fn.COALESCE(Ticket.closed_by, ""), Ticket.first_response_minutes),
    "closed_rating": Metric(Ticket.closed_at, fn.COALESCE(Ticket.closed_by, ""), Ticket.rating),
    "resolution": Metric(Ticket.closed_at, None, Ticket.resolution_minutes, Ticket.resolution_minutes.is_null(False)),
    "asked": Metric(Ticket.csat_asked_at, None, Ticket.rating),
}


def live(name: str, ranges: list[tuple[dt.datetime, dt.datetime]], minutes: int, team: str | None = None) -> Counts:
    """The metric counted from the tickets whose moment falls in the (naive UTC) ranges, each moment put on its
    local day by the UTC offset `minutes` (one team's tickets only, when given)."""
    metric = METRICS[name]
    columns = [sql.local_day(metric.moment, minutes)]
    columns += [c for c in (metric.key, metric.value) if c is not None]
    where = reduce(operator.or_, [(metric.moment >= start) & (metric.moment < end) for start, end in ranges])
    if metric.where is not None:
        where = where & metric.where
    where = sql.of_team(team, where)
    query = Ticket.select(*columns, fn.COUNT(Ticket.id))
    if metric.by_contact:
        query = query.join(Contact, on=Ticket.contact == Contact.id)
    counts: Counts = defaultdict(Tally)
    for row in sql.rows(query.where(where).group_by(*columns)):
        tally = counts[(str(row[0]), row[1] if metric.key is not None else "")]
        value, n = (row[-2] if metric.value is not None else None), row[-1]
        if value is None:
            tally.blank += n
        else:
            tally.values.extend([float(value)] * n)
    for tally in counts.values():
        tally.values.sort()
    return counts


def usable_days(period: Period, minutes: int) -> set[str]:
    """The period's days whose roll-ups hold for it (see the module's docstring)."""
    first, last = period.first_day.isoformat(), period.last_day.isoformat()
    done = ReportDayDone.select(ReportDayDone.day).where(
        (ReportDayDone.day >= first)
        & (ReportDayDone.day <= last)
        & ReportDayDone.rolled_at.is_null(False)
        & (ReportDayDone.offset_minutes == minutes)
    )
    days = {day for (day,) in done.tuples()}
    if days:
        changed = ReportChange.select(ReportChange.moment).where(
            (ReportChange.moment >= period.start) & (ReportChange.moment < period.end)
        )
        days -= {periods.local_day(moment).isoformat() for (moment,) in changed.tuples()}
    return days


def live_ranges(period: Period, rolled: set[str]) -> list[tuple[dt.datetime, dt.datetime]]:
    """The (naive UTC) stretches of the period outside the rolled-up days, each run of days as one range."""
    ranges, run_start = [], None
    day = period.first_day
    while day <= period.last_day + dt.timedelta(days=1):
        outside = day <= period.last_day and day.isoformat() not in rolled
        if outside and run_start is None:
            run_start = day
        elif not outside and run_start is not None:
            ranges.append((periods.utc_of(run_start), periods.utc_of(day)))
            run_start = None
        day += dt.timedelta(days=1)
    return ranges


def pack(tally: Tally) -> bytes:
    """A tally's values as report_day keeps them: 8-byte floats, little-endian (a rating of 4 reads back 4.0)."""
    numbers = array("d", tally.values)
    if sys.byteorder == "big":
        numbers.byteswap()
    return numbers.tobytes()


def unpack(blank: int, packed) -> Tally:
    numbers = array("d")
    numbers.frombytes(packed)
    if sys.byteorder == "big":
        numbers.byteswap()
    return Tally(blank, numbers.tolist())


def read(period: Period, *names: str) -> dict[str, Counts]:
    """The metrics over the period: settled days from the roll-ups, the others live. The roll-ups are the whole
    shop's: one team's figures (period.team) are counted live, from the tickets of that team only."""
    minutes = sql.offset_minutes(period.start)
    rolled = usable_days(period, minutes) if period.team is None else set()
    out: dict[str, Counts] = {name: {} for name in names}
    if rolled:
        columns = (ReportDay.day, ReportDay.metric, ReportDay.key, ReportDay.blank, ReportDay.numbers)
        query = ReportDay.select(*columns).where(
            (ReportDay.day >= period.first_day.isoformat())
            & (ReportDay.day <= period.last_day.isoformat())
            & ReportDay.metric.in_(names)
        )
        for day, name, key, blank, packed in sql.rows(query):
            if day in rolled:
                out[name][(day, key)] = unpack(blank, packed)
    ranges = live_ranges(period, rolled)
    for name in names if ranges else ():
        for day_key, tally in live(name, ranges, minutes, period.team).items():
            known = out[name].get(day_key)
            if known is None:
                out[name][day_key] = tally
            else:  # a moment the period's offset puts on a neighbouring rolled-up day (daylight saving)
                out[name][day_key] = Tally(known.blank + tally.blank, sorted(known.values + tally.values))
    return out


def tickets(counts: Counts) -> int:
    return sum(t.tickets for t in counts.values())


def pooled(counts: Counts, group=lambda day_key: None) -> dict:
    """The values of the tallies (blanks left out), pooled per group of (day, key), in order."""
    out: dict = defaultdict(list)
    for day_key, tally in counts.items():
        out[group(day_key)].extend(tally.values)
    for values in out.values():
        values.sort()  # sorted runs: a merge
    return out
