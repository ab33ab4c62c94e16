"""Numbers for Prometheus (GET /metrics), read from the database so every web process tells the same story."""

from __future__ import annotations

import time

from peewee import fn

from db.models import InboundEvent, Outbox, Ticket
from handlers.core import clock
from handlers.features import backups

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


def _line(name: str, value, **labels) -> str:
    label = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{label}}} {value}" if label else f"{name} {value}"


def render() -> str:
    now = time.time()
    out = [
        "# HELP khidmat_inbound_total Webhook events accepted (kept for 7 days), by source and outcome.",
        "# TYPE khidmat_inbound_total gauge",
    ]
    for source, status, count in (
        InboundEvent.select(InboundEvent.source, InboundEvent.status, fn.COUNT(InboundEvent.id))
        .group_by(InboundEvent.source, InboundEvent.status)
        .tuples()
    ):
        out.append(_line("khidmat_inbound_total", count, source=source, status=status))
    pending = (
        Outbox.select(fn.COUNT(Outbox.id), fn.MIN(Outbox.created_at)).where(Outbox.status == "pending").tuples().first()
    )
    out += [
        "# HELP khidmat_outbox_depth Messages waiting to be sent.",
        "# TYPE khidmat_outbox_depth gauge",
        _line("khidmat_outbox_depth", pending[0] or 0),
        "# HELP khidmat_outbox_oldest_age_seconds Age of the oldest waiting message.",
        "# TYPE khidmat_outbox_oldest_age_seconds gauge",
        _line("khidmat_outbox_oldest_age_seconds", round(now - pending[1], 3) if pending[1] else 0),
        "# HELP khidmat_sends_total Outbox messages by channel and result.",
        "# TYPE khidmat_sends_total gauge",
    ]
    for channel, status, count in (
        Outbox.select(Outbox.channel, Outbox.status, fn.COUNT(Outbox.id))
        .group_by(Outbox.channel, Outbox.status)
        .tuples()
    ):
        out.append(_line("khidmat_sends_total", count, channel=channel, result=status))
    retries = Outbox.select(fn.SUM(Outbox.attempts - 1)).where(Outbox.attempts > 1).scalar() or 0
    out += [
        "# HELP khidmat_send_retries_total Extra attempts spent on retries.",
        "# TYPE khidmat_send_retries_total gauge",
        _line("khidmat_send_retries_total", int(retries)),
        "# HELP khidmat_send_latency_seconds From enqueue to accepted by the platform (last hour).",
        "# TYPE khidmat_send_latency_seconds histogram",
    ]
    latencies = [
        sent - created
        for created, sent in Outbox.select(Outbox.created_at, Outbox.sent_at)
        .where((Outbox.status == "sent") & (Outbox.sent_at > now - 3600))
        .tuples()
    ]
    for bound in LATENCY_BUCKETS:
        out.append(_line("khidmat_send_latency_seconds_bucket", sum(1 for x in latencies if x <= bound), le=bound))
    out += [
        _line("khidmat_send_latency_seconds_bucket", len(latencies), le="+Inf"),
        _line("khidmat_send_latency_seconds_sum", round(sum(latencies), 3)),
        _line("khidmat_send_latency_seconds_count", len(latencies)),
        "# HELP khidmat_sla_breaches_total Tickets that missed their first-response target.",
        "# TYPE khidmat_sla_breaches_total gauge",
        _line("khidmat_sla_breaches_total", Ticket.select().where(Ticket.sla_breached_at.is_null(False)).count()),
        "# HELP khidmat_open_tickets Open tickets.",
        "# TYPE khidmat_open_tickets gauge",
        _line("khidmat_open_tickets", Ticket.select().where(Ticket.status == "open").count()),
        "# HELP khidmat_backup_age_seconds Age of the newest backup of the database (+Inf: none made yet).",
        "# TYPE khidmat_backup_age_seconds gauge",
        _line("khidmat_backup_age_seconds", _backup_age()),
    ]
    return "\n".join(out) + "\n"


def _backup_age():
    newest = backups.newest()
    return round((clock.now() - newest["at"]).total_seconds()) if newest else "+Inf"
