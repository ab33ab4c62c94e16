"""The Broadcasts page: each broadcast's audience and what became of it (sent, delivered, read, failed, opted
out, blocked, skipped). A broadcast still going out makes the page refresh itself."""

from __future__ import annotations

from peewee import fn

from db.models import Broadcast, BroadcastRecipient, Outbox
from handlers.features import broadcasts
from handlers.features.reports.model import Report, Table
from handlers.features.reports.periods import Period

COLUMNS = (
    "broadcast",
    "created",
    "status",
    "segment",
    "audience",
    "sent",
    "delivered",
    "read",
    "failed",
    "opted_out",
    "blocked",
    "skipped",
)
LIMIT = 50


def _read(broadcast_id: int) -> int:
    return (
        BroadcastRecipient.select(fn.COUNT(BroadcastRecipient.id))
        .join(Outbox, on=BroadcastRecipient.outbox == Outbox.id)
        .where((BroadcastRecipient.broadcast == broadcast_id) & (Outbox.delivery == "read"))
        .scalar()
    ) or 0


def report(period: Period) -> Report:
    rows, live = [], False
    query = (
        Broadcast.select()
        .where(
            (Broadcast.status != "draft") & (Broadcast.created_at >= period.start) & (Broadcast.created_at < period.end)
        )
        .order_by(Broadcast.id.desc())
        .limit(LIMIT)
    )
    for b in query:
        live = live or b.status in broadcasts.ACTIVE
        c = b.counts if b.status == "done" and b.counts else broadcasts.counts(b)
        rows.append(
            [
                b.id,
                b.created_at.strftime("%Y-%m-%d %H:%M"),
                b.status,
                b.segment,
                c.get("recipients", 0),
                c.get("sent", 0),
                c.get("delivered", 0),
                _read(b.id),
                c.get("failed", 0),
                c.get("opted_out", 0),
                c.get("blocked", 0),
                c.get("skipped", 0),
            ]
        )
    table = Table("broadcasts", list(COLUMNS), rows, coded=frozenset({"status"}))
    return Report("broadcasts", [], [table], live=live)
