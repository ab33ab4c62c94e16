"""Storage: peewee models, the connection (SQLite by default, PostgreSQL by URL) and migrations."""

from db.connection import close, connect, database, write  # noqa: F401
