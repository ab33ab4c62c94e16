"""Greetings benchmark: finding the day's birthdays among 1,000,000 customers, through the index.

    .venv/bin/python bench/greetings.py [--db sqlite|postgres|both] [-n 1000000] [--no-job]

Fills a fresh database (SQLite in a temporary directory; PostgreSQL in a schema of its own, dropped after)
with N customers (bulk: executemany on SQLite, COPY on PostgreSQL), about 70 % of them with a birthday
spread over the year and a phone number; greeting_sent holds a New Year's greeting for every customer and
half of today's birthdays are marked as already greeted. Then:
  - prints the query plan of the greetings job's selection query (handlers.features.greetings.selection) for today's
    birthdays: it must use the customer_birthday index (no full scan of the customer table);
  - times finding all of today's not-yet-greeted birthdays the way the job does (chunk by chunk, keyset on
    id) — target < 1 s;
  - unless --no-job, times the whole job for the day (greetings.run: each customer's GreetingSent row, an SMS
    contact created from the phone, the outbox row), with a backlog large enough to take the day at once.
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
from bench.relay import fresh_database  # noqa: E402

TODAY = dt.date(2026, 11, 25)


def days_of_year() -> list[str]:
    day, found = dt.date(2000, 1, 1), []
    while day.year == 2000:
        found.append(f"{day:%m-%d}")
        day += dt.timedelta(days=1)
    return found


def rows(n: int):
    """(name, language, phone, marketing_opt_out, created_at, birthday, points) for n customers."""
    rnd = random.Random(4)
    days = days_of_year()
    created = "2026-01-01 00:00:00"
    for i in range(n):
        birthday = rnd.choice(days) if rnd.random() < 0.7 else None
        yield (f"C{i}", "ur" if i % 3 else "en", f"+92300{i:07d}", False, created, birthday, 0)


def fill(url: str, n: int) -> float:
    """Schema and n customers; seconds taken."""
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
                "greetings.holidays": [],
                "broadcasts.backlog": 10_000_000,
                "broadcasts.chunk": 500,
            },
        )
    )
    db.connect(url)
    migrations.upgrade()
    started = time.perf_counter()
    columns = "name, language, phone, marketing_opt_out, created_at, birthday, points"
    if is_sqlite():
        conn = db.database.connection()
        with db.write():
            conn.executemany(f"INSERT INTO customer ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?)", rows(n))
        db.database.execute_sql("ANALYZE")
    else:
        buffer = io.StringIO()
        for row in rows(n):
            buffer.write("\t".join("\\N" if v is None else ("f" if v is False else str(v)) for v in row) + "\n")
        buffer.seek(0)
        with db.write():
            cursor = db.database.connection().cursor()
            cursor.copy_expert(f"COPY customer ({columns}) FROM STDIN", buffer)
        db.database.execute_sql("ANALYZE customer")
    with db.write():  # last New Year's greeting went to everyone: greeting_sent is as big as the customer table
        db.database.execute_sql(
            "INSERT INTO greeting_sent (customer_id, occasion, year, sent_at, outcome) "
            "SELECT id, 'new_year', 2026, created_at, 'sent' FROM customer"
        )
    return time.perf_counter() - started


def mark_half_greeted(occasion) -> int:
    import db
    from db.models import Customer, GreetingSent

    ids = [c.id for c in Customer.select(Customer.id).where(Customer.birthday.in_(list(occasion.days)))][::2]
    with db.write():
        for i in range(0, len(ids), 1000):
            GreetingSent.insert_many(
                [
                    {"customer": cid, "occasion": occasion.name, "year": occasion.year, "outcome": "sent"}
                    for cid in ids[i : i + 1000]
                ]
            ).execute()
    db.database.execute_sql("ANALYZE" if db.connection.is_sqlite() else "ANALYZE greeting_sent")
    return len(ids)


def plan(query) -> str:
    import db

    sql, params = query.sql()
    if db.connection.is_sqlite():
        lines = [row[-1] for row in db.database.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()]
    else:
        lines = [row[0] for row in db.database.execute_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql, params).fetchall()]
    return f"  {sql}\n  params {params}\n    " + "\n    ".join(lines)


def bench(kind: str, n: int, run_job: bool) -> None:
    import db
    from handlers.features import greetings

    with tempfile.TemporaryDirectory() as tmp:
        url, drop = fresh_database(kind, tmp)
        try:
            took = fill(url, n)
            birthday = next(o for o in greetings.occasions_on(TODAY) if o.name == "birthday")
            marked = mark_half_greeted(birthday)
            print(
                f"\n== {kind}: {n:,} customers (and as many greeting_sent rows) inserted in {took:.1f} s; "
                f"{marked:,} of today's birthdays "
                f"({TODAY:%d %B}) already greeted"
            )
            print("query plan of the job's selection (first chunk):")
            print(plan(greetings.selection(birthday, 0, 500)))
            timings, found = [], 0
            for _ in range(5):
                started, after, found = time.perf_counter(), 0, 0
                while True:
                    batch = [c.id for c in greetings.selection(birthday, after, 500)]
                    if not batch:
                        break
                    found, after = found + len(batch), batch[-1]
                timings.append(time.perf_counter() - started)
            print(
                f"finding today's {found:,} birthdays to greet, chunk by chunk: best {min(timings) * 1000:.1f} ms, "
                f"worst {max(timings) * 1000:.1f} ms of 5 runs (target < 1 s)"
            )
            if run_job:
                started = time.perf_counter()
                summary = greetings.run(TODAY)
                print(f"the whole job for the day: {time.perf_counter() - started:.2f} s — {summary}")
            db.connection.close_all()
        finally:
            drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("-n", type=int, default=1_000_000)
    parser.add_argument("--no-job", action="store_true", help="only the selection query, not the whole job")
    args = parser.parse_args()
    for kind in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
        bench(kind, args.n, not args.no_job)


if __name__ == "__main__":
    main()
