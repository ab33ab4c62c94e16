"""Serving the app with waitress, as `python webhook.py` does (production runs gunicorn instead; see Procfile)."""

from __future__ import annotations

import waitress
from flask import Flask

import config


def serve(app: Flask, settings: config.Settings, host: str, port: int) -> None:
    """Serve until the process is stopped."""
    waitress.serve(
        app,
        host=host,
        port=port,
        threads=config.app(settings).threads,
        connection_limit=1000,
        max_request_body_size=config.app(settings).max_body_bytes,  # waitress refuses larger bodies itself
        channel_timeout=30,
        ident="khidmat",
    )
