"""Backup benchmark: how long a shop's copy takes, how big it is, and how long checking and restoring it take.

    .venv/bin/python bench/backup.py [--db sqlite|postgres|both] [-n 20000] [--messages 5]

Fills a fresh database (a SQLite file in a temp dir, or a new database next to postgresql://postgres@127.0.0.1:5432/test)
with N customers, one ticket each and MESSAGES messages per ticket (about 80 characters, Urdu and English), then
prints, per database:
- the time `db backup` takes (db/backup.py: VACUUM INTO + gzip, or pg_dump --format=custom) and the copy's size
  next to the database's own size;
- the time the check before a restore takes (the whole copy read, integrity check, schema version);
- the time the restore takes (the same database replaced by the copy, then upgraded).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PG = os.environ.get("KHIDMAT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
TEXTS = ["my order 5531 has not arrived yet, please tell me when it comes", "میرا آرڈر ابھی تک نہیں آیا، کب آئے گا؟"]


def fill(url: str, customers: int, per_ticket: int) -> float:
    """Schema and the shop's history; seconds taken."""
    import config
    import db
    from db import migrations
    from db.models import Contact, Customer, Message, Ticket

    config.activate(config.load(environ={}, overrides={"database.url": url}))
    db.connect(url)
    migrations.upgrade()
    started = time.perf_counter()
    for first in range(0, customers, 1000):
        ids = range(first + 1, min(first + 1000, customers) + 1)
        with db.write():
            Customer.insert_many([{"id": i, "name": f"Customer {i}", "phone": f"+92300{i:07d}"} for i in ids]).execute()
            Contact.insert_many(
                [{"id": i, "customer": i, "channel": "whatsapp", "address": f"whatsapp:+92300{i:07d}"} for i in ids]
            ).execute()
            Ticket.insert_many(
                [{"id": i, "customer": i, "contact": i, "subject": TEXTS[i % 2][:60], "tags": []} for i in ids]
            ).execute()
            Message.insert_many(
                [
                    {"ticket": i, "direction": ("in", "out")[m % 2], "channel": "whatsapp", "text": TEXTS[m % 2]}
                    for i in ids
                    for m in range(per_ticket)
                ]
            ).execute()
    if not db.connection.is_sqlite():
        for table in ("customer", "contact", "ticket", "message"):
            db.database.execute_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
    return time.perf_counter() - started


def database_size() -> int:
    import db

    if db.connection.is_sqlite():
        pages = db.database.execute_sql("PRAGMA page_count").fetchone()[0]  # the file and its write-ahead log
        return pages * db.database.execute_sql("PRAGMA page_size").fetchone()[0]
    sql = "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    return int(db.database.execute_sql(sql + "WHERE n.nspname = current_schema() AND c.relkind = 'r'").fetchone()[0])


def run(kind: str, url: str, customers: int, per_ticket: int, scratch: Path) -> None:
    from db import backup

    filled = fill(url, customers, per_ticket)
    size = database_size()
    started = time.perf_counter()
    copy = backup.make(url, scratch / f"copies-{kind}", dt.datetime.now())
    made = time.perf_counter() - started
    started = time.perf_counter()
    backup.verify(copy.path)
    checked = time.perf_counter() - started
    started = time.perf_counter()
    backup.restore(copy.path, url)
    restored = time.perf_counter() - started
    print(
        f"{kind:10} {customers:,} tickets, {customers * per_ticket:,} messages (filled in {filled:.1f} s): "
        f"database {size / 2**20:.1f} MiB; backup {made:.2f} s, copy {copy.size / 2**20:.1f} MiB "
        f"({copy.size / size:.0%}); check {checked:.2f} s; restore {restored:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("-n", type=int, default=20000, help="customers (one ticket each)")
    parser.add_argument("--messages", type=int, default=5, help="messages per ticket")
    args = parser.parse_args()
    import db

    with tempfile.TemporaryDirectory() as scratch:
        if args.db in ("sqlite", "both"):
            run("sqlite", f"sqlite:///{scratch}/khidmat.db", args.n, args.messages, Path(scratch))
            db.connection.close_all()
        if args.db in ("postgres", "both"):
            import psycopg2

            name = f"khidmat_bench_{uuid.uuid4().hex[:8]}"  # a database of its own: a restore wants it to itself
            conn = psycopg2.connect(PG)
            conn.autocommit = True
            conn.cursor().execute(f'CREATE DATABASE "{name}"')
            try:
                run("postgresql", PG.rsplit("/", 1)[0] + f"/{name}", args.n, args.messages, Path(scratch))
            finally:
                db.connection.close_all()
                conn.cursor().execute(f'DROP DATABASE "{name}" WITH (FORCE)')
                conn.close()


if __name__ == "__main__":
    main()
