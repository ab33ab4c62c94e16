"""Backups as a shop runs them, on SQLite and PostgreSQL: `flask --app webhook db backup` while complaints keep
arriving, the copy restored into a fresh place and a bot started on it; refusals (a damaged copy, a newer one, a
running bot); an older copy upgraded; the daily `backup` job with its retention, alerts and /metrics line."""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

import psycopg2
import pytest
import requests

import config
import db
from db import backup, inuse, migrations, triggers
from db.models import DashboardSession, Erasure, Message, Outbox, SchemaVersion, Ticket
from runtime import scheduler
from tests.helpers import PG_SERVER, SECRET, base_env, eventually, flask, free_port, make_settings, start, telegram_env


def bot_env(db_url, tg_api, backups: Path) -> dict:
    return telegram_env(db_url, tg_api, scheduler_enabled="false", backup_dir=str(backups))


def let_go():
    """This test process stops using the database (its connections, its presence), as a stopped bot would."""
    db.connection.close_all()
    inuse.release()


def count(url, model) -> int:
    """How many rows of the model the database at url holds (connecting just for this)."""
    db.connect(url)
    try:
        return model.select().count()
    finally:
        let_go()


def committed(url):
    """Every ticket and message committed in the database at url: {id: subject}, {id: text}."""
    db.connect(url)
    try:
        return (
            dict(Ticket.select(Ticket.id, Ticket.subject).tuples()),
            dict(Message.select(Message.id, Message.text).tuples()),
        )
    finally:
        let_go()


