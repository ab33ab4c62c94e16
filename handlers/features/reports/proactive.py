"""The Proactive care page: delay notices sent and how many of those customers then wrote in (a ticket about
that order), coupons redeemed at the tills (coupon.redeemed_at, indexed), greetings by occasion, coupons by who
issued them and why, and the loyalty tiers."""

from __future__ import annotations

from peewee import fn

from db.models import Coupon, Customer, GreetingSent, Order, Ticket
from handlers.features.reports.model import Figure, Report, Table
from handlers.features.reports.periods import Period
from handlers.features.reports.stats import share


def _notices(period: Period) -> tuple[int, int]:
    """Orders told of a delay in the period, and how many of them then got a ticket about that order."""
    told = Order.select(Order.ref, Order.notified_at).where(
        (Order.notified_at >= period.start) & (Order.notified_at < period.end)
    )
    wrote = (
        Ticket.select(fn.COUNT(fn.DISTINCT(Ticket.order_ref)))
        .join(Order, on=(Ticket.order_ref == Order.ref))
        .where(
            (Order.notified_at >= period.start)
            & (Order.notified_at < period.end)
            & (Ticket.created_at >= Order.notified_at)
        )
        .scalar()
    )
    return told.count(), wrote or 0


def _redeemed(period: Period) -> int:
    """Coupons redeemed in the period (whenever they were issued)."""
    return Coupon.select().where((Coupon.redeemed_at >= period.start) & (Coupon.redeemed_at < period.end)).count()


def greetings(period: Period) -> Table:
    rows = (
        GreetingSent.select(GreetingSent.occasion, GreetingSent.outcome, fn.COUNT(GreetingSent.id))
        .where((GreetingSent.sent_at >= period.start) & (GreetingSent.sent_at < period.end))
        .group_by(GreetingSent.occasion, GreetingSent.outcome)
        .tuples()
    )
    by_occasion: dict[str, list[int]] = {}
    for occasion, outcome, n in rows:
        counts = by_occasion.setdefault(occasion, [0, 0])
        counts[0 if outcome == "sent" else 1] += n
    return Table(
        "greetings",
        ["occasion", "sent", "not_sent"],
        [[o, *by_occasion[o]] for o in sorted(by_occasion)],
        chart="bar",
    )


def coupons(period: Period) -> Table:
    rows = (
        Coupon.select(Coupon.issued_by, Coupon.reason, fn.COUNT(Coupon.id))
        .where((Coupon.created_at >= period.start) & (Coupon.created_at < period.end))
        .group_by(Coupon.issued_by, Coupon.reason)
        .order_by(fn.COUNT(Coupon.id).desc(), Coupon.issued_by, Coupon.reason)
        .tuples()
    )
    return Table("coupons", ["issued_by", "reason", "coupons"], [[who or "—", why or "—", n] for who, why, n in rows])


def tiers() -> Table:
    rows = (
        Customer.select(Customer.tier, fn.COUNT(Customer.id))
        .where(Customer.tier.is_null(False))
        .group_by(Customer.tier)
        .order_by(fn.COUNT(Customer.id).desc(), Customer.tier)
        .tuples()
    )
    return Table("tiers", ["tier", "customers"], [list(r) for r in rows], chart="bar")


def report(period: Period) -> Report:
    told, wrote = _notices(period)
    before_told, before_wrote = _notices(period.previous())
    figures = [
        Figure("delay_notices", told, previous=before_told),
        Figure("wrote_after_notice", wrote, previous=before_wrote),
        Figure("wrote_after_notice_share", share(wrote, told), "percent", share(before_wrote, before_told)),
        Figure("coupons_redeemed", _redeemed(period), previous=_redeemed(period.previous())),
    ]
    return Report("proactive", figures, [greetings(period), coupons(period), tiers()])
