"""Logging set-up: context in every line, never a token, an auth header or a full phone number.

app.log_format = "text" writes one readable line per record; "json" writes one JSON object per line (time,
level, logger, message, exception, and whatever context the caller passed with `extra=`, e.g. ticket,
channel, customer). Both are redacted by the same filter: the configured secrets (also URL-encoded), the
Basic auth header Twilio's client sends, bot tokens in Bot API URLs and phone numbers (first and last three
digits kept) — in the message, in tracebacks and in the extra fields.

A phone number is a "+" with at least 8 digits (E.164, as Twilio writes them), or a bare run of 11 to 15 digits
(92300…, 0300…, an E.164 number without its "+"). Shorter bare numbers stay: update ids (at most 10 digits),
ticket numbers, event and message ids are what make a log line findable. A supergroup's chat id (-100…) is not
a phone number either.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import re
import sys
import threading
from urllib.parse import quote, urlparse

import config

_NUMBER = re.compile(r"(?<!\d)(-?)(\+?)(\d{8,})(?!\d)")
_BOT_TOKEN = re.compile(r"bot\d+(?::|%3A)[A-Za-z0-9_-]+", re.IGNORECASE)
# the attributes every LogRecord has; anything else on a record came from `extra=`
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


def extras(record: logging.LogRecord) -> dict:
    """The context a caller passed with extra= (ticket, channel, customer …)."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


def _mask_phone(match: re.Match) -> str:
    minus, plus, digits = match.groups()
    if not (len(digits) >= 11 or (plus and len(digits) >= 8)):
        return match.group(0)  # an update id, a ticket number: kept
    if minus and not plus and digits.startswith("100"):
        return match.group(0)  # a supergroup's chat id (-100…)
    keep = 3 if len(digits) >= 10 else 2
    return f"{minus}{plus}{digits[:keep]}…{digits[-keep:]}"


class Redact(logging.Filter):
    def __init__(self, secrets=()):
        super().__init__()
        variants = set()
        for secret in secrets:
            if secret and len(secret) >= 6:
                variants.update({secret, quote(secret, safe="")})
        self.secrets = sorted(variants, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        text = _BOT_TOKEN.sub("bot***", text)
        return _NUMBER.sub(_mask_phone, text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not hide the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = self.redact(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:  # the formatters use this text instead of formatting the traceback again
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        for key, value in extras(record).items():
            if isinstance(value, str):
                setattr(record, key, self.redact(value))
        return True


class TextFormatter(logging.Formatter):
    """time level logger: message [key=value for the extra context]."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        context = extras(record)
        return line + "".join(f" {k}={v}" for k, v in context.items()) if context else line


class JsonFormatter(logging.Formatter):
    """One JSON object per line; newlines inside (tracebacks, customer text) stay escaped in it."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in extras(record).items():
            entry.setdefault(key, value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


def secrets_of(settings) -> list[str]:
    tg, tw = settings["telegram"], settings["twilio"]
    secrets = [
        tg["token"],
        tg["webhook_secret"],
        tw["auth_token"],
        tw["account_sid"],
        config.app(settings).media_secret,
    ]
    if tw["account_sid"] and tw["auth_token"]:  # the Authorization header Twilio's client sends
        secrets.append(base64.b64encode(f"{tw['account_sid']}:{tw['auth_token']}".encode()).decode())
    password = urlparse(config.database(settings).url).password
    if password:
        secrets.append(password)
    return secrets


class OurHandler(logging.StreamHandler):
    """The handler setup() adds to the root logger (once, however often it runs): to stderr."""


def setup(settings, level=logging.INFO) -> None:
    json_lines = config.app(settings).log_format == "json"
    root = logging.getLogger()
    ours: list[logging.Handler] = [h for h in root.handlers if isinstance(h, OurHandler)]
    if not ours:
        ours = [OurHandler()]
        root.addHandler(ours[0])
    for ours_handler in ours:
        ours_handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    redact = Redact(secrets_of(settings))
    for handler in root.handlers:
        handler.filters = [f for f in handler.filters if not isinstance(f, Redact)]
        handler.addFilter(redact)
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "twilio.http_client", "urllib3", "telegram", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if json_lines:  # nothing may reach the output around logging: warnings and uncaught errors become records
        logging.captureWarnings(True)
        sys.excepthook = _log_uncaught
        threading.excepthook = lambda args: _log_uncaught(
            args.exc_type, args.exc_value, args.exc_traceback, getattr(args.thread, "name", None)
        )


def _log_uncaught(exc_type, exc_value, exc_traceback, thread=None) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc_value, exc_traceback)
        return
    logging.getLogger("khidmat").critical(
        "uncaught exception%s", f" in thread {thread}" if thread else "", exc_info=(exc_type, exc_value, exc_traceback)
    )
