"""Dashboard benchmark: every page of the owners' dashboard over a shop of 1,000,000 customers and 300,000 tickets
(a year of them, 600,000 messages), on SQLite and on PostgreSQL.

    .venv/bin/python bench/dashboard.py [--db sqlite|postgres|both] [--customers 1000000] [--tickets 300000]
                                        [--runs 5] [--live] [--seconds]

Fills a fresh database in SQL (so the filling takes seconds, not the benchmark's time), starts the app in this
process (create_app: migrations, the blueprint), runs the roll-up job (as the scheduler of a running shop has:
every settled day counted; `--live` skips it, so every day is read from the tickets; `--seconds` gives the first
responses and resolutions fractions of a minute, all different, as a real shop's are), logs an owner in by a link
and asks each page, with the 30-day and the 90-day range, `--runs` times after one warm-up. Prints the fill time,
the roll-up job's, and each page's median and slowest answer in ms (target: every page under 300 ms).
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import config  # noqa: E402  (after the path: the bench runs as a script)
import db  # noqa: E402
from bench.relay import fresh_database  # noqa: E402
from db.models import Ticket  # noqa: E402
from handlers.core import clock  # noqa: E402
from handlers.features import dashboard  # noqa: E402
from handlers.features.reports import rollup  # noqa: E402

OWNER = 4242
NOW = "2026-12-03 07:00:00"  # the bench's moment (clock.travel_to): 12:00 in Karachi
TEAM_PAGES = {"now", "traffic 30 d", "traffic 90 d", "speed 30 d", "speed 90 d", "satisfaction 90 d", "complaints 90 d"}
PAGES = [
    ("now", "/dashboard/"),
    ("traffic 30 d", "/dashboard/traffic?range=30"),
    ("traffic 90 d", "/dashboard/traffic?range=90"),
    ("speed 30 d", "/dashboard/speed?range=30"),
    ("speed 90 d", "/dashboard/speed?range=90"),
    ("satisfaction 90 d", "/dashboard/satisfaction?range=90"),
    ("complaints 90 d", "/dashboard/complaints?range=90"),
    ("proactive 90 d", "/dashboard/proactive?range=90"),
    ("broadcasts 90 d", "/dashboard/broadcasts?range=90"),
    ("a ticket", "/dashboard/ticket/1234"),
    ("CSV: tickets by channel 90 d", "/dashboard/traffic/tickets_by_channel.csv?range=90"),
]


def series(n: int) -> tuple[str, str]:
    """(a WITH prefix, a FROM source) giving rows i = 1..n, per database."""
    if db.connection.is_sqlite():
        return f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) ", "s"
    return "", f"generate_series(1, {n}::bigint) AS s(i)"  # bigint: i * 7919 passes 2^31


def ago(days: str, minutes: str) -> str:
    """SQL for NOW minus `days` days and `minutes` minutes (expressions in i)."""
    if db.connection.is_sqlite():
        return f"datetime('{NOW}', '-' || ({days}) || ' days', '-' || ({minutes}) || ' minutes')"
    return f"TIMESTAMP '{NOW}' - ({days}) * INTERVAL '1 day' - ({minutes}) * INTERVAL '1 minute'"


def plus(moment: str, minutes: str) -> str:
    if db.connection.is_sqlite():
        return f"datetime({moment}, '+' || ({minutes}) || ' minutes')"
    return f"({moment}) + ({minutes}) * INTERVAL '1 minute'"


def run(statement: str) -> None:
    """One statement of SQL written out in full (psycopg2 reads a lone % as a parameter's place: doubled)."""
    db.database.execute_sql(statement if db.connection.is_sqlite() else statement.replace("%", "%%"))


def fill(customers: int, tickets: int, seconds: bool = False) -> None:
    with_, source = series(customers)
    with db.write():
        run(
            f"{with_}INSERT INTO customer (name, language, marketing_opt_out, created_at, points, tier) "
            f"SELECT 'Customer ' || i, CASE WHEN i % 2 = 0 THEN 'ur' ELSE 'en' END, {_false()}, '{NOW}', i % 700, "
            f"CASE WHEN i % 50 = 0 THEN 'Gold' WHEN i % 10 = 0 THEN 'Silver' END FROM {source}"
        )
        run(
            f"{with_}INSERT INTO contact (customer_id, channel, address) "
            "SELECT i, CASE i % 3 WHEN 0 THEN 'telegram' WHEN 1 THEN 'whatsapp' ELSE 'sms' END, 'addr' || i "
            f"FROM {source}"
        )
    with_, source = series(tickets)
    created = ago("i % 365", "(i * 37) % 1440")
    fraction = " + (i % 9973) / 9973.0" if seconds else ""  # business minutes with their seconds: all different
    pick = f"((i * 7919) % {customers}) + 1"
    with db.write():
        run(
            f"{with_}INSERT INTO ticket (customer_id, contact_id, status, subject, priority, created_at, "
            "last_customer_at, tags, urgent, opened_while_closed, first_response_at, first_response_minutes, "
            "closed_at, closed_by, resolution_minutes, csat_asked_at, rating, rating_comment, assignee) "
            f"SELECT {pick}, {pick}, CASE WHEN i % 365 < 2 AND i % 3 = 0 THEN 'open' ELSE 'closed' END, '', "
            "CASE i % 10 WHEN 0 THEN 'urgent' WHEN 1 THEN 'high' WHEN 9 THEN 'low' ELSE 'normal' END, "
            f'{created}, {created}, CASE i % 4 WHEN 0 THEN \'["delivery"]\' WHEN 1 THEN \'["refund", "size"]\' '
            f"ELSE '[]' END, {_bool('i % 17 = 0')}, {_false()}, {plus(created, 'i % 90')}, i % 90{fraction}, "
            f"{plus(created, '(i % 900) + 90')}, 'Agent ' || (i % 6), (i % 900) + 90{fraction}, "
            f"{plus(created, '(i % 900) + 90')}, "
            "CASE WHEN i % 3 = 0 THEN NULL ELSE (i % 5) + 1 END, CASE WHEN i % 5 = 0 THEN 'slow' END, "
            f"CASE WHEN i % 2 = 0 THEN 'Agent ' || (i % 6) END FROM {source}"
        )
        # the open ones are open: no closing, no rating
        run(
            "UPDATE ticket SET closed_at = NULL, closed_by = NULL, resolution_minutes = NULL, csat_asked_at = NULL, "
            "rating = NULL WHERE status = 'open'"
        )
        for direction, offset in (("in", "0"), ("out", "i % 90")):
            run(
                f"{with_}INSERT INTO message (ticket_id, direction, channel, text, created_at) "
                f"SELECT i, '{direction}', 'telegram', 'words of message ' || i, {plus(created, offset)} FROM {source}"
            )
    db.database.execute_sql("ANALYZE")  # fresh statistics, as a running database has


def _false() -> str:
    return "0" if db.connection.is_sqlite() else "FALSE"


def _bool(condition: str) -> str:
    return f"({condition})" if not db.connection.is_sqlite() else f"CASE WHEN {condition} THEN 1 ELSE 0 END"


TEAM = "returns"  # --team: a third of the tickets are this team's, and the ticket pages are asked for it


def bench(
    kind: str, customers: int, tickets: int, runs: int, live: bool = False, seconds: bool = False, team: bool = False
) -> dict[str, tuple[float, float]]:
    from webhook import create_app

    tmp = tempfile.mkdtemp()
    url, drop = fresh_database(kind, tmp)
    settings = config.load(
        environ={},
        overrides={
            "database.url": url,
            "telegram.owner_ids": [OWNER],
            "telegram.webhook_secret": "bench-secret",
            "app.public_url": "http://shop.example.com",
            "scheduler.enabled": False,
            "app.log_format": "text",
            **({"teams": [{"name": TEAM, "chat_id": -1002000000001, "menu": "return_policy"}]} if team else {}),
        },
    )
    try:
        app = create_app(settings)
        clock.travel_to(dt.datetime.fromisoformat(NOW))
        started = time.perf_counter()
        fill(customers, tickets, seconds)
        print(f"{kind}: filled {customers:,} customers, {tickets:,} tickets in {time.perf_counter() - started:.1f} s")
        if team:
            with db.write():
                Ticket.update(team=TEAM).where(Ticket.id - (Ticket.id / 3) * 3 == 0).execute()  # every third
        if not live:  # a running shop's scheduler has rolled up the settled days: the first run catches up a year
            started = time.perf_counter()
            summary = rollup.run()
            print(f"{kind}: roll-up job's first run in {time.perf_counter() - started:.1f} s ({summary})")
            started = time.perf_counter()
            summary = rollup.run()
            print(f"{kind}: its next run in {(time.perf_counter() - started) * 1000:.0f} ms ({summary})")
        client = app.test_client()
        link = dashboard.make_link(OWNER).split("shop.example.com", 1)[1]
        page = client.get(link).get_data(as_text=True)
        client.post(link, data={"csrf": re.search(r'name="csrf" value="([^"]+)"', page).group(1)})
        figures = {}
        for name, path in PAGES:
            if team and name not in TEAM_PAGES:
                continue
            path = path + ("&" if "?" in path else "?") + f"team={TEAM}" if team else path
            times = []
            for attempt in range(runs + 1):
                t0 = time.perf_counter()
                response = client.get(path)
                elapsed = (time.perf_counter() - t0) * 1000
                assert response.status_code == 200, (path, response.status_code)
                if attempt:
                    times.append(elapsed)
            figures[name] = (statistics.median(times), max(times))
        return figures
    finally:
        db.connection.close_all()
        drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--tickets", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--live", action="store_true", help="no roll-ups: every day read from the tickets")
    parser.add_argument(
        "--seconds", action="store_true", help="first responses and resolutions with their seconds (all different)"
    )
    parser.add_argument("--team", action="store_true", help=f"the ticket pages for one team ({TEAM}: a third of them)")
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results = {
        kind: bench(kind, args.customers, args.tickets, args.runs, args.live, args.seconds, args.team) for kind in kinds
    }
    print()
    print("| page | " + " | ".join(f"{k} median / slowest" for k in kinds) + " |")
    print("|---|" + "---|" * len(kinds))
    worst = 0.0
    for name, _ in PAGES:
        if name not in results[kinds[0]]:
            continue
        cells = []
        for kind in kinds:
            median, slowest = results[kind][name]
            worst = max(worst, slowest)
            cells.append(f"{median:.0f} / {slowest:.0f} ms")
        print(f"| {name} | " + " | ".join(cells) + " |")
    print(f"\nslowest answer: {worst:.0f} ms (target: every page under 300 ms)")


if __name__ == "__main__":
    main()
