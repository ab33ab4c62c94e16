"""/media/<token>: an agent's file behind a signed, expiring link (handlers/core/media.py), which Twilio fetches
to send it to an SMS or WhatsApp customer. Fetched from Telegram and served as is, never cached."""

from __future__ import annotations

import asyncio
import io
import logging
import time

from flask import Blueprint, Response, send_file
from telegram.error import BadRequest

from bots import telegram as tg
from handlers.core import media
from web import settings as web_settings

log = logging.getLogger("khidmat.web")
routes = Blueprint("media", __name__)


@routes.get("/media/<token>")
def media_file(token: str):
    settings = web_settings.current()
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
