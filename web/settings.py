"""The running app's settings, for the blueprints (create_app puts them in the app's config)."""

from __future__ import annotations

from flask import current_app

import config


def current() -> config.Settings:
    return current_app.config["KHIDMAT"]
