"""Getting in and out: the login link's page and its POST, logout, the language switch, the session check
and the CSRF check of every form. The rules are in handlers/features/dashboard.py; this only parses and answers."""

from __future__ import annotations

import functools
import logging
import secrets

from flask import Blueprint, Response, current_app, g, redirect, request

import config
import db
from handlers.features import dashboard
from web.dashboard import view

log = logging.getLogger("khidmat.dashboard")
COOKIE = view.COOKIE
LOGIN_COOKIE = "khidmat_login"  # the login page's own secret, which its form's CSRF token is bound to
NO_SESSION = "no_session"
BAD_FORM = "bad_form"


def _secure() -> bool:
    return config.app(current_app.config["KHIDMAT"]).public_url.lower().startswith("https://")


def load_session() -> None:
    """Before each dashboard request: g.session is the owner's live session, or None."""
    g.session = dashboard.session_of(request.cookies.get(COOKIE))


def owners_only(page):
    """A page for a logged-in owner; anyone else gets the refusal page (403) and no data."""

    @functools.wraps(page)
    def checked(*args, **kwargs):
        if g.session is None:
            return view.refused(NO_SESSION)
        return page(*args, **kwargs)

    return checked


def form_checked(action):
    """A POST whose form carries the CSRF token of the session's cookie (403 otherwise, nothing done)."""

    @functools.wraps(action)
    def checked(*args, **kwargs):
        if g.session is None:
            return view.refused(NO_SESSION)
        if not dashboard.csrf_ok(request.cookies.get(COOKIE), request.form.get("csrf")):
            log.warning(
                "dashboard: %s refused: missing or wrong CSRF token (owner %s)", request.path, g.session.owner_id
            )
            return view.refused(BAD_FORM)
        return action(*args, **kwargs)

    return checked


def login_page(token: str):
    """The link's page: a "Log in" button, nothing used up (messengers and phones fetch links)."""
    try:
        dashboard.check_link(token)
    except dashboard.Refused as exc:
        log.warning("dashboard: login link refused (%s)", exc.reason)
        return view.refused(exc.reason)
    secret = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    response = view.page_response("login", action=request.path, csrf=dashboard.csrf_token(secret))
    response.set_cookie(
        LOGIN_COOKIE,
        secret,
        max_age=int(config.dashboard().link_minutes * 60),
        httponly=True,
        secure=_secure(),
        samesite="Lax",
        path="/dashboard/login/",
    )
    return response


def login(token: str):
    """The button's POST: use the link up, open the session, go to the first page."""
    if not dashboard.csrf_ok(request.cookies.get(LOGIN_COOKIE), request.form.get("csrf")):
        log.warning("dashboard: login refused: missing or wrong CSRF token")
        return view.refused(BAD_FORM)
    try:
        with db.write():
            owner_id = dashboard.use_link(token)
            session = dashboard.open_session(owner_id)
    except dashboard.Refused as exc:
        log.warning("dashboard: login link refused (%s)", exc.reason)
        return view.refused(exc.reason)
    response = redirect("/dashboard/", code=303)
    response.set_cookie(
        COOKIE, session, max_age=dashboard.max_age_s(), httponly=True, secure=_secure(), samesite="Lax", path="/"
    )
    response.delete_cookie(LOGIN_COOKIE, path="/dashboard/login/")
    return response


@form_checked
def logout():
    with db.write():
        dashboard.close_session(request.cookies.get(COOKIE))
    log.info("dashboard: owner %s logged out", g.session.owner_id)
    response = redirect("/?bye=1", code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@form_checked
def language():
    with db.write():
        dashboard.set_language(g.session, request.form.get("language", ""))
    back = request.form.get("next", "")
    return redirect(back if back.startswith("/dashboard/") and "//" not in back else "/dashboard/", code=303)


def guard(response: Response) -> Response:
    """Every dashboard answer: never cached or framed, no Referer (a login link's token is in its URL), no
    script from anywhere."""
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    return response


def register(bp: Blueprint) -> None:
    bp.before_request(load_session)
    bp.after_request(guard)
    bp.add_url_rule("/dashboard/login/<token>", "login_page", login_page, methods=["GET"])
    bp.add_url_rule("/dashboard/login/<token>", "login", login, methods=["POST"])
    bp.add_url_rule("/dashboard/logout", "logout", logout, methods=["POST"])
    bp.add_url_rule("/dashboard/language", "language", language, methods=["POST"])
