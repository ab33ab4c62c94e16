"""The `flask --app webhook …` commands of the web side: set-webhook, db upgrade, broadcast, orders, faq test.
Each parses its arguments, calls the business in handlers/ and prints the outcome; a wrong argument or a refusal
exits non-zero with one clear line."""

from __future__ import annotations

import asyncio

import click

import config
import db
from bots import telegram as tg
from db import migrations
from handlers.features import broadcasts, delays, faq, orderdata, orders
from web import faqtest
from web import settings as web_settings


@click.command("set-webhook")
def set_webhook_command():
    """Register {app.public_url}/telegram/webhook with Telegram, with the secret and our update types."""
    settings = web_settings.current()
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
    """The three best answers for QUESTION with their scores, and whether the best one is given (the bands)."""
    try:
        known = faq.load()
    except faq.FaqFileError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(faqtest.describe(question, known))


COMMANDS = (set_webhook_command, db_command, broadcast_command, orders_command, faq_command)
