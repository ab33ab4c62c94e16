"""Who gets into the owners' web dashboard, and how: single-use login links, sessions, the forms' CSRF tokens.

- An owner (telegram.owner_ids) sends /dashboard in a private chat and gets a link,
  `{app.public_url}/dashboard/login/<token>`, sent with link previews off. `flask --app webhook dashboard link
  OWNER_ID` prints the same kind of link.
- A token is signed (itsdangerous, with `key()`), names the owner, a random nonce and its expiry
  (dashboard.link_minutes from now). Opening it only shows a page with a "Log in" button: messengers and
  safe-browsing checks fetch links. The button's POST uses it (`use_link`): the nonce is written to
  dashboard_link, unique, so a link logs in once, even when two requests race.
- A session is a random token in an HttpOnly cookie; the database keeps its SHA-256 (`DashboardSession`), so a
  logout ends it everywhere and a stolen database holds no usable cookie. It lasts dashboard.session_days, and
  only while its owner is still in telegram.owner_ids.
- Forms carry `csrf_token(secret)`, an HMAC of the session's token (or of the login page's own cookie).
Tokens, nonces and keys are never logged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets

from itsdangerous import BadSignature, URLSafeSerializer
from peewee import IntegrityError

import config
import outbox
from bots.base import TELEGRAM, Inbound
from db.models import Customer, DashboardLink, DashboardSession
from handlers.core import clock, commands, keys, team, texts

log = logging.getLogger(__name__)

COMMAND = "dashboard"
LINK_SALT = "khidmat dashboard login"
# why a link or a session is refused; each has its words in templates/<lang>/dashboard/words.toml
FORGED, EXPIRED, USED, NOT_OWNER, OFF = "forged", "expired", "used", "not_owner", "off"


class Refused(Exception):
    """A login link that does not let anyone in: `reason` is one of FORGED, EXPIRED, USED, NOT_OWNER, OFF."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def key(settings=None) -> bytes:
    """dashboard.secret_key, or one derived from the shop's other secrets; empty: the dashboard is off."""
    return keys.signing_key(config.dashboard(settings).secret_key, b"khidmat dashboard", settings)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(key(), salt=LINK_SALT)


def _epoch(moment: dt.datetime) -> int:
    return int(moment.replace(tzinfo=dt.UTC).timestamp())


# ---- links --------------------------------------------------------------------------------------------------
def make_link(owner_id: int) -> str:
    """A login link for this owner, valid dashboard.link_minutes, once. Refused(NOT_OWNER / OFF) otherwise."""
    if not team.is_owner(owner_id):
        raise Refused(NOT_OWNER)
    if not key():
        raise Refused(OFF)
    expires = clock.now() + dt.timedelta(minutes=config.dashboard().link_minutes)
    token = _serializer().dumps({"o": int(owner_id), "n": secrets.token_urlsafe(16), "e": _epoch(expires)})
    return f"{config.app().public_url.rstrip('/')}/dashboard/login/{token}"


def check_link(token: str) -> tuple[int, str]:
    """The owner and nonce of a link that would log in now (nothing is used up); Refused otherwise."""
    if not key():
        raise Refused(OFF)
    try:
        data = _serializer().loads(token)
        owner_id, nonce, expires = int(data["o"]), str(data["n"]), int(data["e"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise Refused(FORGED) from None
    if _epoch(clock.now()) >= expires:
        raise Refused(EXPIRED)
    if not team.is_owner(owner_id):
        raise Refused(NOT_OWNER)
    if DashboardLink.select().where(DashboardLink.nonce == nonce).exists():
        raise Refused(USED)
    return owner_id, nonce


def use_link(token: str) -> int:
    """Use the link up (call inside a write transaction): the owner it logs in; Refused when it may not."""
    owner_id, nonce = check_link(token)
    try:
        with DashboardLink._meta.database.atomic():
            DashboardLink.create(nonce=nonce, owner_id=owner_id, used_at=clock.now())
    except IntegrityError:  # the same link used a moment ago by another request
        raise Refused(USED) from None
    log.info("dashboard: owner %s logged in by a link", owner_id)
    return owner_id


# ---- sessions -----------------------------------------------------------------------------------------------
def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(owner_id: int) -> str:
    """A new session's cookie value (call inside a write transaction); its language is app.default_language."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    DashboardSession.create(
        token_hash=_hash(token),
        owner_id=owner_id,
        language=config.app().default_language,
        created_at=now,
        expires_at=now + dt.timedelta(days=config.dashboard().session_days),
    )
    return token


def session_of(token: str | None) -> DashboardSession | None:
    """The live session behind a cookie: not expired, not logged out, its owner still an owner."""
    if not token:
        return None
    row = DashboardSession.get_or_none(DashboardSession.token_hash == _hash(token))
    if row is None or row.expires_at <= clock.now() or not team.is_owner(row.owner_id):
        return None
    return row


def close_session(token: str | None) -> None:
    """Log out (inside a write transaction): the cookie no longer opens anything, anywhere."""
    if token:
        DashboardSession.delete().where(DashboardSession.token_hash == _hash(token)).execute()


def set_language(session: DashboardSession, language: str) -> None:
    """The owner's choice of language for the pages (inside a write transaction); others are ignored."""
    if language in texts.LANGUAGES:
        DashboardSession.update(language=language).where(DashboardSession.id == session.id).execute()


def max_age_s() -> int:
    """How long the session cookie is kept by the browser."""
    return int(config.dashboard().session_days * 86400)


# ---- forms --------------------------------------------------------------------------------------------------
def csrf_token(secret: str) -> str:
    """The token a form must carry: bound to the session's (or the login page's) cookie."""
    return hmac.new(key(), b"csrf\n" + secret.encode(), hashlib.sha256).hexdigest()


def csrf_ok(secret: str | None, given: str | None) -> bool:
    return bool(secret and given and key()) and hmac.compare_digest(csrf_token(secret or ""), given or "")


# ---- /dashboard in a private chat ---------------------------------------------------------------------------
def takes_private(inbound: Inbound) -> bool:
    """Is this /dashboard, typed in a private Telegram chat (by an owner, or by someone to be refused)?"""
    if inbound.channel != TELEGRAM or inbound.is_group or inbound.kind != "command":
        return False
    return commands.parse(inbound.text)[0] == COMMAND


def on_private(inbound: Inbound) -> None:
    """Send an owner their login link (no link preview); tell anyone else the dashboard is for the owners."""
    customer = Customer.get_or_none(telegram_user_id=int(inbound.user_id or 0))
    lang = texts.detect_language(inbound.text, inbound.language_code, customer.language if customer else None)
    try:
        link = make_link(int(inbound.user_id or 0))
    except Refused as exc:
        name = "dashboard_off" if exc.reason == OFF else "dashboard_not_owner"
        outbox.enqueue(
            TELEGRAM, inbound.chat_id, purpose="owner", text=texts.render(lang, name), priority=outbox.PRIORITY_CUSTOMER
        )
        log.info("dashboard: /dashboard refused (%s) for user %s", exc.reason, inbound.user_id)
        return
    text = texts.render(lang, "dashboard_link", url=link, minutes=int(config.dashboard().link_minutes))
    outbox.enqueue(
        TELEGRAM, inbound.chat_id, purpose="owner", text=text, no_preview=True, priority=outbox.PRIORITY_CUSTOMER
    )
    log.info("dashboard: login link sent to owner %s", inbound.user_id)
