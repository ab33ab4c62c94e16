"""Copies of the database: make one while the bot runs, check one, restore one, and which old ones to keep.

- SQLite: `VACUUM INTO` a fresh file (one read transaction: a consistent copy while others keep writing; never a
  plain copy of a file in WAL mode), gzip-compressed: `khidmat-YYYY-MM-DD-HHMMSS.db.gz`.
- PostgreSQL: `pg_dump --format=custom` (compressed) of the schema in use: `khidmat-YYYY-MM-DD-HHMMSS.pgdump`.
A copy is checked before it is trusted (whole file readable, SQLite's integrity check, the schema version it
holds) and restored only into a database no other Khidmat process uses (db/inuse.py). An older copy is upgraded
after the restore, as at any start; a newer one is refused.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlparse

from db import connection, inuse, migrations, models, triggers

SQLITE, POSTGRESQL = "sqlite", "postgresql"
SUFFIX = {SQLITE: ".db.gz", POSTGRESQL: ".pgdump"}
NAME = re.compile(r"khidmat-(\d{4}-\d{2}-\d{2}-\d{6})(?:-\d+)?(\.db\.gz|\.pgdump)")
STAMP = "%Y-%m-%d-%H%M%S"
INSTALL_CLIENT = "install the PostgreSQL client tools (Debian/Ubuntu: apt install postgresql-client)"


class BackupError(Exception):
    """Why a copy could not be made, checked or restored, in words for the person running the command."""


@dataclass(frozen=True)
class Copy:
    path: Path
    kind: str  # sqlite / postgresql
    version: int  # the schema version it holds
    size: int  # bytes on disk
    schema: str | None = None  # PostgreSQL: the schema it holds
    tables: tuple[str, ...] = ()  # PostgreSQL: the tables it holds


# ---- names and what to keep --------------------------------------------------------------------------------
def file_name(kind: str, stamp: dt.datetime) -> str:
    return f"khidmat-{stamp.strftime(STAMP)}{SUFFIX[kind]}"


def taken_at(name: str) -> dt.datetime | None:
    """When the copy with this file name was made (the shop's time), None for a file that is not one of ours."""
    found = NAME.fullmatch(name)
    return dt.datetime.strptime(found.group(1), STAMP) if found else None


def copies(directory: Path) -> list[Path]:
    """Our copies in a directory, oldest first."""
    if not directory.is_dir():
        return []
    found = [(taken_at(p.name), p) for p in directory.iterdir() if p.is_file()]
    return [p for when, p in sorted((w, p) for w, p in found if w is not None)]


def to_delete(names: list[str], today: dt.date, keep_days: int, keep_months: int) -> list[str]:
    """Which of these copies retention lets go: it keeps every copy of the last keep_days days (today included)
    and the first copy of each of the last keep_months months (this one included). Other files are never named."""
    dated = sorted((when, name) for name in names if (when := taken_at(name)) is not None)
    first_of_month: dict[tuple[int, int], str] = {}
    for when, name in dated:
        first_of_month.setdefault((when.year, when.month), name)
    this_month = today.year * 12 + today.month
    keep = {name for when, name in dated if (today - when.date()).days < keep_days}
    keep |= {name for (year, month), name in first_of_month.items() if this_month - (year * 12 + month) < keep_months}
    return [name for _, name in dated if name not in keep]


def free_mb(directory: Path) -> int:
    """Free space on the disk holding this directory (or its nearest existing parent), in MiB."""
    probe = directory
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return shutil.disk_usage(probe).free // 2**20


# ---- making a copy -----------------------------------------------------------------------------------------
def make(url: str, target: Path, stamp: dt.datetime) -> Copy:
    """A checked copy of the database at url: into the directory `target` (named by stamp), or the file `target`."""
    kind = SQLITE if url.startswith("sqlite") else POSTGRESQL
    path = target / file_name(kind, stamp) if target.is_dir() or not target.suffix else target
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"cannot create {path.parent}: {exc.strerror}") from None
    path = _unused(path)
    part = path.with_name(f".{path.name}.part")
    try:
        if kind == SQLITE:
            _sqlite_copy(part)
        else:
            _pg_dump(url, part)
        os.replace(part, path)
    except OSError as exc:
        raise BackupError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
    return inspect(path)


def _unused(path: Path) -> Path:
    """Two copies in the same second do not overwrite each other."""
    if not path.exists():
        return path
    stem = path.name.removesuffix("".join(path.suffixes))
    suffix = "".join(path.suffixes)
    number = 2
    while (candidate := path.with_name(f"{stem}-{number}{suffix}")).exists():
        number += 1
    return candidate


