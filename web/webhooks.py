"""The platforms' webhooks: Telegram's updates and Twilio's inbound messages and status callbacks.

Each is verified first (Telegram's secret token, Twilio's signature; 403 and no effect otherwise), then stored in
the inbox as it came and acknowledged at once; the inbox processor does the rest. A malformed one is logged and
acknowledged, so the platform does not retry it forever."""

from __future__ import annotations

import functools
import json
import logging

from flask import Blueprint, Response, jsonify, request

import config
import db
from bots import telegram as tg
from bots import twilio as tw
from handlers.features import delivery
from inbox import store
from web import settings as web_settings

log = logging.getLogger("khidmat.web")
routes = Blueprint("webhooks", __name__)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
OK_JSON = '{"ok":true}\n'


@routes.post("/telegram/webhook")
def telegram_webhook():
    settings = web_settings.current()
    if not tg.verify_secret(
        config.telegram(settings).webhook_secret, request.headers.get("X-Telegram-Bot-Api-Secret-Token")
    ):
        log.warning("telegram webhook refused: wrong or missing secret token")
        return jsonify(error="forbidden"), 403
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # JSON nested deeper than Python parses (silent=True only covers ValueError)
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int) or abs(data["update_id"]) >= 2**63:
        log.warning("malformed telegram update acknowledged and dropped (no usable update_id)")
        return jsonify(ok=True)
    store.store("telegram", str(data["update_id"]), _storable(data))
    return Response(OK_JSON, mimetype="application/json")


def _storable(data: dict) -> str:
    """The update as JSON text, with lone UTF-16 surrogates (JSON may escape them, "\\ud800"; no database
    stores them as text) replaced by U+FFFD, so that one odd character cannot turn the whole update into a 500."""
    text = json.dumps(data, ensure_ascii=False)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        log.warning("telegram update %s carried lone surrogates: replaced", data["update_id"])
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def twilio_signed(view):
    """Refuse (403, no effect) a Twilio webhook whose X-Twilio-Signature does not match
    app.public_url + the path: the URL Twilio was given, not request.url (a proxy rewrites that)."""

    @functools.wraps(view)
    def checked():
        settings = web_settings.current()
        url = config.app(settings).public_url.rstrip("/") + request.path
        if request.query_string:
            url += "?" + request.query_string.decode()
        if not tw.verify_signature(
            config.twilio(settings).auth_token, url, request.form, request.headers.get("X-Twilio-Signature", "")
        ):
            log.warning("twilio %s refused: bad or missing signature", request.path)
            return Response("forbidden", status=403)
        return view()

    return checked


@routes.post("/twilio/inbound")
@twilio_signed
def twilio_inbound():
    sid = tw.inbound_sid(request.form)
    if not tw.plausible_sid(sid) or not request.form.get("From"):
        log.warning("malformed twilio inbound acknowledged and dropped (no usable message id, or no From)")
        return Response(EMPTY_TWIML, mimetype="text/xml")
    store.store("twilio", sid, request.form.to_dict(flat=True))
    return Response(EMPTY_TWIML, mimetype="text/xml")


@routes.post("/twilio/status")
@twilio_signed
def twilio_status():
    try:
        update = tw.parse_status(request.form)
    except Exception as exc:
        log.warning("malformed twilio status callback dropped: %r", exc)
        return Response(status=204)
    with db.write():
        delivery.status_callback(update.message_sid, update.status, update.error_code, update.failure)
    return Response(status=204)
