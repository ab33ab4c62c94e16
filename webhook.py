"""Khidmat's web side: the Flask app factory, the webhook routes, the `flask --app webhook` commands,
and `python webhook.py`, which runs everything in one process (web server, sender, scheduler)."""

from __future__ import annotations

import argparse
import asyncio
import functools
import io
import json
import logging
import time

import click
from flask import Blueprint, Flask, Response, current_app, jsonify, request, send_file
from peewee import DatabaseError, InterfaceError, OperationalError
from telegram.error import BadRequest

import config
import db
from bots import telegram as tg
from bots import twilio as tw
from db import migrations
from handlers.core import media
from handlers.features import delivery
from inbox import store
from runtime import logs

log = logging.getLogger("khidmat.web")
routes = Blueprint("routes", __name__)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
OK_JSON = '{"ok":true}\n'


def create_app(settings: config.Settings | None = None) -> Flask:
    settings = config.activate(settings or config.load_or_exit())
    logs.setup(settings)
    app = Flask(__name__)
    app.config["KHIDMAT"] = settings
    # bodies over the cap get 413 (_too_large): werkzeug refuses a declared Content-Length over it before reading
    # a byte, and cuts a body sent without one (chunked) off as it passes the cap; waitress does the same in main()
    app.config["MAX_CONTENT_LENGTH"] = config.app(settings).max_body_bytes
    db.connect(config.database(settings).url)
    migrations.upgrade()
    app.register_blueprint(routes)
    from web.api import api

    app.register_blueprint(api)
    app.cli.add_command(set_webhook_command)
    app.cli.add_command(db_command)
    app.cli.add_command(jobs_command)
    app.cli.add_command(broadcast_command)
    app.cli.add_command(faq_command)
    app.cli.add_command(orders_command)
    app.teardown_request(_release_connection)

    app.register_error_handler(413, _too_large)

    @app.errorhandler(DatabaseError)
    @app.errorhandler(InterfaceError)  # not a DatabaseError in peewee: "connection already closed" (restart)
    def database_away(exc):
        log.error("database unavailable: %r", exc)
        db.close()  # the next request reconnects
        return jsonify(error="database unavailable"), 503

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


def _settings() -> config.Settings:
    return current_app.config["KHIDMAT"]


# ---- routes ------------------------------------------------------------------------------------
@routes.post("/telegram/webhook")
def telegram_webhook():
    settings = _settings()
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
        settings = _settings()
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
    sid = request.form.get("MessageSid") or request.form.get("SmsMessageSid")
    if not tw.plausible_sid(sid) or not request.form.get("From"):
        log.warning("malformed twilio inbound acknowledged and dropped (no usable MessageSid, or no From)")
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
        delivery.status_callback(update.message_sid, update.status, update.error_code)
    return Response(status=204)


@routes.get("/metrics")
def metrics():
    from handlers.features import metrics as numbers

    return Response(numbers.render(), mimetype="text/plain; version=0.0.4")


@routes.get("/healthz")
def healthz():
    from sender.loop import backlog

    db.database.execute_sql("SELECT 1")
    return jsonify(ok=True, outbox=backlog())


