"""The owners' web dashboard, a Flask blueprint: routes only (parse, call, render). Who gets in is decided in
handlers/features/dashboard.py, the numbers in handlers/features/reports/, the words and pages are in
templates/<lang>/dashboard/, the style in web/dashboard/static/."""

from __future__ import annotations

from flask import Blueprint

from handlers.core import texts
from web.dashboard import auth, pages

blueprint = Blueprint(
    "dashboard",
    __name__,
    template_folder=str(texts.TEMPLATES),
    static_folder="static",
    static_url_path="/dashboard/static",
)
auth.register(blueprint)
pages.register(blueprint)
