"""The scheduler: APScheduler jobs — housekeeping, SLA reminders, the opening summary. One per deployment (it
cannot share a job store), so every job is safe to run again: each remembers what it did in the database."""
from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler

from handlers import hours, housekeeping, sla

log = logging.getLogger(__name__)


def start(settings) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=settings["app"]["timezone"])
    scheduler.add_job(housekeeping.prune, "interval", hours=6, id="prune", coalesce=True, max_instances=1)
    scheduler.add_job(housekeeping.report_stuck, "interval", minutes=5, id="stuck", coalesce=True, max_instances=1)
    scheduler.add_job(sla.remind, "interval", minutes=1, id="sla", coalesce=True, max_instances=1)
    scheduler.add_job(hours.post_opening_summary, "interval", minutes=1, id="opening", coalesce=True, max_instances=1)
    scheduler.start()
    log.info("scheduler started (%s)", settings["app"]["timezone"])
    return scheduler