@routes.get("/media/<token>")
def media_file(token: str):
    """An agent's file behind a signed link (handlers/media.py): fetched from Telegram, served as is."""
    settings = _settings()
    item = media.verify(media.signing_key(settings), token, time.time())
    if item is None:
        log.warning("media link refused: forged or expired")
        return Response("forbidden", status=403)

    async def download():
        bot = tg.TelegramBot(settings)
        try:
            return await bot.download_file(item.file_id)
        finally:
            await bot.close()

    try:
        data = asyncio.run(download())
    except BadRequest as exc:
        log.warning("media link: Telegram has no such file (%s)", exc)
        return Response("not found", status=404)
    except Exception as exc:
        log.warning("media link: download from Telegram failed: %r", exc)
        return Response("bad gateway", status=502)
    response = send_file(
        io.BytesIO(data), mimetype=item.content_type, download_name=item.file_name, etag=False, max_age=0
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# ---- flask commands ----------------------------------------------------------------------------
@click.command("set-webhook")
def set_webhook_command():
    """Register {app.public_url}/telegram/webhook with Telegram, with the secret and our update types."""
    settings = _settings()
    if not config.telegram(settings).token:
        raise click.ClickException("telegram.token is empty: set BOT_TELEGRAM_TOKEN")
    if not config.telegram(settings).webhook_secret:
        raise click.ClickException("telegram.webhook_secret is empty: set BOT_TELEGRAM_WEBHOOK_SECRET")
    url = config.app(settings).public_url.rstrip("/") + "/telegram/webhook"

    async def register():
        bot = tg.TelegramBot(settings)
        try:
            return await bot.set_webhook(url, config.telegram(settings).webhook_secret)
        finally:
            await bot.close()

    ok = asyncio.run(register())
    click.echo(f"webhook set to {url} ({', '.join(tg.ALLOWED_UPDATES)})" if ok else "Telegram refused the webhook")


@click.group("db")
def db_command():
    """Database commands."""


@db_command.command("upgrade")
def db_upgrade():
    """Upgrade the schema to this release's version (also done at every start)."""
    click.echo(f"schema version {migrations.upgrade()}")


@click.group("jobs")
def jobs_command():
    """Scheduled jobs."""


@jobs_command.command("run")
@click.argument("name")
def jobs_run(name):
    """Run one scheduled job now (prune, stuck, sla, opening, broadcasts, greetings — greetings whatever the time)."""
    from runtime import scheduler

    if name not in scheduler.JOBS:
        raise click.ClickException(f"unknown job {name!r}; jobs: {', '.join(scheduler.JOBS)}")
    report = scheduler.run(name, on_demand=True)
    if report:
        click.echo(report)
    click.echo(f"job {name} done")


@click.command("broadcast")
@click.option("--segment", required=True, help="all, channel:whatsapp|sms|telegram, language:ur|en; comma = and")
@click.option("--text", required=True, help="the words customers read (a footer in their language is added)")
@click.option(
    "--kind",
    type=click.Choice(["offer", "notice"]),
    default="offer",
    show_default=True,
    help="offers skip customers who opted out; notices go to everyone",
)
@click.option("--template", default=None, help="WhatsApp Content SID for customers outside the 24-hour window")
@click.option("--at", "at", default=None, help='send later: "YYYY-MM-DD HH:MM" in the shop\'s time zone (app.timezone)')
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
def broadcast_command(segment, text, kind, template, at, yes):
    """Broadcast an offer or a notice to a segment of customers, and watch it go out."""
    from handlers.features import broadcasts

    try:
        when = broadcasts.parse_time(at) if at else None
        b = broadcasts.create(kind, segment, text, template=template, at=when)
        click.echo(broadcasts.describe_plan(b, broadcasts.plan(kind, segment, text, template)))
    except broadcasts.BroadcastError as exc:
        raise click.ClickException(str(exc)) from exc
    if not yes and not click.confirm("Send it?"):
        broadcasts.cancel(b)
        click.echo("cancelled: nothing was sent")
        return
    b = broadcasts.confirm(b)
    if b.status == "scheduled":
        click.echo(
            f"broadcast #{b.id} scheduled for {at} ({b.scheduled_at:%Y-%m-%d %H:%M} UTC); the running bot sends it"
        )
        return
    broadcasts.pump(b.id)
    for line in broadcasts.watch(b.id):
        click.echo(line)


@click.group("orders")
def orders_command():
    """Orders: import a CSV file, mark an order delayed."""


@orders_command.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def orders_import(path):
    """Import or update orders from a CSV file (columns in README: Orders). Prints the summary."""
    from handlers.features import orderdata, orders

    with open(path, "rb") as fh:
        data = fh.read()
    try:
        report = orders.import_csv(data)
    except orderdata.Invalid as exc:
        raise click.ClickException(f"{path}: {'; '.join(exc.errors.values())}") from exc
    click.echo(report.summary(path))


@orders_command.command("delay")
@click.argument("ref")
@click.option("--until", required=True, help="the new expected date, YYYY-MM-DD")
@click.option("--reason", required=True, help="why, in words the customer reads")
def orders_delay(ref, until, reason):
    """Mark an order delayed and tell its customer at once, in their language."""
    from handlers.features import delays, orderdata

    try:
        with db.write():
            order, notice = delays.delay(ref, until, reason)
    except orderdata.NotFound:
        raise click.ClickException(f"no order {ref}") from None
    except orderdata.Invalid as exc:
        raise click.ClickException("; ".join(f"{k}: {v}" if k not in v else v for k, v in exc.errors.items())) from exc
    told = {
        "sent": f"customer told on {notice.channel}",
        "already": "customer already told about this date",
        "no_template": "NOT told: WhatsApp outside the 24-hour window and no template set (agents told)",
        "unreachable": "NOT told: no way to reach the customer (agents told)",
    }[notice.outcome]
    coupon = f"; coupon {notice.coupon}" if notice.coupon else ""
    click.echo(f"order {order.ref} delayed until {order.delayed_until.isoformat()}: {told}{coupon}")


@click.group("faq")
def faq_command():
    """The shop's common questions (templates/<lang>/faq.toml)."""


@faq_command.command("test")
@click.argument("question")
def faq_test(question):
    """Which answer a customer asking QUESTION would get, and how sure the match is."""
    from handlers.features import faq

    try:
        known = faq.load()
    except faq.FaqFileError as exc:
        raise click.ClickException(str(exc)) from exc
    found = faq.match(question, known, score_vetoed=True)
    if found.answered:
        lang = faq.guess_language(question)
        click.echo(
            f"answer: {found.key} (score {found.score:.2f}; next best {found.second or '—'} "
            f"{found.second_score:.2f}) — {lang}:"
        )
        click.echo(known.get(found.key).answer(lang))
        return
    reasons = {
        "complaint": "reads as a complaint: it goes to a person",
        "person": "asks for a person",
        "greeting": "only a greeting: the customer gets the menu",
        "empty": "no meaningful word",
        "too_short": "one word and no question",
        "below_threshold": "below threshold",
        "too_close": f"too close to {found.second} {found.second_score:.2f}",
        "unknown_words": f"the answer explains only {found.coverage:.0%} of the question",
        "partial": f"covers too little of any example ({found.explained:.0%})",
    }
    best = f"best: {found.best} {found.score:.2f}, " if found.best else ""
    then = "" if found.reason == "greeting" else " — a person answers"
    click.echo(f"no answer ({best}{reasons.get(found.reason, found.reason)}){then}")


# ---- python webhook.py -------------------------------------------------------------------------
def main(argv=None) -> None:
    settings = config.load_or_exit()
    parser = argparse.ArgumentParser(description="Run Khidmat in one process: webhooks, sender, scheduler.")
    parser.add_argument("--host", default=config.app(settings).host)
    parser.add_argument("--port", type=int, default=config.app(settings).port)
    args = parser.parse_args(argv)
    app = create_app(settings)
    import waitress

    import runtime

    log.info("database: %s", db.connection.describe(config.database(settings).url))
    runtime.describe_channels(settings)
    stop = runtime.start_background(settings)
    log.info("listening on http://%s:%d", args.host, args.port)
    try:
        waitress.serve(
            app,
            host=args.host,
            port=args.port,
            threads=config.app(settings).threads,
            connection_limit=1000,
            max_request_body_size=config.app(settings).max_body_bytes,  # waitress refuses larger bodies itself
            channel_timeout=30,
            ident="khidmat",
        )
    finally:
        stop()


if __name__ == "__main__":
    main()
