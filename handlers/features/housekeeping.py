"""Scheduled tidying: forget old delivery bookkeeping, and shout about messages stuck in the outbox."""

from __future__ import annotations

import datetime as dt
import logging
import time

from db.connection import write
from db.models import InboundEvent, Outbox, utcnow

log = logging.getLogger(__name__)

KEEP_EVENTS_DAYS = 7  # Telegram redelivers for about 24 h; Twilio for less
KEEP_SENT_DAYS = 30


def prune() -> None:
    with write():
        events = (
            InboundEvent.delete()
            .where(
                (InboundEvent.status == "done")
                & (InboundEvent.received_at < utcnow() - dt.timedelta(days=KEEP_EVENTS_DAYS))
            )
            .execute()
        )
        sent = (
            Outbox.delete()
            .where(
                (Outbox.status.in_(["sent", "skipped"]))
                & (Outbox.ticket.is_null())
                & (Outbox.sent_at < time.time() - KEEP_SENT_DAYS * 86400)
            )
            .execute()
        )
    log.info("pruned %d old inbound events and %d old sent messages", events, sent)


def report_stuck() -> None:
    oldest = Outbox.select().where(Outbox.status == "pending").order_by(Outbox.created_at).first()
    if oldest and time.time() - oldest.created_at > 600:
        log.warning(
            "outbox: oldest pending message is %d minutes old (%s)",
            (time.time() - oldest.created_at) // 60,
            oldest.destination.split(":")[0],
        )
