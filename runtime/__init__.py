"""Starting the background parts — the outbox sender and the scheduler — for webhook.py and worker.py."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import config
import hooks
from bots.telegram import TelegramBot
from bots.twilio import TwilioBot
from handlers import business
from handlers.features import shopinfo
from inbox.processor import Processor
from runtime import scheduler as jobs
from sender.loop import Sender
from sender.wakeup import Listener

log = logging.getLogger(__name__)


def describe_channels(settings) -> list[str]:
    """Say in the log what is and is not configured (the channels; [shop] details still the examples); return the
    channels that can send."""
    tg, tw = settings["telegram"], settings["twilio"]
    ready = []
    if tg["token"]:
        ready.append("telegram")
        if not tg["webhook_secret"]:
            log.warning("telegram: webhook_secret is not set — /telegram/webhook refuses every request until it is")
        if not tg["agents_chat_id"]:
            log.warning(
                "telegram: agents_chat_id is not set — tickets wait in the outbox; add the bot to the "
                "agents' group and send /chatid there to learn the id"
            )
    else:
        log.warning("telegram: not configured (BOT_TELEGRAM_TOKEN is empty) — no Telegram customers, no agents' group")
    if tw["account_sid"] and tw["auth_token"]:
        for channel, key in (("whatsapp", "whatsapp_from"), ("sms", "sms_from")):
            if tw[key]:
                ready.append(channel)
            else:
                log.warning("%s: not configured (twilio.%s is empty)", channel, key)
    else:
        log.warning("whatsapp/sms: not configured (BOT_TWILIO_ACCOUNT_SID / BOT_TWILIO_AUTH_TOKEN are empty)")
    log.info("channels ready: %s", ", ".join(ready) or "none")
    still = shopinfo.placeholders(settings)
    if still:
        log.warning(
            "shop: %s still the example from settings.toml — the FAQ's contact and address answers tell customers "
            "these; set them in [shop]",
            ", ".join(f"shop.{key}" for key in still),
        )
    return ready


@dataclass
class Relay:
    """The inbox processor, the outbox sender and (on PostgreSQL) the listener that wakes them: they run together,
    so that where events are handled, messages go."""

    sender: Sender
    processor: Processor
    listener: Listener | None

    def stop(self) -> None:
        self.processor.stop()
        if self.listener is not None:
            self.listener.stop()
        self.sender.stop()


def start_relay(settings) -> Relay:
    hooks.install(business)
    sender = Sender(
        settings, telegram_bot_factory=lambda gate: TelegramBot(settings, gate=gate), twilio_bot=TwilioBot(settings)
    )
    sender.start()
    processor = Processor(config.sender(settings).poll_s).start()
    listener = None
    if config.database(settings).url.startswith("postgres"):
        listener = Listener(
            config.database(settings).url, {"khidmat_outbox": sender.wake, "khidmat_inbox": processor.wake}
        ).start()
    return Relay(sender, processor, listener)


def start_background(settings):
    """Sender and (if enabled) scheduler in this process. Returns a function that stops both."""
    relay = start_relay(settings)
    scheduler = None
    if config.scheduler(settings).enabled:
        scheduler = jobs.start(settings)

    def stop():
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)
        relay.stop()

    return stop