def _sqlite_copy(part: Path) -> None:
    raw = part.with_name(part.name + ".raw")
    try:
        source = sqlite3.connect(connection.sqlite_path(), timeout=30)
        try:
            source.execute("VACUUM INTO ?", (str(raw),))
        except sqlite3.Error as exc:
            raise BackupError(f"SQLite could not copy the database: {exc}") from None
        finally:
            source.close()
        with open(raw, "rb") as src, gzip.open(part, "wb", compresslevel=6) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    finally:
        with contextlib.suppress(FileNotFoundError):
            raw.unlink()


def _client(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} is not on PATH: {INSTALL_CLIENT}")
    return found


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The URL as libpq takes it (without our own options such as pool=, without the password) and the
    environment that carries the password (never on a command line, where `ps` shows it)."""
    parsed = urlparse(url)
    query = urlencode([(k, v) for k, v in parse_qsl(parsed.query) if k != "pool"])
    netloc = parsed.hostname or ""
    if parsed.username:
        netloc = f"{parsed.username}@{netloc}"
    if parsed.port:
        netloc += f":{parsed.port}"
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = unquote(parsed.password)
    return parsed._replace(scheme="postgresql", netloc=netloc, query=query).geturl(), env


def current_schema() -> str:
    return connection.database.execute_sql("SELECT current_schema()").fetchone()[0]


def _run(command: list[str], env: dict[str, str] | None = None, stdin: str | None = None):
    return subprocess.run(command, env=env, input=stdin, capture_output=True, text=True, check=False)


def _last_line(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


def _pg_dump(url: str, part: Path) -> None:
    dump = _client("pg_dump")
    target, env = _libpq(url)
    schema = current_schema()
    command = [dump, "--format=custom", "--no-owner", "--no-privileges", f"--schema={schema}", f"--file={part}"]
    done = _run([*command, f"--dbname={target}"], env)
    if done.returncode:
        raise BackupError(f"pg_dump failed: {_last_line(done.stderr)}")


# ---- checking a copy ---------------------------------------------------------------------------------------
def inspect(path: Path, unpack_to: Path | None = None) -> Copy:
    """The copy at path, checked: readable to its end and intact. A SQLite copy is unpacked into the file
    unpack_to when given (a restore then moves it in place)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(5)
        size = path.stat().st_size
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror}") from None
    if head[:2] == b"\x1f\x8b":
        return _verify_sqlite(path, size, unpack_to)
    if head == b"PGDMP":
        return _verify_pg(path, size)
    raise BackupError(f"{path} is not a Khidmat backup (neither a gzip'd SQLite copy nor a pg_dump archive)")


def verify(path: Path, unpack_to: Path | None = None) -> Copy:
    """inspect(), and the copy's schema is one this Khidmat knows (the same version or older)."""
    copy = inspect(path, unpack_to)
    newest = len(migrations.STEPS)
    if copy.version > newest:
        raise BackupError(
            f"{path} holds schema version {copy.version}, newer than this Khidmat knows ({newest}): "
            "restore it with the Khidmat release that made it"
        )
    return copy


