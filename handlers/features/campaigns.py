"""Campaigns: messages the shop starts to many customers at once (owners' broadcasts, greetings, order notices).

A campaign is a list of recipients worked through in chunks. This module holds what every campaign shares:

- chunks and the backlog: `feed` calls a campaign's "enqueue the next chunk" step (at most `broadcasts.chunk`
  items per transaction, `room()` read under the lock) only while the outbox holds fewer than
  `broadcasts.backlog` bulk messages, so replies to customers are never held up; the campaign keeps its own
  cursor, so the next run (or a restart) continues;
- the lock: `lock` takes a PostgreSQL advisory lock for the chunk's transaction, so one run at a time enqueues
  (scheduler vs CLI, several workers); on SQLite the single writer already serialises;
- the WhatsApp 24-hour window: `window` says whether a contact can get free text, must get the shop's approved
  Content-SID template (with its variables), or is skipped and counted as "no_template".

The campaigns keep only their own rules: who gets what and in which words.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass

import config
import outbox
from db.connection import database, is_sqlite
from db.models import Contact, Outbox
from handlers.core import customers

NO_TEMPLATE = "no_template"  # the outcome counted for a WhatsApp customer outside the window without a template


def lock(key: int, sub: int | None = None) -> None:
    """One enqueuer per campaign at a time, for the current transaction (SQLite: write() already serialises)."""
    if is_sqlite():
        return
    if sub is None:
        database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (key,))
    else:
        database.execute_sql("SELECT pg_advisory_xact_lock(%s, %s)", (key, sub))


def bulk_backlog() -> int:
    """How many bulk messages wait in the outbox."""
    return Outbox.select().where((Outbox.status == "pending") & (Outbox.priority == outbox.PRIORITY_BULK)).count()


def room() -> int:
    """How many more bulk messages may be enqueued now (never more than one chunk). Read it inside the chunk's
    transaction, after `lock`, so two runs at once never both fill the same room."""
    settings = config.broadcasts()
    return min(settings.chunk, settings.backlog - bulk_backlog())


def feed(next_chunk: Callable[[], int | None]) -> bool:
    """Call `next_chunk()` (one transaction: `lock`, then enqueue at most `room()` items; how many were
    handled, or None when there was no room) until the campaign has no work left or the outbox is full of
    bulk messages. True when it stopped because the outbox is full: the next run continues."""
    while True:
        done = next_chunk()
        if done is None:
            return True
        if not done:
            return False


@dataclass(frozen=True)
class Window:
    """How a message may reach a contact now: free text, the template `sid`, or not at all (`skip`)."""

    skip: bool = False
    sid: str = ""

    def extra(self, variables: dict[str, str]) -> dict[str, str]:
        """The outbox fields for a template message (none for free text)."""
        if not self.sid:
            return {}
        return {"content_sid": self.sid, "content_variables": json.dumps(variables, ensure_ascii=False)}


def window(contact: Contact, now: dt.datetime, template: Callable[..., str], *args: str | None) -> Window:
    """Free text inside WhatsApp's 24-hour window (and on other channels); outside it the shop's approved
    template (`template(*args)` gives its Content SID, '' when none) or skip."""
    if not customers.outside_window(contact, now):
        return Window()
    sid = template(*args)
    return Window(sid=sid) if sid else Window(skip=True)
