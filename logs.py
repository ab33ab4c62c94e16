"""Logging set-up: context in every line, never a token, an auth header or a full phone number."""
from __future__ import annotations

import logging
import re

_PHONE = re.compile(r"(\+?\d{3})\d{4,}(\d{3})")
_BOT_TOKEN = re.compile(r"bot\d+:[A-Za-z0-9_-]+")


class Redact(logging.Filter):
    def __init__(self, secrets=()):
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 6]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        for secret in self.secrets:
            message = message.replace(secret, "***")
        message = _BOT_TOKEN.sub("bot***", message)
        message = _PHONE.sub(lambda m: f"{m.group(1)}…{m.group(2)}", message)
        record.msg, record.args = message, ()
        return True


def setup(settings, level=logging.INFO) -> None:
    secrets = [settings["telegram"]["token"], settings["telegram"]["webhook_secret"],
               settings["twilio"]["auth_token"], settings["twilio"]["account_sid"],
               settings["app"].get("media_secret", "")]
    root = logging.getLogger()
    if not any(isinstance(h, logging.StreamHandler) and getattr(h, "_khidmat", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler._khidmat = True
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    for handler in root.handlers:
        handler.filters = [f for f in handler.filters if not isinstance(f, Redact)]
        handler.addFilter(Redact(secrets))
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "twilio.http_client", "urllib3", "telegram", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
