"""The Flask application: settings, the database connection, the blueprints, the error answers and the
`flask` commands of the web side. Logging and the scheduler's commands are wired by webhook.py, the entry point."""

from __future__ import annotations

import logging

from flask import Flask, current_app, jsonify, request
from peewee import DatabaseError, InterfaceError, OperationalError

import config
import db
from db import migrations
from web import cli, dashboard, data_cli, health, media, webhooks
from web.api import api
from web.dashboard import cli as dashboard_cli

log = logging.getLogger("khidmat.web")


def create_app(settings: config.Settings) -> Flask:
    """The app for already activated settings: connected to the database, its schema upgraded."""
    app = Flask(__name__, root_path=str(config.ROOT))  # static/ and templates/ at the top of the project
    app.config["KHIDMAT"] = settings
    # bodies over the cap get 413 (_too_large): werkzeug refuses a declared Content-Length over it before reading
    # a byte, and cuts a body sent without one (chunked) off as it passes the cap; waitress does the same itself
    app.config["MAX_CONTENT_LENGTH"] = config.app(settings).max_body_bytes
    db.connect(config.database(settings).url)
    migrations.upgrade()
    for blueprint in (webhooks.routes, health.routes, media.routes, api, dashboard.blueprint):
        app.register_blueprint(blueprint)
    for command in (*cli.COMMANDS, dashboard_cli.command):
        app.cli.add_command(command)
    data_cli.register(app.cli, cli.db_command)  # db backup, db restore; customers export|forget
    app.teardown_request(_release_connection)
    app.register_error_handler(413, _too_large)
    app.register_error_handler(DatabaseError, _database_away)
    # InterfaceError is not a DatabaseError in peewee: "connection already closed" (a database restart)
    app.register_error_handler(InterfaceError, _database_away)
    return app


def _release_connection(exc):
    if isinstance(exc, (OperationalError, InterfaceError)):
        db.close()
    else:
        db.connection.release()


def _too_large(_exc):
    """werkzeug's answer when a body passes MAX_CONTENT_LENGTH: by its declared length, before it is read."""
    log.warning("%s refused: body over app.max_body_bytes (%d)", request.path, current_app.config["MAX_CONTENT_LENGTH"])
    return jsonify(error="request body too large"), 413


def _database_away(exc):
    log.error("database unavailable: %r", exc)
    db.close()  # the next request reconnects
    return jsonify(error="database unavailable"), 503
