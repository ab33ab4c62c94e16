"""The scheduler: APScheduler jobs that keep the bot tidy. One per deployment (it cannot share a job store)."""
from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler

from handlers import housekeeping

log = logging.getLogger(__name__)


def start(settings) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=settings["app"]["timezone"])
    scheduler.add_job(housekeeping.prune, "interval", hours=6, id="prune", coalesce=True, max_instances=1)
    scheduler.add_job(housekeeping.report_stuck, "interval", minutes=5, id="stuck", coalesce=True, max_instances=1)
    scheduler.start()
    log.info("scheduler started (%s)", settings["app"]["timezone"])
    return scheduler
