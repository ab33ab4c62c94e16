"""The scheduler: APScheduler jobs — housekeeping, SLA reminders, the opening summary, the daily backup … One per
deployment (it cannot share a job store), so every job is safe to run again: each remembers what it did in the
database."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler

import config
from db.connection import release
from handlers.core import hours
from handlers.features import backups, broadcasts, delays, duty, greetings, housekeeping, sla
from handlers.features.reports import rollup

log = logging.getLogger(__name__)


JOBS: dict[
    str, tuple[Callable, dict[str, int] | str]
] = {  # name → (function, how often: an interval, or the [scheduler] setting that holds it in seconds)
    "prune": (housekeeping.prune, {"hours": 6}),
    "stuck": (housekeeping.report_stuck, {"minutes": 5}),
    "sla": (sla.remind, "sla_every_s"),  # reminders near and past the first-response target
    "opening": (hours.post_opening_summary, "opening_every_s"),  # the group's summary once the shop opens
    "duty": (duty.off_at_closing, {"minutes": 1}),  # at closing time everyone goes off duty, and the groups hear it
    "broadcasts": (broadcasts.tick, {"seconds": 2}),  # start scheduled ones, resume, report progress
    "greetings": (greetings.tick, {"minutes": 1}),  # the day's greetings once greetings.send_at has passed
    "overdue": (delays.overdue, {"hours": 1}),  # late orders: notices (opening hours), the day's list
    "backup": (backups.tick, {"minutes": 1}),  # the day's copy of the database once backup.at has passed
    "rollups": (rollup.run, {"minutes": 5}),  # the dashboard's settled days, counted once (and again when changed)
}


# run once as soon as the scheduler starts, too: until the roll-ups' first run after an upgrade (or a long
# downtime) every day of the dashboard is read live, which at a large shop's size is seconds a page
AT_START = {"rollups"}


ON_DEMAND = {  # what `jobs run NAME` runs instead of the scheduled function (e.g. whatever the time of day)
    "greetings": greetings.run_now,
    "overdue": delays.overdue_now,
    "backup": backups.run_now,
}


def run(name: str, on_demand: bool = False):
    """Run one job now (the scheduler, and `flask --app webhook jobs run NAME` with on_demand); its connection
    goes back to the pool afterwards. Returns what the job reports (a summary line, or None)."""
    function = ON_DEMAND.get(name, JOBS[name][0]) if on_demand else JOBS[name][0]
    try:
        return function()
    finally:
        release()


class _StillRunning(logging.Filter):
    """A job still busy when its next turn comes is expected (the broadcasts job feeds a big broadcast for
    minutes): APScheduler's warning every 2 s would bury the log's real warnings."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


STILL_RUNNING = _StillRunning()


def start(settings) -> BackgroundScheduler:
    logging.getLogger("apscheduler.scheduler").addFilter(STILL_RUNNING)  # once, however often started
    scheduler = BackgroundScheduler(timezone=config.app(settings).timezone)
    for name, (_, every) in JOBS.items():
        interval = {"seconds": settings["scheduler"][every]} if isinstance(every, str) else every
        first = {"next_run_time": dt.datetime.now(scheduler.timezone)} if name in AT_START else {}
        scheduler.add_job(run, "interval", args=[name], id=name, coalesce=True, max_instances=1, **interval, **first)
    scheduler.start()
    log.info("scheduler started (%s): %s", config.app(settings).timezone, ", ".join(JOBS))
    return scheduler
