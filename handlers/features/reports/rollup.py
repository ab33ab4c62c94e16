"""The job that keeps the dashboard's daily roll-ups (scheduler job "rollups", every few minutes; `flask --app
webhook jobs run rollups` runs it now). Each run:

1. takes on every local day from the oldest ticket's up to yesterday that it has not taken on yet (after a
   downtime: all the days missed), as report_day_done rows not yet counted. From then on the triggers of
   db/triggers.py record every change to those days' tickets in report_change. In the same transaction it reads
   the changes recorded so far. (On PostgreSQL the transaction first waits for the ticket writes under way and
   holds new ones back a moment, so no change can slip between the two.)
2. counts, from the tickets, the days taken on but not counted, the days changed, and the days counted with
   another UTC offset than the shop's zone now gives them (app.timezone changed), a run of days at a time
   (handlers/features/reports/daily.py, the same query the pages use live), and writes their report_day rows;
3. deletes the changes it read in 1, and only those: a change recorded while it counted stays, so the pages go
   on reading that day live, and the next run counts it again.

Today is never rolled up, nor is a day with a change of UTC offset inside it (daylight saving): the pages read
those live. Counting happens outside write transactions; each run of days is written in one short transaction.
"""

from __future__ import annotations

import datetime as dt
import logging

from db.connection import database, is_sqlite, write
from db.models import ReportChange, ReportDay, ReportDayDone, Ticket
from handlers.core import clock
from handlers.features.reports import daily, periods, sql

log = logging.getLogger(__name__)

RUN_DAYS = 31  # the most days counted by one query
CHUNK = 100  # rows per INSERT (SQLite's limit on a statement's variables)


def day_offset(day: dt.date) -> int | None:
    """The UTC offset (minutes) the day's moments are counted with; None when it changes during the day."""
    start, end = periods.utc_of(day), periods.utc_of(day + dt.timedelta(days=1))
    first, last = sql.offset_minutes(start), sql.offset_minutes(end - dt.timedelta(seconds=1))
    return first if first == last else None


def _first_day() -> dt.date | None:
    oldest = Ticket.select(Ticket.id, Ticket.created_at).order_by(Ticket.created_at).first()
    return periods.local_day(oldest.created_at) if oldest else None


def _take_on() -> tuple[list[tuple[dt.date, int]], list[int]]:
    """Step 1: the days to count (with their offsets) and the ids of the changes read."""
    today, first = periods.today(), _first_day()
    with write():
        if not is_sqlite():
            database.execute_sql("LOCK TABLE ticket IN SHARE MODE")
        changes = list(ReportChange.select(ReportChange.id, ReportChange.moment).tuples())
        changed = {periods.local_day(moment) for _, moment in changes}
        done = {
            day: (minutes, rolled)
            for day, minutes, rolled in ReportDayDone.select(
                ReportDayDone.day, ReportDayDone.offset_minutes, ReportDayDone.rolled_at
            ).tuples()
        }
        starts = [d for d in (first, min(changed, default=None)) if d is not None]
        day = min(starts) if starts else today
        todo, new = [], []
        while day < today:
            minutes = day_offset(day)
            known = done.get(day.isoformat())
            if minutes is not None and (known is None or known[0] != minutes or known[1] is None or day in changed):
                todo.append((day, minutes))
                if known is None or known[0] != minutes:
                    new.append(_taken_on(day, minutes))
            day += dt.timedelta(days=1)
        for i in range(0, len(new), CHUNK):
            ReportDayDone.insert_many(new[i : i + CHUNK]).on_conflict(
                conflict_target=[ReportDayDone.day],
                preserve=[ReportDayDone.starts_at, ReportDayDone.ends_at, ReportDayDone.offset_minutes],
                update={ReportDayDone.rolled_at: None},
            ).execute()
    return todo, [i for i, _ in changes]


def _taken_on(day: dt.date, minutes: int) -> dict:
    return {
        "day": day.isoformat(),
        "starts_at": periods.utc_of(day),
        "ends_at": periods.utc_of(day + dt.timedelta(days=1)),
        "offset_minutes": minutes,
        "rolled_at": None,
    }


def _runs(todo: list[tuple[dt.date, int]]) -> list[tuple[dt.date, dt.date, int]]:
    """Consecutive days with one offset, at most RUN_DAYS each: (first, last, offset)."""
    runs: list[tuple[dt.date, dt.date, int]] = []
    for day, minutes in todo:
        if runs:
            first, last, run_minutes = runs[-1]
            if day == last + dt.timedelta(days=1) and minutes == run_minutes and (day - first).days < RUN_DAYS:
                runs[-1] = (first, day, minutes)
                continue
        runs.append((day, day, minutes))
    return runs


def _count(first: dt.date, last: dt.date, minutes: int) -> None:
    """Step 2 for one run of days: count them from the tickets, then write them in one transaction."""
    ranges = [(periods.utc_of(first), periods.utc_of(last + dt.timedelta(days=1)))]
    rows = []
    for name in daily.METRICS:
        for (day, key), tally in daily.live(name, ranges, minutes).items():
            rows.append({"day": day, "metric": name, "key": key, "blank": tally.blank, "numbers": daily.pack(tally)})
    days = [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
    with write():
        ReportDay.delete().where(ReportDay.day.in_(days)).execute()
        for i in range(0, len(rows), CHUNK):
            ReportDay.insert_many(rows[i : i + CHUNK]).execute()
        ReportDayDone.update(rolled_at=clock.now()).where(ReportDayDone.day.in_(days)).execute()


def run() -> str:
    """One run of the job (see the module's docstring); a summary line."""
    todo, changes = _take_on()
    for first, last, minutes in _runs(todo):
        _count(first, last, minutes)
    with write():
        for i in range(0, len(changes), CHUNK * 5):
            ReportChange.delete().where(ReportChange.id.in_(changes[i : i + CHUNK * 5])).execute()
    if todo or changes:
        log.info("rollups: %d days counted, %d changes read", len(todo), len(changes))
    return f"rollups: {len(todo)} days counted, {len(changes)} changes read"
