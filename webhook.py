"""Khidmat's web entry point: `webhook:create_app()` (what gunicorn runs), `flask --app webhook …` (the commands),
and `python webhook.py`, which runs everything in one process: the web server, the sender and the scheduler.

It only wires: the settings, logging, the app from web/, the scheduler's `jobs` command from runtime/."""

from __future__ import annotations

import argparse
import logging

import config
import db
import runtime
from runtime import cli as runtime_cli
from runtime import logs
from web import app as web_app
from web import server

log = logging.getLogger("khidmat.web")


def create_app(settings: config.Settings | None = None):
    settings = config.activate(settings or config.load_or_exit())
    logs.setup(settings)
    app = web_app.create_app(settings)
    app.cli.add_command(runtime_cli.jobs_command)
    return app


def main(argv=None) -> None:
    settings = config.load_or_exit()
    parser = argparse.ArgumentParser(description="Run Khidmat in one process: webhooks, sender, scheduler.")
    parser.add_argument("--host", default=config.app(settings).host)
    parser.add_argument("--port", type=int, default=config.app(settings).port)
    args = parser.parse_args(argv)
    app = create_app(settings)
    log.info("database: %s", db.connection.describe(config.database(settings).url))
    runtime.describe_channels(settings)
    stop = runtime.start_background(settings)
    log.info("listening on http://%s:%d", args.host, args.port)
    try:
        server.serve(app, settings, args.host, args.port)
    finally:
        stop()


if __name__ == "__main__":
    main()