@pytest.fixture
def fresh_url(db_url, tmp_path):
    """An empty place to restore into: a new SQLite directory, or a new PostgreSQL database (same schema name)."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path}/restored/khidmat.db"
        return
    parts = urlsplit(db_url)
    name = f"{parts.path.lstrip('/')}_r{uuid.uuid4().hex[:6]}"
    schema = parse_qs(parts.query)["options"][0].split("=", 1)[1]
    server = psycopg2.connect(PG_SERVER)
    server.autocommit = True
    server.cursor().execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(parts._replace(path="/" + name))
    conn = psycopg2.connect(urlunsplit(parts._replace(path="/" + name, query="")))
    conn.autocommit = True
    conn.cursor().execute(f"CREATE SCHEMA {schema}")
    conn.close()
    yield url
    server.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    server.close()


class Complaints:
    """Customers writing to the running bot, one after another, until stopped: new tickets and follow-ups."""

    def __init__(self, port, tg_api):
        self.port, self.tg, self.sent = port, tg_api, 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        session = requests.Session()
        while not self.stopping.is_set():
            user = 3000 + self.sent % 25
            update = self.tg.incoming(user, f"complaint {self.sent:04d}: my order is late", user_id=user)
            response = session.post(
                f"http://127.0.0.1:{self.port}/telegram/webhook",
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
                timeout=10,
            )
            assert response.status_code == 200
            self.sent += 1
            time.sleep(0.01)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.thread.join(10)


def test_restore_drill_copy_made_under_a_stream_of_complaints_serves_a_new_bot(db_url, fresh_url, tmp_path, tg_api):
    backups = tmp_path / "backups"
    env = bot_env(db_url, tg_api, backups)
    port = free_port()
    shop = start(env, port, tmp_path / "shop.log")
    try:
        with Complaints(port, tg_api) as stream:
            eventually(lambda: count(db_url, Message) >= 30, timeout=30, what="a history of complaints")
            tickets, messages = committed(db_url)  # all committed before the backup below begins
            sent_before = stream.sent
            made = flask(env, "db", "backup")
            sent_during = stream.sent - sent_before
            time.sleep(0.5)
        assert made.returncode == 0, made.stderr
        assert sent_during > 0, "no complaint arrived while the backup ran"
        [copy] = sorted(backups.iterdir())
        assert f"backup written to {copy} (" in made.stdout and backup.taken_at(copy.name) is not None
        assert copy.name.endswith(".db.gz" if db_url.startswith("sqlite") else ".pgdump")
    finally:
        shop.terminate()
        shop.wait(10)
    _, later_messages = committed(db_url)
    assert len(later_messages) > len(messages), "the shop kept writing while the copy was made"

    restored = flask(bot_env(fresh_url, tg_api, tmp_path / "before"), "db", "restore", "--yes", str(copy))
    assert restored.returncode == 0, restored.stderr
    assert f"restored {copy}" in restored.stdout
    port = free_port()
    second = start(bot_env(fresh_url, tg_api, tmp_path / "backups2"), port, tmp_path / "restored.log")
    try:
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()["ok"] is True
        got_tickets, got_messages = committed(fresh_url)
    finally:
        second.terminate()
        second.wait(10)
    assert {k: got_tickets.get(k) for k in tickets} == tickets
    assert {k: got_messages.get(k) for k in messages} == messages
    assert len(tickets) >= 20 and len(messages) >= 30


def _shop_with_a_copy(db_url, tmp_path, tg_api):
    """A running shop (`python webhook.py`) with one ticket, a copy of it made by `db backup`, then a second
    ticket: (the running process, its environment, the copy)."""
    env = bot_env(db_url, tg_api, tmp_path / "backups")
    port = free_port()
    shop = start(env, port, tmp_path / "shop.log")
    try:
        tg_api_complaint(port, tg_api, 4001, "the kettle leaks")
        eventually(lambda: count(db_url, Ticket) == 1, timeout=10, what="the first ticket")
        made = flask(env, "db", "backup", str(tmp_path / "copies"))
        assert made.returncode == 0, made.stderr
        [good] = sorted((tmp_path / "copies").iterdir())
        tg_api_complaint(port, tg_api, 4002, "the iron burns")
        eventually(lambda: count(db_url, Ticket) == 2, timeout=10, what="the second ticket")
    except BaseException:
        shop.terminate()
        shop.wait(10)
        raise
    return shop, env, good


def test_restore_refuses_a_damaged_copy_and_a_running_bot(db_url, tmp_path, tg_api):
    shop, env, good = _shop_with_a_copy(db_url, tmp_path, tg_api)
    try:
        data = good.read_bytes()
        damaged = tmp_path / f"damaged{''.join(good.suffixes)}"
        damaged.write_bytes(data[: len(data) // 2])
        refused = flask(env, "db", "restore", "--yes", str(damaged))
        assert refused.returncode != 0 and "is damaged (truncated or corrupt)" in refused.stderr, refused.stderr
        running = flask(env, "db", "restore", "--yes", str(good))
        assert running.returncode != 0 and "running on" in running.stderr, running.stderr
        assert "stop" in running.stderr
    finally:
        shop.terminate()
        shop.wait(10)
    assert count(db_url, Ticket) == 2, "a refused restore changed nothing"


def test_restore_refuses_a_newer_copy_and_no_room_then_restores_and_the_copy_made_first_undoes_it(
    db_url, tmp_path, tg_api
):
    shop, env, good = _shop_with_a_copy(db_url, tmp_path, tg_api)
    shop.terminate()
    shop.wait(10)
    backups = tmp_path / "backups"

    newer = _copy_of_version(db_url, tmp_path / "newer", len(migrations.STEPS) + 1)
    refused = flask(env, "db", "restore", "--yes", str(newer))
    assert refused.returncode != 0 and f"holds schema version {len(migrations.STEPS) + 1}, newer" in refused.stderr
    assert count(db_url, Ticket) == 2

    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    no_room = flask({**env, "BOT_BACKUP_DIR": str(blocker / "x")}, "db", "restore", "--yes", str(good))
    assert no_room.returncode != 0 and "could not be copied first" in no_room.stderr
    assert "--no-copy-first" in no_room.stderr
    assert count(db_url, Ticket) == 2

    restored = flask(env, "db", "restore", "--yes", str(good))
    assert restored.returncode == 0, restored.stderr
    assert count(db_url, Ticket) == 1, "the database is the copy again: the ticket after the backup is gone"
    [before] = backup.copies(backups)
    assert f"the database as it was: copied to {before}" in restored.stdout
    undone = flask(env, "db", "restore", "--yes", "--no-copy-first", str(before))
    assert undone.returncode == 0 and "copied to" not in undone.stdout, undone.stderr
    assert count(db_url, Ticket) == 2, "the copy made first brought the restored-over ticket back"
    cancelled = flask(env, "db", "restore", str(good), stdin="n\n")
    assert cancelled.returncode == 0 and "cancelled: nothing changed" in cancelled.stdout
    missing = flask(env, "db", "restore")
    assert missing.returncode != 0 and "Missing argument 'PATH'" in missing.stderr


def test_an_older_copy_is_upgraded_after_the_restore(db_url, tmp_path):
    older = _copy_of_version(db_url, tmp_path / "older", 5, drop_newest=True)  # before the erasure record
    restored = flask(base_env(db_url), "db", "restore", "--yes", "--no-copy-first", str(older))
    assert restored.returncode == 0, restored.stderr
    assert f"upgraded to schema version {len(migrations.STEPS)}" in restored.stdout
    db.connect(db_url)
    try:
        assert migrations.current_version() == len(migrations.STEPS)
        assert Erasure.select().count() == 0  # the tables the newer steps add are there again
        assert DashboardSession.select().count() == 0
    finally:
        let_go()


def tg_api_complaint(port, tg_api, user, text):
    update = tg_api.incoming(user, text, user_id=user)
    response = requests.post(
        f"http://127.0.0.1:{port}/telegram/webhook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert response.status_code == 200


def _copy_of_version(db_url, directory: Path, version: int, drop_newest=False) -> Path:
    """A real copy of this database claiming another schema version (made here, as an older or a newer
    release would have made it); the database itself is put back as it was."""
    config.activate(make_settings(db_url))
    db.connect(db_url)
    migrations.upgrade()
    try:
        with db.write():
            SchemaVersion.delete().where(SchemaVersion.version > version).execute()
            SchemaVersion.create(version=version)
            if drop_newest:  # the tables (and triggers) of the steps after version 5
                triggers.drop()
                for model in [
                    *migrations.LEDGER_TABLES,
                    *migrations.V6_TABLES,
                    *migrations.V7_TABLES,
                    *migrations.ROLLUP_TABLES,
                ]:
                    db.database.execute_sql(f'DROP TABLE "{model._meta.table_name}"')
        copy = backup.make(db_url, directory, dt.datetime(2026, 11, 1, 3, 0))
        assert copy.version == version
        with db.write():
            SchemaVersion.delete().where(SchemaVersion.version == version).execute()
        migrations.upgrade()
        return copy.path
    finally:
        let_go()


# ---- the daily job ------------------------------------------------------------------------------------------
OWNER = 777001


def test_backup_job_twice_keeps_what_retention_says_and_reports_in_metrics(make_khidmat, tmp_path):
    backups = tmp_path / "backups"
    backups.mkdir()
    # the shop's clock reads Wednesday 2026-11-25 12:00 (tests' OPEN_HOURS)
    old = [
        "khidmat-2026-11-24-030000.db.gz",  # yesterday: within keep_days
        "khidmat-2026-11-20-030000.db.gz",  # too old for keep_days, not the first of its month
        "khidmat-2026-11-01-030000.db.gz",  # the first of November
        "khidmat-2026-11-02-030000.db.gz",
        "khidmat-2026-10-05-030000.db.gz",  # the first copy of October
        "khidmat-2026-10-06-030000.db.gz",
        "khidmat-2026-09-01-030000.db.gz",  # September is past keep_months
    ]
    for name in [*old, "notes.txt"]:
        (backups / name).write_bytes(b"x")
    k = make_khidmat(
        **{
            "backup.dir": str(backups),
            "backup.keep_days": 2,
            "backup.keep_months": 2,
            "backup.min_free_mb": 0,
            "backup.at": "11:30",
            "telegram.owner_ids": [OWNER],
        }
    )
    metrics = k.http.get(f"{k.url}/metrics").text
    assert "khidmat_backup_age_seconds +Inf" in metrics
    first = scheduler.run("backup")
    assert first and first.startswith("backup "), first
    assert scheduler.run("backup") is None, "once a day"
    second = scheduler.run("backup", on_demand=True)  # `jobs run backup`: now, whatever the time
    assert "old copies removed" in second
    names = sorted(p.name for p in backups.iterdir())
    new = [n for n in names if n.startswith("khidmat-2026-11-25-")]
    assert len(new) == 2, names
    kept = ["khidmat-2026-10-05-030000.db.gz", "khidmat-2026-11-01-030000.db.gz", "khidmat-2026-11-24-030000.db.gz"]
    assert sorted(set(names) - set(new)) == [*kept, "notes.txt"]
    for name in new:
        assert backup.verify(backups / name).version == len(migrations.STEPS)
    age = next(line for line in k.http.get(f"{k.url}/metrics").text.splitlines() if line.startswith("khidmat_backup_"))
    assert 0 <= float(age.split()[1]) < 60
    assert not Outbox.select().where(Outbox.purpose == "backup").exists(), "a good backup tells nobody"


def test_a_failed_backup_and_a_full_disk_reach_the_group_and_the_owners(make_khidmat, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    k = make_khidmat(**{"backup.dir": str(blocker / "backups"), "telegram.owner_ids": [OWNER]})
    report = scheduler.run("backup", on_demand=True)
    assert report.startswith("backup FAILED")
    failed = k.wait_group(lambda t: "The backup of the shop's data failed" in t)[0]["text"]
    assert str(blocker) in failed and "flask --app webhook db backup" in failed
    owner = k.wait_chat(OWNER, lambda t: "was not backed up" in t)[0]["text"]
    assert "older copies" in owner
    assert "khidmat_backup_age_seconds +Inf" in k.http.get(f"{k.url}/metrics").text


def test_a_backup_disk_short_of_min_free_mb_is_told(make_khidmat, tmp_path):
    k = make_khidmat(
        **{"backup.dir": str(tmp_path / "backups"), "backup.min_free_mb": 10**9, "telegram.owner_ids": [OWNER]}
    )
    report = scheduler.run("backup", on_demand=True)
    assert report.startswith("backup ") and "FAILED" not in report
    low = k.wait_group(lambda t: "The backup disk is filling up" in t)[0]["text"]
    assert str(tmp_path / "backups") in low and "at least 1000000000 MB" in low
    k.wait_chat(OWNER, lambda t: "nearly full" in t)


def test_backup_command_says_clearly_when_it_cannot(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    failed = flask(base_env(f"sqlite:///{tmp_path}/khidmat.db"), "db", "backup", str(blocker / "copies"))
    assert failed.returncode != 0 and f"no backup made: cannot create {blocker / 'copies'}" in failed.stderr


def test_backup_on_postgresql_without_pg_dump_says_what_to_install(pg_url, tmp_path):
    env = base_env(pg_url)
    env["PATH"] = str(tmp_path)  # python and flask are found by path below; pg_dump is not on this PATH
    failed = flask(env, "db", "backup", str(tmp_path / "copies"))
    assert failed.returncode != 0, failed.stdout
    assert "pg_dump is not on PATH: install the PostgreSQL client tools" in failed.stderr
