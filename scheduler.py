"""The scheduler: APScheduler jobs — housekeeping, SLA reminders, the opening summary. One per deployment (it
cannot share a job store), so every job is safe to run again: each remembers what it did in the database."""
from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler

from db.connection import release
from handlers import broadcasts, hours, housekeeping, sla

log = logging.getLogger(__name__)


JOBS = {   # name → (function, how often)
    "prune": (housekeeping.prune, {"hours": 6}),
    "stuck": (housekeeping.report_stuck, {"minutes": 5}),
    "sla": (sla.remind, {"minutes": 1}),
    "opening": (hours.post_opening_summary, {"minutes": 1}),
    "broadcasts": (broadcasts.tick, {"seconds": 2}),   # start scheduled ones, resume, report progress
}


def run(name: str) -> None:
    """Run one job now (the scheduler, and `flask --app webhook jobs run NAME`); its connection goes back
    to the pool afterwards."""
    function, _ = JOBS[name]
    try:
        function()
    finally:
        release()


def start(settings) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=settings["app"]["timezone"])
    for name, (_, every) in JOBS.items():
        scheduler.add_job(run, "interval", args=[name], id=name, coalesce=True, max_instances=1, **every)
    scheduler.start()
    log.info("scheduler started (%s): %s", settings["app"]["timezone"], ", ".join(JOBS))
    return scheduler
