"""The shop's API: its own system pushes orders and delays (JSON over HTTPS).

Authorization: Bearer <api.token> (env BOT_API_TOKEN), compared in constant time; a wrong or missing token
gets 401 and changes nothing; while api.token is empty the API is off (403). Invalid data gets 400 with
{"errors": {field: message}}. The rules live in handlers/features/orders.py and handlers/features/delays.py;
this module only parses and answers.

    POST  /api/orders               create or update an order (201 created, 200 updated or unchanged)
    GET   /api/orders/<ref>         the order
    PATCH /api/orders/<ref>         change some fields (404 for an unknown ref)
    POST  /api/orders/<ref>/delay   {"until": "YYYY-MM-DD", "reason": "…"}: mark delayed, tell the customer
    POST  /api/coupons/<code>/redeem  optional {"till": "…"}: 200 with the coupon's value, redeemed now (once, even
                                    when two tills send it at once); 404 unknown code; 409 already redeemed or expired
"""

from __future__ import annotations

import hmac
import logging

from flask import Blueprint, current_app, jsonify, request

import config
import db
from db.models import Order
from handlers.features import coupons, delays, orders
from handlers.features.orderdata import Invalid, clean_ref

log = logging.getLogger("khidmat.api")
api = Blueprint("api", __name__, url_prefix="/api")


@api.before_request
def authorize():
    token = config.api(current_app.config["KHIDMAT"]).token
    if not token:
        return jsonify(error="the API is off: set api.token (BOT_API_TOKEN)"), 403
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        log.warning("api %s %s refused: wrong or missing token", request.method, request.path)
        return jsonify(error="unauthorized"), 401, {"WWW-Authenticate": 'Bearer realm="khidmat"'}
    return None


def _body():
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Invalid({"body": "a JSON object is required"})
    return data


def _bad(exc: Invalid):
    return jsonify(errors=exc.errors), 400


def _not_found(ref: str):
    return jsonify(errors={"order_ref": f"no order {clean_ref(ref)[:64]}"}), 404


@api.post("/orders")
def create_or_update():
    try:
        with db.write():
            order, outcome = orders.save(_body())
            body = {"outcome": outcome, "order": orders.as_dict(order)}
    except Invalid as exc:
        return _bad(exc)
    return jsonify(body), 201 if outcome == "created" else 200


@api.get("/orders/<ref>")
def show(ref):
    order = Order.get_or_none(Order.ref == clean_ref(ref))
    if order is None:
        return _not_found(ref)
    return jsonify(order=orders.as_dict(order))


@api.patch("/orders/<ref>")
def change(ref):
    try:
        with db.write():
            order, outcome = orders.patch(ref, _body())
            body = {"outcome": outcome, "order": orders.as_dict(order)}
    except orders.NotFound:
        return _not_found(ref)
    except Invalid as exc:
        return _bad(exc)
    return jsonify(body)


@api.post("/orders/<ref>/delay")
def delay(ref):
    try:
        with db.write():
            data = _body()
            order, notice = delays.delay(ref, str(data.get("until") or ""), str(data.get("reason") or ""))
            body = {
                "notice": notice.outcome,
                "channel": notice.channel,
                "coupon": notice.coupon,
                "order": orders.as_dict(order),
            }
    except orders.NotFound:
        return _not_found(ref)
    except Invalid as exc:
        return _bad(exc)
    return jsonify(body)


@api.post("/coupons/<code>/redeem")
def redeem(code):
    data = request.get_json(silent=True)
    till = data.get("till") if isinstance(data, dict) else None
    if till is not None and not isinstance(till, str):
        return _bad(Invalid({"till": "must be text"}))
    with db.write():
        done = coupons.redeem(code, till or "")
        body = {"outcome": done.outcome, "coupon": coupons.as_dict(done.coupon) if done.coupon else None}
    if done.outcome == coupons.UNKNOWN:
        return jsonify(outcome=done.outcome, errors={"code": f"no coupon {coupons.clean_code(code) or code[:32]}"}), 404
    return jsonify(body), 200 if done.outcome == coupons.REDEEMED else 409
