"""Schema versions. playhouse.migrate keeps no history, so the version lives in schema_version.

To change the schema: append a function to STEPS that moves the database from len(STEPS) to len(STEPS)+1.
"""
from __future__ import annotations

import logging

from db.connection import database, is_sqlite, write
from db.models import ALL, SchemaVersion

log = logging.getLogger(__name__)


def _create_first_schema():
    database.create_tables(ALL, safe=True)


STEPS = [_create_first_schema]   # version 1


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
