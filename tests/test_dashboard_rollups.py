"""The dashboard's daily roll-ups (handlers/features/reports/rollup.py) give exactly the figures the tickets give
live, on SQLite and PostgreSQL: after the job, after a change to a rolled-up day's tickets (the triggers of
db/triggers.py), and after days missed while the job was not running."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

import config
import db
from db.models import Contact, ReportChange, ReportDay, ReportDayDone, Ticket
from handlers.core import clock
from handlers.features.reports import complaints, daily, periods, rollup, satisfaction, speed, traffic
from runtime import scheduler
from tests.dashboard_shop import NOW, OWNER, build_shop
from tests.helpers import base_env, eventually, flask

PAGES = (traffic, speed, satisfaction, complaints)
RANGES = (("today", None, None), ("7", None, None), ("30", None, None), ("90", None, None))
CUSTOM = ("custom", "2026-11-12", "2026-11-21")


@pytest.fixture
def shop(make_khidmat):
    make_khidmat(start_sender=False, **{"telegram.owner_ids": [OWNER]})
    return build_shop()


def figures() -> list[dict]:
    """Every page's report over every range, as plain data."""
    return [dataclasses.asdict(page.report(periods.parse(*choice))) for page in PAGES for choice in (*RANGES, CUSTOM)]


def live_figures() -> list[dict]:
    """The same, from the tickets alone (the roll-ups put aside for a moment)."""
    with db.write():
        kept = list(ReportDayDone.select().dicts())
        ReportDayDone.delete().execute()
    try:
        return figures()
    finally:
        with db.write():
            ReportDayDone.insert_many(kept).execute()


def test_figures_are_the_same_live_and_from_the_rollups(shop):
    live = figures()
    assert rollup.run() == "rollups: 10 days counted, 0 changes read"  # 15 November (the oldest) to yesterday
    week = periods.parse("7")
    assert len(daily.usable_days(week, rollup.day_offset(week.first_day))) == 6  # all but today
    assert ReportDay.select().count() > 0 and ReportChange.select().count() == 0
    assert figures() == live
    assert rollup.run() == "rollups: 0 days counted, 0 changes read"  # nothing new: nothing counted again


def test_a_changed_ticket_of_a_rolled_up_day_is_read_live_until_counted_again(shop):
    rollup.run()
    before = figures()
    sara = shop[0]  # 19 November, rated 5, closed by Sara
    with db.write():
        Ticket.update(
            rating=1, closed_by="Omar", tags=["refund"], urgent=False, first_response_minutes=12.345678
        ).where(Ticket.id == sara.id).execute()
        Ticket.delete().where(Ticket.id == shop[6].id).execute()
        old = Ticket.create(  # an old ticket written in afterwards (an import)
            customer=sara.customer,
            contact=Contact.get(Contact.channel == "sms"),
            priority="high",
            created_at=dt.datetime(2026, 11, 20, 9, 0),
            last_customer_at=dt.datetime(2026, 11, 20, 9, 0),
            first_response_minutes=0.1 + 0.2,  # a value with no short decimal form stays exact
        )
    assert ReportChange.select().count() >= 3
    changed = figures()
    assert changed != before
    assert changed == live_figures()  # the changed days are read from the tickets, not the stale roll-ups
    summary = rollup.run()
    assert summary.startswith("rollups: 2 days counted")  # 19 and 20 November (every moment on those days)
    assert ReportChange.select().count() == 0
    assert figures() == changed
    assert Ticket.get_by_id(old.id).first_response_minutes == 0.1 + 0.2


def test_days_missed_while_the_job_was_down_are_caught_up(shop):
    rollup.run()
    clock.travel_to(NOW + dt.timedelta(days=3))
    try:
        assert rollup.run() == "rollups: 3 days counted, 0 changes read"  # 25, 26 and 27 November
        assert figures() == live_figures()
    finally:
        clock.travel_to(NOW)


def test_the_job_is_scheduled_and_runs_from_the_command_line(shop, db_url):
    assert scheduler.JOBS["rollups"][0] is rollup.run
    ran = flask(base_env(db_url), "jobs", "run", "rollups")
    assert ran.returncode == 0, ran.stderr
    assert "rollups:" in ran.stdout
    assert ReportDayDone.select().where(ReportDayDone.rolled_at.is_null(False)).count() > 0


def test_the_scheduler_counts_the_settled_days_as_soon_as_it_starts(shop):
    """Not 5 minutes after a start (an upgrade, a long downtime): until then every day would be read live."""
    assert ReportDayDone.select().count() == 0
    started = scheduler.start(config.current())
    try:
        counted = eventually(
            lambda: ReportDayDone.select().where(ReportDayDone.rolled_at.is_null(False)).count(),
            timeout=30,
            what="the roll-ups' first run",
        )
    finally:
        started.shutdown(wait=True)
    assert counted > 0 and figures() == live_figures()
