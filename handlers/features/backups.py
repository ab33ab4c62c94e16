"""The shop's backups as the business sees them: make a copy (`db backup`, the daily `backup` job), remember the
newest (/metrics shows its age), keep what retention says, and tell the agents' group and the owners when a copy
failed or the backup disk is filling up. The copying itself is db/backup.py.

The `backup` job (scheduler, every minute) makes the day's copy once the shop's local time has passed backup.at
(so a bot that was down at 03:00 makes it when it is back); `flask --app webhook jobs run backup` makes one now.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import config
import outbox
from bots.base import TELEGRAM
from db import backup
from db.connection import write
from db.models import State
from handlers.core import clock, texts

log = logging.getLogger(__name__)

LAST = "backup:last"  # the newest copy made: {"at": UTC ISO time, "path": …, "size": bytes}
DAY = "backup:day"  # the local day whose scheduled copy was attempted


def directory() -> Path:
    """backup.dir, relative to the project root unless absolute."""
    return config.ROOT / config.backup().dir


def make(target: Path | None = None) -> backup.Copy:
    """A checked copy of the database into target (a directory or a file; backup.dir by default), remembered as
    the newest. BackupError says why not."""
    copy = backup.make(config.database().url, target or directory(), clock.local_now())
    remember(copy)
    log.info("backup made: %s (%d bytes, schema version %d)", copy.path, copy.size, copy.version)
    return copy


def remember(copy: backup.Copy) -> None:
    """Note the copy as the newest (also after a restore: the copy made just before it is the newest there is)."""
    with write():
        State.put(LAST, json.dumps({"at": clock.now().isoformat(), "path": str(copy.path), "size": copy.size}))


def newest() -> dict | None:
    """The newest copy made ({"at": datetime (UTC), "path", "size"}), None before the first."""
    raw = State.read(LAST)
    if not raw:
        return None
    found = json.loads(raw)
    return {**found, "at": dt.datetime.fromisoformat(found["at"])}


def prune() -> list[str]:
    """Delete the copies in backup.dir that retention lets go (backup.keep_days, backup.keep_months)."""
    settings = config.backup()
    here = directory()
    names = [p.name for p in backup.copies(here)]
    gone = backup.to_delete(names, clock.local_now().date(), settings.keep_days, settings.keep_months)
    for name in gone:
        (here / name).unlink(missing_ok=True)
    if gone:
        log.info("backup retention removed %d old copies: %s", len(gone), ", ".join(gone))
    return gone


def run_now() -> str:
    """Make a copy into backup.dir now, apply retention, check the free space; a summary line. A failure and a
    disk short of backup.min_free_mb are told to the agents' group and the owners."""
    try:
        copy = make()
    except backup.BackupError as exc:
        log.error("backup failed: %s", exc)
        _alert("backup_failed", reason=str(exc), dir=str(directory()))
        return f"backup FAILED: {exc}"
    gone = prune()
    free, minimum = backup.free_mb(directory()), config.backup().min_free_mb
    if free < minimum:
        log.warning("backup disk low: %d MiB free in %s (backup.min_free_mb %d)", free, directory(), minimum)
        _alert("backup_low_space", free=free, minimum=minimum, dir=str(directory()))
    kept = len(backup.copies(directory()))
    return f"backup {copy.path} ({size_words(copy.size)}); {len(gone)} old copies removed, {kept} kept; {free} MiB free"


def tick() -> str | None:
    """The scheduler's job: the day's copy, once the shop's local time has passed backup.at (once a day)."""
    at = config.backup().at
    if not at:
        return None
    local, when = clock.local_now(), _time_of_day(at)
    if (when is not None and local.time() < when) or State.read(DAY) == local.date().isoformat():
        return None
    with write():
        State.put(DAY, local.date().isoformat())
    if when is None:  # told once a day, instead of silently never backing up
        reason = f"backup.at = {at!r} is not a time of day (HH:MM)"
        log.error("backup not made: %s", reason)
        _alert("backup_failed", reason=reason, dir=str(directory()))
        return None
    return run_now()


def _time_of_day(text: str) -> dt.time | None:
    try:
        return dt.time.fromisoformat(text)
    except ValueError:
        return None


def size_words(size: int) -> str:
    """A copy's size as people read it: "2.3 MiB", "48.0 KiB"."""
    return f"{size / 2**20:.1f} MiB" if size >= 2**20 else f"{size / 1024:.1f} KiB"


def _alert(name: str, **values) -> None:
    """The agents' group and every owner (telegram.owner_ids, in a private chat) read it."""
    with write():
        outbox.to_group(texts.for_agents(f"agents/{name}", **values), purpose="backup")
        for owner in config.telegram().owner_ids:
            outbox.enqueue(
                TELEGRAM,
                str(owner),
                purpose="backup",
                text=texts.for_agents(f"owners/{name}", **values),
                priority=outbox.PRIORITY_CUSTOMER,
            )
