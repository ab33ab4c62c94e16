"""The pages' sums done by the database: a moment's local day, weekday and hour as SQL (SQLite and PostgreSQL
spell them differently), and rows fetched raw (peewee turning 100,000 rows into Python objects costs more than
the query itself).

A period's moments are shifted by the shop's UTC offset at the period's start: exact for zones without daylight
saving (Asia/Karachi); elsewhere an hour either side of a change can fall on the neighbouring day."""

from __future__ import annotations

import datetime as dt

from peewee import SQL, fn

from db.connection import database, is_sqlite
from handlers.core import teams
from handlers.features.reports import periods


def offset_minutes(moment: dt.datetime) -> int:
    """The shop's UTC offset at a (naive UTC) moment, in whole minutes."""
    local = moment.replace(tzinfo=dt.UTC).astimezone(periods.zone())
    offset = local.utcoffset() or dt.timedelta(0)
    return int(offset.total_seconds() // 60)


def _shifted(field, minutes: int):
    return field + SQL(f"INTERVAL '{int(minutes)} minutes'")


def local_day(field, minutes: int):
    """'YYYY-MM-DD' of the field's moment in the shop's calendar."""
    if is_sqlite():
        return fn.strftime("%Y-%m-%d", field, f"{int(minutes):+d} minutes")
    return fn.to_char(_shifted(field, minutes), "YYYY-MM-DD")


def local_weekday_hour(field, minutes: int):
    """(weekday 0 = Sunday … 6, hour 0–23) of the field's moment in the shop's time, as SQL."""
    if is_sqlite():
        shift = f"{int(minutes):+d} minutes"
        return fn.strftime("%w", field, shift), fn.strftime("%H", field, shift)
    moment = _shifted(field, minutes)
    return fn.date_part("dow", moment), fn.date_part("hour", moment)


def of_team(team: str | None, where):
    """`where` narrowed to one team's tickets (DEFAULT_TEAM: the main group's, whose team is NULL); as it is for
    None (the whole shop)."""
    return where if team is None else where & teams.tickets_of(team)


def rows(query) -> list[tuple]:
    """The query's rows as the driver returns them (no model objects, no per-row conversion)."""
    return database.execute(query).fetchall()