def _verify_sqlite(path: Path, size: int, unpack_to: Path | None) -> Copy:
    with tempfile.TemporaryDirectory(dir=unpack_to.parent if unpack_to else None) as scratch:
        raw = Path(scratch) / "copy.db"
        try:
            with gzip.open(path, "rb") as src, open(raw, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise BackupError(f"{path} is damaged (truncated or corrupt): {exc}") from None
        except OSError as exc:
            raise BackupError(f"cannot unpack {path}: {exc.strerror or exc}") from None
        version = _sqlite_version(path, raw)
        if unpack_to is not None:
            os.replace(raw, unpack_to)
    return Copy(path, SQLITE, version, size)


def _sqlite_version(path: Path, raw: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{raw}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"{path} cannot be opened as a database: {exc}") from None
    try:
        check = conn.execute("PRAGMA integrity_check").fetchall()
        if check != [("ok",)]:
            raise BackupError(f"{path} failed SQLite's integrity check: {check[0][0]}")
        return int(conn.execute("SELECT max(version) FROM schema_version").fetchone()[0] or 0)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a Khidmat database: {exc}") from None
    finally:
        conn.close()


def _verify_pg(path: Path, size: int) -> Copy:
    restore = _client("pg_restore")
    listing = _run([restore, "--list", str(path)])
    whole = _run([restore, "--file=/dev/null", str(path)]) if not listing.returncode else listing
    if whole.returncode:
        raise BackupError(f"{path} is damaged (truncated or corrupt): {_last_line(whole.stderr)}")
    tables = re.findall(r"^\d+; \d+ \d+ TABLE (?!DATA )(\S+) (\S+) ", listing.stdout, re.M)
    schemas = {schema for schema, _ in tables}
    if len(schemas) != 1:
        raise BackupError(f"{path} is not a Khidmat backup (tables in {len(schemas)} schemas)")
    data = _run([restore, "--data-only", "--table=schema_version", "--file=-", str(path)])
    version = _copied_version(path, data.stdout)
    return Copy(path, POSTGRESQL, version, size, schema=schemas.pop(), tables=tuple(name for _, name in tables))


def _copied_version(path: Path, script: str) -> int:
    """The highest version in schema_version's COPY block of a pg_restore script."""
    header = re.search(r"^COPY \S+ \(([^)]*)\) FROM stdin;\n(.*?)^\\\.$", script, re.M | re.S)
    if not header:
        raise BackupError(f"{path} is not a Khidmat backup (no schema_version table)")
    column = [c.strip().strip('"') for c in header.group(1).split(",")].index("version")
    rows = [line.split("\t") for line in header.group(2).splitlines() if line]
    return max((int(row[column]) for row in rows), default=0)


# ---- restoring a copy --------------------------------------------------------------------------------------
def restore(path: Path, url: str, first: Callable[[], object] = lambda: None) -> tuple[Copy, int]:
    """Put the copy at path in place of the database at url (no other Khidmat process may use it), then upgrade
    it to this release's schema. Returns the copy and the schema version now. first() runs once every check has
    passed, just before the database is replaced (a copy of it as it is); a BackupError from it stops the
    restore. Nothing changes when it refuses."""
    if url.startswith("sqlite"):
        return _restore_sqlite(path, first)
    return _restore_pg(path, url, first)


def _restore_sqlite(path: Path, first: Callable[[], object]) -> tuple[Copy, int]:
    target = Path(connection.sqlite_path())
    unpacked = target.with_name(f".{target.name}.restoring")
    try:
        copy = verify(path, unpack_to=unpacked)
        if copy.kind != SQLITE:
            raise BackupError(f"{path} is a PostgreSQL backup; this Khidmat runs on SQLite ({target})")
        if not inuse.alone(str(target)):
            raise BackupError(
                f"a Khidmat process is running on {target}: stop the bot (and any other command on it), then restore"
            )
        try:
            first()
            connection.close_all()
            for leftover in (Path(f"{target}-wal"), Path(f"{target}-shm")):
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()  # an old write-ahead log must not be replayed onto the restored copy
            os.replace(unpacked, target)
            version = migrations.upgrade()
        finally:
            inuse.share(str(target))
    finally:
        with contextlib.suppress(FileNotFoundError):
            unpacked.unlink()
    return copy, version


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _pg_script(path: Path) -> str:
    """The copy as SQL without its CREATE SCHEMA (the schema exists: only its tables are replaced)."""
    restore = _client("pg_restore")
    listing = _run([restore, "--list", str(path)]).stdout
    schema_entry = re.compile(r"\d+; \d+ \d+ (SCHEMA|COMMENT) - ")
    wanted = "".join(line + "\n" for line in listing.splitlines() if not schema_entry.match(line))
    with tempfile.NamedTemporaryFile("w", suffix=".list") as chosen:
        chosen.write(wanted)
        chosen.flush()
        script = _run([restore, "--no-owner", "--no-privileges", f"--use-list={chosen.name}", "--file=-", str(path)])
    if script.returncode:
        raise BackupError(f"pg_restore could not read {path}: {_last_line(script.stderr)}")
    return script.stdout


def _pg_others() -> list[str]:
    sql, params = inuse.others_sql()
    rows = connection.database.execute_sql(sql, params).fetchall()
    return sorted({f"{name} from {host}" for name, host in rows})


def _restore_pg(path: Path, url: str, first: Callable[[], object]) -> tuple[Copy, int]:
    copy = verify(path)
    if copy.kind != POSTGRESQL:
        raise BackupError(f"{path} is a SQLite backup; this Khidmat runs on PostgreSQL")
    others = _pg_others()
    if others:
        raise BackupError(
            f"Khidmat is running on this database ({', '.join(others)}): stop the bot and the workers, then restore"
        )
    schema = current_schema()
    if copy.schema != schema:
        raise BackupError(f"{path} holds the schema {copy.schema!r}; this database uses {schema!r}")
    script = _pg_script(path)
    first()
    connection.close_all()
    target, env = _libpq(url)
    tables = sorted({*copy.tables, *(m._meta.table_name for m in models.ALL)})
    drop = "".join(f"DROP TABLE IF EXISTS {_quoted(schema)}.{_quoted(t)} CASCADE;\n" for t in tables)
    drop += f"DROP FUNCTION IF EXISTS {_quoted(schema)}.{triggers.PG_FUNCTION}() CASCADE;\n"  # the copy has its own
    # one transaction: Khidmat's tables (and its triggers' function) are dropped and made again from the copy, or
    # nothing changes; the schema itself and anything else in it stay
    psql = [_client("psql"), "--no-psqlrc", "--quiet", "--single-transaction", "-v", "ON_ERROR_STOP=1"]
    done = _run([*psql, f"--dbname={target}"], env, stdin=drop + script)
    if done.returncode:
        raise BackupError(f"the restore failed and changed nothing: {_last_line(done.stderr)}")
    return copy, migrations.upgrade()
