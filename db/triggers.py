"""The database's triggers on ticket that keep the dashboard's daily roll-ups honest (schema version 10).

A rolled-up day holds only while the tickets it counted stay as they were. Whatever changes a ticket (the desk,
the rating question, triage, an erasure, a restore, a hand-written UPDATE), these triggers write into
report_change the moments whose days no longer hold:

- a new or deleted ticket: its created_at, closed_at and csat_asked_at;
- a changed ticket: for each of those moments, its old and new value, when a column counted by that moment's
  day changed (COUNTED_BY below: what handlers/features/reports/daily.py counts per day). A ticket's channel is
  its contact's, and a contact's channel never changes (channel and address are what the contact is): a ticket
  moved to another contact changes contact_id.

Only moments before the end of the latest day taken on (report_day_done.ends_at) are written: later days have
not been rolled up, so today's traffic writes nothing. The pages read such days live; the roll-up job counts
them again (handlers/features/reports/rollup.py).
"""

from __future__ import annotations

from db.connection import database, is_sqlite

COUNTED_BY = {  # a moment of the ticket → the columns counted by the day it falls on
    "created_at": ("created_at", "contact_id", "priority", "first_response_minutes", "tags", "urgent"),
    "closed_at": ("closed_at", "closed_by", "resolution_minutes", "first_response_minutes", "rating"),
    "csat_asked_at": ("csat_asked_at", "rating"),
}
SQLITE_TRIGGERS = ("report_ticket_insert", "report_ticket_delete", *(f"report_ticket_{m}" for m in COUNTED_BY))
PG_FUNCTION = "report_ticket_changed"
UNTIL = "(SELECT MAX(ends_at) FROM report_day_done)"


def _sqlite_insert(moments: list[str]) -> str:
    union = " UNION ".join(f"SELECT {m} AS m" for m in moments)
    return f"INSERT INTO report_change (moment) SELECT m FROM ({union}) WHERE m IS NOT NULL AND m < {UNTIL};"


def _sqlite() -> list[str]:
    rows = [
        f"CREATE TRIGGER IF NOT EXISTS report_ticket_{kind} AFTER {kind.upper()} ON ticket BEGIN "
        f"{_sqlite_insert([f'{row}.{m}' for m in COUNTED_BY])} END"
        for kind, row in (("insert", "NEW"), ("delete", "OLD"))
    ]
    for moment, columns in COUNTED_BY.items():
        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)
        rows.append(
            f"CREATE TRIGGER IF NOT EXISTS report_ticket_{moment} AFTER UPDATE OF {', '.join(columns)} ON ticket "
            f"WHEN {changed} BEGIN {_sqlite_insert([f'OLD.{moment}', f'NEW.{moment}'])} END"
        )
    return rows


def _pg_insert(moments: list[str]) -> str:
    values = ", ".join(f"({m})" for m in moments)
    return f"INSERT INTO report_change (moment) SELECT DISTINCT m FROM (VALUES {values}) AS v(m) WHERE m < until;"


def _pg() -> list[str]:
    changes = "\n".join(
        f"    IF ({', '.join(f'OLD.{c}' for c in columns)}) IS DISTINCT FROM ({', '.join(f'NEW.{c}' for c in columns)})"
        f" THEN {_pg_insert([f'OLD.{moment}', f'NEW.{moment}'])} END IF;"
        for moment, columns in COUNTED_BY.items()
    )
    function = f"""CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE until timestamp;
BEGIN
  SELECT MAX(ends_at) INTO until FROM report_day_done;
  IF until IS NULL THEN RETURN NULL; END IF;
  IF TG_OP = 'INSERT' THEN
    {_pg_insert([f"NEW.{m}" for m in COUNTED_BY])}
  ELSIF TG_OP = 'DELETE' THEN
    {_pg_insert([f"OLD.{m}" for m in COUNTED_BY])}
  ELSE
{changes}
  END IF;
  RETURN NULL;
END $$"""
    return [
        function,
        f"DROP TRIGGER IF EXISTS {PG_FUNCTION} ON ticket",
        f"CREATE TRIGGER {PG_FUNCTION} AFTER INSERT OR UPDATE OR DELETE ON ticket "
        f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()",
    ]


def create() -> None:
    """Create (or replace) the triggers; report_change and report_day_done must exist."""
    for statement in _sqlite() if is_sqlite() else _pg():
        database.execute_sql(statement)


def drop() -> None:
    """Remove them (a schema taken back to before version 10, as the upgrade tests do)."""
    if is_sqlite():
        for name in SQLITE_TRIGGERS:
            database.execute_sql(f"DROP TRIGGER IF EXISTS {name}")
    else:
        database.execute_sql(f"DROP TRIGGER IF EXISTS {PG_FUNCTION} ON ticket")
        database.execute_sql(f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()")
