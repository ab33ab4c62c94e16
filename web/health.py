"""What a monitor reads: /healthz (the database answers; the outbox backlog) and /metrics (Prometheus text)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

import db
from handlers.features import metrics as numbers
from sender.loop import backlog

routes = Blueprint("health", __name__)


@routes.get("/metrics")
def metrics():
    return Response(numbers.render(), mimetype="text/plain; version=0.0.4")


@routes.get("/healthz")
def healthz():
    db.database.execute_sql("SELECT 1")
    return jsonify(ok=True, outbox=backlog())
