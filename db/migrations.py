"""Schema versions. playhouse.migrate keeps no history, so the version lives in schema_version.

To change the schema: append a function to STEPS that moves the database from len(STEPS) to len(STEPS)+1.
"""

from __future__ import annotations

import logging

from playhouse.migrate import SchemaMigrator, migrate

from db import triggers
from db.connection import database, is_sqlite, write
from db.models import (
    ALL,
    LEDGER_TABLES,
    ROLLUP_TABLES,
    V4_TABLES,
    V6_TABLES,
    V7_TABLES,
    Agent,
    Broadcast,
    BroadcastRecipient,
    Coupon,
    Customer,
    GreetingSent,
    Order,
    SchemaVersion,
    Ticket,
)

log = logging.getLogger(__name__)


V1_TABLES = [
    "schema_version",
    "state",
    "inbound_event",
    "customer",
    "contact",
    "ticket",
    "message",
    "group_message",
    "outbox",
    "sent_message",
]
V2_TICKET_COLUMNS = [
    "assignee_id",
    "tags",
    "urgent",
    "close_reason",
    "reopened_at",
    "opened_while_closed",
    "first_response_minutes",
    "resolution_minutes",
    "sla_warned_at",
    "sla_breached_at",
    "csat_asked_at",
    "rating",
    "rating_comment",
]


V4_CUSTOMER_COLUMNS = ["birthday", "birth_year", "anniversary", "points", "tier", "dialog"]


def _create_first_schema():
    """Version 1 (the first release). A new database gets today's tables at once; later steps then only
    add what is missing, so a fresh install and an upgraded one end up the same."""
    database.create_tables(ALL, safe=True)


def _add_missing_columns(model, names: list[str]) -> None:
    table = model._meta.table_name
    migrator = SchemaMigrator.from_database(database.obj)
    existing = {c.name for c in database.get_columns(table)} if is_sqlite() else _pg_columns(table)
    operations = []
    for name in names:
        field = model._meta.fields[name]
        if name in existing:
            continue
        if is_sqlite() and not field.null:
            _sqlite_add_not_null(table, field)
        else:
            operations.append(migrator.add_column(table, name, field))
    if operations:
        migrate(*operations)


def _sqlite_add_not_null(table: str, field) -> None:
    """SQLite adds a NOT NULL column with a default in place. (playhouse would rebuild the table to add the
    constraint, and dropping the old table cascades: every ticket of every customer would go with it.)"""
    ctx = database.obj.get_sql_context()
    datatype = ctx.sql(field.ddl_datatype(ctx)).query()[0]
    default = field.db_value(field.default() if callable(field.default) else field.default)
    if isinstance(default, (bool, int, float)):
        literal = str(int(default) if isinstance(default, bool) else default)
    else:
        literal = "'" + str(default).replace("'", "''") + "'"
    database.execute_sql(
        f'ALTER TABLE "{table}" ADD COLUMN "{field.column_name}" {datatype} NOT NULL DEFAULT {literal}'
    )


def _triage_sla_csat():
    """Version 2: ticket triage, SLA and satisfaction columns; the agent table."""
    _add_missing_columns(Ticket, V2_TICKET_COLUMNS)
    database.create_tables([Agent], safe=True)


def _pg_columns(table: str) -> set[str]:
    cursor = database.execute_sql(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND table_schema = current_schema()",
        (table,),
    )
    return {row[0] for row in cursor.fetchall()}


def _broadcasts():
    """Version 3: owners' broadcasts and their recipients."""
    database.create_tables([Broadcast, BroadcastRecipient], safe=True)


def _orders_occasions_selfservice():
    """Version 4: orders, coupons, greetings sent, customer tags, loyalty and occasion columns, the FAQ log;
    outbox.delivery widened (Twilio statuses such as "partially_delivered" are longer than 16)."""
    _add_missing_columns(Customer, V4_CUSTOMER_COLUMNS)
    _add_missing_columns(Ticket, ["order_ref"])
    for field in ("birthday", "anniversary", "tier"):
        database.execute_sql(f"CREATE INDEX IF NOT EXISTS customer_{field} ON customer ({field})")
    database.create_tables(V4_TABLES, safe=True)
    _add_missing_columns(GreetingSent, ["outcome"])  # added while version 4 was in development
    _add_missing_columns(Order, ["notified_at"])  # likewise
    if not is_sqlite():  # SQLite does not enforce lengths
        database.execute_sql("ALTER TABLE outbox ALTER COLUMN delivery TYPE VARCHAR(32)")


def _outbox_in_sending_order():
    """Version 5: the outbox is indexed in the order the sender takes it (status, priority, id): finding
    the next due rows no longer sorts every pending row (a broadcast's backlog) on each round."""
    database.execute_sql("CREATE INDEX IF NOT EXISTS outbox_status_priority_id ON outbox (status, priority, id)")
    database.execute_sql("DROP INDEX IF EXISTS outbox_status_next_attempt_at")


