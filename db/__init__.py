"""Storage: peewee models, the connection (SQLite by default, PostgreSQL by URL) and migrations."""

from db.connection import database, connect, write, close  # noqa: F401
