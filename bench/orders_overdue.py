"""Overdue-orders benchmark: finding the late orders among 1,000,000, through the (is_open, promised_date) index.

    .venv/bin/python bench/orders_overdue.py [--db sqlite|postgres|both] [-n 1000000] [--no-job]

Fills a fresh database once per kind (SQLite in a temporary directory; PostgreSQL in a schema of its own,
dropped after) with N orders of N/10 customers (bulk: executemany on SQLite, COPY on PostgreSQL), as a
shop's history looks: about 97 % delivered or cancelled over the last two years, 3 % open with promised
dates from ten days ago to twenty days ahead; some open ones delayed, half of the late ones already
notified. Then, with the shop's clock at Wed 2026-11-25 12:00 (Karachi):
  - prints the query plan of the overdue job's selection (handlers.features.delays.to_notify_query, first batch) and
    of the daily list's count: both must use the shop_order (is_open, promised_date) index, no full scan;
  - times them (best and worst of 5 runs; target < 1 s);
  - unless --no-job, times the whole job (handlers.features.delays.overdue: a notice per late order, SMS contacts
    created from the phone numbers, outbox rows, the daily list).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.greetings import plan  # noqa: E402
from bench.relay import fresh_database  # noqa: E402

TODAY = dt.date(2026, 11, 25)
NOW = dt.datetime(2026, 11, 25, 7, 0)  # 12:00 in Karachi: the shop is open
ORDER_COLUMNS = (
    "ref, customer_id, items, amount, status, is_open, promised_date, delayed_until, delay_reason, "
    "notified_for, points_awarded, created_at, updated_at"
)


def customers(n: int):
    for i in range(n):
        yield (f"C{i}", "ur" if i % 3 else "en", f"+92300{i:07d}", False, "2025-01-01 00:00:00", 0)


def orders(n: int, customer_count: int):
    """Rows for ORDER_COLUMNS (customer ids are 1..customer_count)."""
    rnd = random.Random(7)
    created = "2025-01-01 00:00:00"
    for i in range(n):
        customer = 1 + rnd.randrange(customer_count)
        if rnd.random() < 0.97:  # history: delivered or cancelled, promised some day in the last two years
            promised = TODAY - dt.timedelta(days=rnd.randrange(1, 730))
            status, is_open, delayed, reason, notified = (
                "delivered" if rnd.random() < 0.95 else "cancelled",
                False,
                None,
                None,
                None,
            )
        else:  # open: promised from ten days ago to twenty days ahead
            promised = TODAY + dt.timedelta(days=rnd.randrange(-10, 21))
            status, is_open = "shipped", True
            delayed = promised + dt.timedelta(days=rnd.randrange(2, 8)) if rnd.random() < 0.1 else None
            reason = "courier strike" if delayed else None
            late = (delayed or promised) < TODAY
            notified = (delayed or promised) if late and rnd.random() < 0.5 else None
        yield (
            f"R{i:07d}",
            customer,
            "2 kurtas",
            "4500.00",
            status,
            is_open,
            promised.isoformat(),
            delayed and delayed.isoformat(),
            reason,
            notified and notified.isoformat(),
            False,
            created,
            created,
        )


def _copy(cursor, table: str, columns: str, rows) -> None:
    buffer = io.StringIO()
    for row in rows:
        buffer.write(
            "\t".join("\\N" if v is None else ("t" if v is True else "f" if v is False else str(v)) for v in row) + "\n"
        )
    buffer.seek(0)
    cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)


def fill(url: str, n: int) -> float:
    """Schema, n // 10 customers and n orders; seconds taken."""
    import config
    import db
    from db import migrations
    from db.connection import is_sqlite

    config.activate(
        config.load(
            environ={},
            overrides={
                "database.url": url,
                "twilio.sms_from": "+14155550100",
                "twilio.whatsapp_from": "",
                "telegram.agents_chat_id": -100123,
            },
        )
    )
    db.connect(url)
    migrations.upgrade()
    started = time.perf_counter()
    customer_columns = "name, language, phone, marketing_opt_out, created_at, points"
    count = max(1, n // 10)
    if is_sqlite():
        conn = db.database.connection()
        with db.write():
            conn.executemany(f"INSERT INTO customer ({customer_columns}) VALUES (?, ?, ?, ?, ?, ?)", customers(count))
            conn.executemany(
                f"INSERT INTO shop_order ({ORDER_COLUMNS}) VALUES ({', '.join('?' * 13)})", orders(n, count)
            )
        db.database.execute_sql("ANALYZE")
    else:
        with db.write():
            cursor = db.database.connection().cursor()
            _copy(cursor, "customer", customer_columns, customers(count))
            _copy(cursor, "shop_order", ORDER_COLUMNS, orders(n, count))
        db.database.execute_sql("ANALYZE customer")
        db.database.execute_sql("ANALYZE shop_order")
    return time.perf_counter() - started


def timed(fn, runs: int = 5) -> tuple[float, float, object]:
    timings, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        timings.append(time.perf_counter() - started)
    return min(timings), max(timings), result


def bench(kind: str, n: int, run_job: bool) -> None:
    from peewee import fn

    import db
    from db.models import Order
    from handlers.core import clock
    from handlers.features import delays

    clock.travel_to(NOW)
    with tempfile.TemporaryDirectory() as tmp:
        url, drop = fresh_database(kind, tmp)
        try:
            took = fill(url, n)
            open_count = Order.select().where(Order.is_open == True).count()  # noqa: E712
            print(f"\n== {kind}: {n:,} orders of {n // 10:,} customers inserted in {took:.1f} s; {open_count:,} open")
            batch = delays.to_notify_query(TODAY).order_by(Order.promised_date, Order.id).limit(delays.BATCH)
            print("query plan of the job's selection (first batch of late orders not yet notified):")
            print(plan(batch))
            print("query plan of the daily list's count (all late open orders):")
            print(plan(delays.overdue_query(TODAY).select(fn.COUNT(Order.id))))
            best, worst, found = timed(lambda: len(list(batch.clone())))
            print(f"first batch ({found} orders): best {best * 1000:.1f} ms, worst {worst * 1000:.1f} ms of 5 runs")
            best, worst, found = timed(lambda: delays.to_notify_query(TODAY).count())
            print(
                f"all {found:,} late orders to notify: best {best * 1000:.1f} ms, worst {worst * 1000:.1f} ms "
                f"of 5 runs (target < 1 s)"
            )
            best, worst, found = timed(lambda: delays.overdue_query(TODAY).count())
            print(
                f"all {found:,} late open orders (daily list): best {best * 1000:.1f} ms, "
                f"worst {worst * 1000:.1f} ms of 5 runs"
            )
            if run_job:
                started = time.perf_counter()
                summary = delays.overdue()
                print(f"the whole job: {time.perf_counter() - started:.2f} s — {summary}")
                best, worst, found = timed(lambda: delays.to_notify_query(TODAY).count())
                print(f"afterwards, late orders still to notify: {found} (found in {best * 1000:.1f} ms)")
            db.connection.close_all()
        finally:
            drop()
            clock.reset()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("-n", type=int, default=1_000_000)
    parser.add_argument("--no-job", action="store_true", help="only the selection queries, not the whole job")
    args = parser.parse_args()
    for kind in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
        bench(kind, args.n, not args.no_job)


if __name__ == "__main__":
    main()