def _erasures():
    """Version 6: the record of customers whose personal data was erased on request (`customers forget`)."""
    database.create_tables(V6_TABLES, safe=True)


# what the dashboard's pages select by (the numbers of a date range, never the whole history)
V7_INDEXES = {
    "ticket_created_at": "ticket (created_at)",
    "ticket_closed_at": "ticket (closed_at)",
    "ticket_csat_asked_at": "ticket (csat_asked_at)",
    "message_direction_created_at": "message (direction, created_at)",
    "outbox_purpose_created_at": "outbox (purpose, created_at)",
    "coupon_created_at": "coupon (created_at)",
    "greeting_sent_sent_at": "greeting_sent (sent_at)",
}


def _dashboard():
    """Version 7: the owners' dashboard: used login links, sessions, and the indexes its pages read by."""
    database.create_tables(V7_TABLES, safe=True)
    for name, columns in V7_INDEXES.items():
        database.execute_sql(f"CREATE INDEX IF NOT EXISTS {name} ON {columns}")


# a team's numbers select by team; auto-assignment counts each agent's open tickets
V8_INDEXES = {"ticket_team": "ticket (team)", "ticket_status_assignee_id": "ticket (status, assignee_id)"}


def _duty_and_teams():
    """Version 8: agents on duty (and where), when each last got a ticket; the team a ticket belongs to."""
    _add_missing_columns(Agent, ["on_duty", "duty_team", "on_duty_since", "last_assigned_at"])
    _add_missing_columns(Ticket, ["team"])
    for name, columns in V8_INDEXES.items():
        database.execute_sql(f"CREATE INDEX IF NOT EXISTS {name} ON {columns}")


def _coupons_redeemed_points_ledger():
    """Version 9: coupons redeemed, points ledger: who redeemed a coupon (coupon.redeemed_by) and the index the owners'
    numbers count redemptions by (coupon.redeemed_at); every change of a customer's points (points_change)."""
    _add_missing_columns(Coupon, ["redeemed_by"])
    database.execute_sql("CREATE INDEX IF NOT EXISTS coupon_redeemed_at ON coupon (redeemed_at)")
    database.create_tables(LEDGER_TABLES, safe=True)


# what the dashboard's live reads select by: the oldest waiting ticket in order, repeat complainers by their
# tickets of 30 days, low ratings, the tickets about an order told of a delay
ROLLUP_INDEXES = {
    "ticket_status_first_response_at_created_at": "ticket (status, first_response_at, created_at)",
    "ticket_created_at_customer_id": "ticket (created_at, customer_id)",
    "ticket_csat_asked_at_rating": "ticket (csat_asked_at, rating)",
    "ticket_order_ref": "ticket (order_ref) WHERE order_ref IS NOT NULL",  # few tickets are about an order
    "shop_order_notified_at": "shop_order (notified_at)",
}


def _dashboard_rollups():
    """Version 10: the dashboard's daily roll-ups (report_day, report_day_done), the record of the changes that
    make a rolled-up day stale (report_change, written by triggers on ticket: db/triggers.py), and indexes for
    what its pages read live."""
    database.create_tables(ROLLUP_TABLES, safe=True)
    for name, columns in ROLLUP_INDEXES.items():
        database.execute_sql(f"CREATE INDEX IF NOT EXISTS {name} ON {columns}")
    triggers.create()


STEPS = [
    _create_first_schema,
    _triage_sla_csat,
    _broadcasts,
    _orders_occasions_selfservice,
    _outbox_in_sending_order,
    _erasures,
    _dashboard,
    _duty_and_teams,
    _coupons_redeemed_points_ledger,
    _dashboard_rollups,
]  # index + 1 = version


def _table_exists(name: str) -> bool:
    if is_sqlite():
        return database.table_exists(name)
    # peewee looks only in the "public" schema; ask PostgreSQL along the connection's search_path
    return database.execute_sql("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()[0]


def current_version() -> int:
    if not _table_exists(SchemaVersion._meta.table_name):
        return 0
    row = SchemaVersion.select().order_by(SchemaVersion.version.desc()).first()
    return row.version if row else 0


def upgrade() -> int:
    """Bring the schema to the newest version; return it. Safe to run at every start."""
    with write():
        if not is_sqlite():
            database.execute_sql("SELECT pg_advisory_xact_lock(7212001)")  # one upgrader at a time
        version = current_version()
        for number, step in enumerate(STEPS[version:], start=version + 1):
            log.info("upgrading database schema to version %d", number)
            step()
            SchemaVersion.create(version=number)
            version = number
    return version
