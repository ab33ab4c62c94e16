"""Khidmat's Telegram adapter: Bot API updates in, Outbound messages out. It knows Telegram, not the business.

- `verify_secret` checks the webhook's X-Telegram-Bot-Api-Secret-Token.
- `parse_update` turns one Update (the JSON dict) into an `Inbound`.
- `TelegramBot.send` delivers an `Outbound` with python-telegram-bot and classifies what Telegram answered
  into a `SendResult` (sent / retry / gone / failed). Texts are always sent plain (no parse_mode), so
  customer text is never read as markup; long texts are split at 4096 characters, captions at 1024.
"""

from __future__ import annotations

import hmac
import re
import warnings
from dataclasses import replace
from datetime import timedelta
from functools import partial

import telegram
from telegram import InputFile, Message, Update
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError

from bots.base import (
    BLOCKED,
    INVALID_ADDRESS,
    RETRY,
    TELEGRAM,
    Inbound,
    Media,
    Outbound,
    SendResult,
    split_text,
    utf16_len,
)
from bots.telegram_http import AiohttpRequest

ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_TOPIC_NAME = 128

# media kind → (Bot method, parameter name); kinds without a caption get the text as a message after them
MEDIA_METHODS = {
    "photo": ("send_photo", "photo"),
    "video": ("send_video", "video"),
    "voice": ("send_voice", "voice"),
    "audio": ("send_audio", "audio"),
    "document": ("send_document", "document"),
    "sticker": ("send_sticker", "sticker"),
    "animation": ("send_animation", "animation"),
    "video_note": ("send_video_note", "video_note"),
}
NO_CAPTION = {"sticker", "video_note"}
TOPIC_METHODS = {"create_topic", "edit_topic", "close_topic", "reopen_topic"}
# message contents we do not relay (reported as "unsupported") and service messages (ignored)
UNSUPPORTED = (
    "poll",
    "dice",
    "game",
    "story",
    "invoice",
    "giveaway",
    "giveaway_winners",
    "paid_media",
    "checklist",
    "passport_data",
    "web_app_data",
)
SERVICE = (
    "new_chat_members",
    "left_chat_member",
    "new_chat_title",
    "new_chat_photo",
    "delete_chat_photo",
    "group_chat_created",
    "supergroup_chat_created",
    "channel_chat_created",
    "migrate_from_chat_id",
    "message_auto_delete_timer_changed",
    "pinned_message",
    "forum_topic_created",
    "forum_topic_edited",
    "forum_topic_closed",
    "forum_topic_reopened",
    "general_forum_topic_hidden",
    "general_forum_topic_unhidden",
    "video_chat_scheduled",
    "video_chat_started",
    "video_chat_ended",
    "video_chat_participants_invited",
    "write_access_allowed",
    "users_shared",
    "chat_shared",
    "boost_added",
    "chat_background_set",
    "proximity_alert_triggered",
    "successful_payment",
    "refunded_payment",
    "connected_website",
    "giveaway_created",
    "giveaway_completed",
    "gift",
    "unique_gift",
)
GONE_FORBIDDEN = ("blocked", "deactivated", "can't initiate", "kicked", "not a member")
GONE_BAD_REQUEST = ("chat not found", "user not found", "peer_id_invalid")
THREAD_GONE = ("message thread not found", "topic_id_invalid", "topic_deleted")
# fields older Bot API shapes (and some self-hosted servers) leave out, which python-telegram-bot requires: a user's
# is_bot, a file's file_unique_id (Bot API 4.5), a sticker's is_animated/is_video/type, media sizes and lengths
_USER_KEYS = ("from", "user", "forward_from", "via_bot", "left_chat_member", "sender_business_bot")
_MEDIA_DEFAULTS = {
    "photo": {"width": 0, "height": 0},
    "thumbnail": {"width": 0, "height": 0},
    "thumb": {"width": 0, "height": 0},
    "new_chat_photo": {"width": 0, "height": 0},
    "video": {"width": 0, "height": 0, "duration": 0},
    "animation": {"width": 0, "height": 0, "duration": 0},
    "voice": {"duration": 0},
    "audio": {"duration": 0},
    "video_note": {"length": 0, "duration": 0},
    "sticker": {"width": 0, "height": 0, "is_animated": False, "is_video": False, "type": "regular"},
}


def verify_secret(expected: str, header_value: str | None) -> bool:
    """True when the webhook's secret header matches the configured secret (constant time)."""
    if not expected or header_value is None:
        return False
    return hmac.compare_digest(expected.encode(), header_value.encode())


# ---- inbound ------------------------------------------------------------------------------------------


def parse_update(data) -> Inbound:
    """One Bot API Update (the decoded JSON) → Inbound. ValueError when it is not an Update at all."""
    if not isinstance(data, dict) or type(data.get("update_id")) is not int:
        raise ValueError("not a Telegram update: expected a dict with an int update_id")
    try:
        update = Update.de_json(_filled(data), None)
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        fallback = _unparsable(data)
        if fallback is None:
            raise ValueError(f"malformed Telegram update: {exc}") from exc
        return fallback
    external_id = str(update.update_id)
    if update.message:
        return _from_message(external_id, update.message, edited=False)
    if update.edited_message:
        return _from_message(external_id, update.edited_message, edited=True)
    if update.callback_query:
        return _from_callback(external_id, update.callback_query)
    if update.my_chat_member:
        change = update.my_chat_member
        inbound = _base(external_id, "member", change.chat, change.from_user)
        inbound.text = str(change.new_chat_member.status)
        return inbound
    chat = update.effective_chat
    return (
        _base(external_id, "ignored", chat, update.effective_user)
        if chat
        else Inbound(channel=TELEGRAM, external_id=external_id, kind="ignored", chat_id="")
    )


def _filled(data: dict) -> dict:
    try:
        return _fill_older_shapes(data)
    except RecursionError:  # nested deeper than the walk goes: read as it came
        return data


def _fill_older_shapes(value, key: str = ""):
    """A copy of the update with the fields older Bot API shapes omit filled in (is_bot false, file_unique_id
    the file_id, sizes 0), so such an update is read for what it has instead of failing as a whole."""
    if isinstance(value, list):
        return [_fill_older_shapes(item, key) for item in value]
    if not isinstance(value, dict):
        return value
    filled = {k: _fill_older_shapes(v, k) for k, v in value.items()}
    if (key in _USER_KEYS or key == "new_chat_members") and "id" in filled:
        filled.setdefault("is_bot", False)
        filled.setdefault("first_name", "")
    if "file_id" in filled:
        filled.setdefault("file_unique_id", filled["file_id"])
        for field, default in _MEDIA_DEFAULTS.get(key, {}).items():
            filled.setdefault(field, default)
    return filled


def _unparsable(data: dict) -> Inbound | None:
    """A message python-telegram-bot cannot read (e.g. content from a newer Bot API): say "unsupported"
    to the person rather than dropping it, when at least its chat is clear."""
    msg = data.get("message")
    chat = msg.get("chat") if isinstance(msg, dict) else None
    if not isinstance(chat, dict) or type(chat.get("id")) is not int or type(msg.get("message_id")) is not int:
        return None
    user = msg.get("from") if isinstance(msg.get("from"), dict) else {}
    content = [
        k
        for k in msg
        if k
        not in (
            "message_id",
            "from",
            "chat",
            "date",
            "message_thread_id",
            "is_topic_message",
            "reply_to_message",
            "entities",
            "sender_chat",
        )
    ]
    return Inbound(
        channel=TELEGRAM,
        external_id=str(data["update_id"]),
        kind="unsupported",
        chat_id=str(chat["id"]),
        user_id=str(user["id"]) if "id" in user else None,
        user_name=str(user.get("first_name") or ""),
        message_id=msg["message_id"],
        is_group=chat.get("type") in ("group", "supergroup"),
        unsupported_kind=content[0] if content else "unknown",
    )


def _base(external_id: str, kind: str, chat, user) -> Inbound:
    return Inbound(
        channel=TELEGRAM,
        external_id=external_id,
        kind=kind,
        chat_id=str(chat.id),
        user_id=str(user.id) if user else None,
        user_name=(user.first_name if user else getattr(chat, "title", None)) or "",
        username=user.username if user else None,
        language_code=user.language_code if user else None,
        is_group=chat.type in ("group", "supergroup"),
    )


def _from_message(external_id: str, msg: Message, edited: bool) -> Inbound:
    inbound = _base(external_id, "message", msg.chat, msg.from_user)
    if inbound.user_name == "" and msg.sender_chat:
        inbound.user_name = msg.sender_chat.title or ""
    inbound.message_id = msg.message_id
    if msg.is_topic_message:
        inbound.thread_id = msg.message_thread_id
    reply = msg.reply_to_message
    # a plain message in a forum topic "replies" to the topic's creation message: not a real reply
    if reply and not (
        msg.is_topic_message and (reply.message_id == msg.message_thread_id or reply.forum_topic_created)
    ):
        inbound.reply_to_message_id = reply.message_id
    if type(msg.migrate_to_chat_id) is int:  # anything else is a malformed field, not a new id to keep
        inbound.kind, inbound.migrate_to_chat_id = "member", msg.migrate_to_chat_id
        return inbound
    inbound.text = msg.text if msg.text is not None else (msg.caption or "")
    inbound.media = _media_of(msg)
    place = _place_of(msg)
    if place:
        inbound.text, inbound.place = "", place
    if msg.text is not None or msg.caption is not None or inbound.media or place:
        if edited:
            inbound.kind = "edited"
        elif msg.text is not None and msg.text.startswith("/"):
            inbound.kind = "command"
        return inbound
    unsupported = next((k for k in UNSUPPORTED if getattr(msg, k, None)), None)
    if edited or any(getattr(msg, k, None) for k in SERVICE):
        inbound.kind = "ignored"  # service messages; edits of things we do not relay (live locations)
    elif unsupported or msg.api_kwargs:  # api_kwargs: content newer than python-telegram-bot knows
        inbound.kind, inbound.unsupported_kind = "unsupported", unsupported or next(iter(msg.api_kwargs))
    else:
        inbound.kind = "ignored"
    return inbound


def _media_of(msg: Message) -> list[Media]:
    if msg.photo:
        largest = max(msg.photo, key=lambda size: (size.width * size.height, size.file_size or 0))
        return [Media("photo", file_id=largest.file_id, content_type="image/jpeg")]
    if msg.sticker:
        sticker = msg.sticker
        kind = "video/webm" if sticker.is_video else "application/x-tgsticker" if sticker.is_animated else "image/webp"
        return [Media("sticker", file_id=sticker.file_id, content_type=kind)]
    for kind in ("animation", "video", "voice", "audio", "video_note", "document"):  # animation before document
        item = getattr(msg, kind)
        if item:
            return [
                Media(
                    kind,
                    file_id=item.file_id,
                    content_type=getattr(item, "mime_type", None),
                    file_name=getattr(item, "file_name", None),
                )
            ]
    return []


def _place_of(msg: Message) -> tuple[str, dict] | None:
    """A location, venue or contact: its kind and fields (the business words it: handlers' agents/places/)."""
    if msg.venue:
        loc = msg.venue.location
        return "venue", {
            "title": msg.venue.title,
            "address": msg.venue.address,
            "latitude": round(loc.latitude, 6),
            "longitude": round(loc.longitude, 6),
        }
    if msg.location:
        return "location", {"latitude": round(msg.location.latitude, 6), "longitude": round(msg.location.longitude, 6)}
    if msg.contact:
        contact = msg.contact
        name = " ".join(filter(None, (contact.first_name, contact.last_name)))
        return "contact", {"name": name, "phone": contact.phone_number or ""}
    return None


def _from_callback(external_id: str, query) -> Inbound:
    msg = query.message  # Message, or InaccessibleMessage (older than 48 h), or None (inline keyboards)
    chat = msg.chat if msg is not None else None
    if chat is None:
        inbound = Inbound(
            channel=TELEGRAM,
            external_id=external_id,
            kind="callback",
            chat_id=str(query.from_user.id),
            user_id=str(query.from_user.id),
            user_name=query.from_user.first_name or "",
            username=query.from_user.username,
            language_code=query.from_user.language_code,
        )
    else:
        inbound = _base(external_id, "callback", chat, query.from_user)
        inbound.message_id = msg.message_id
        if isinstance(msg, Message) and msg.is_topic_message:
            inbound.thread_id = msg.message_thread_id
    inbound.callback_id, inbound.callback_data = query.id, query.data
    return inbound


# ---- outbound -----------------------------------------------------------------------------------------


def _retry_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that the int form will become a timedelta
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def classify(exc: TelegramError, method: str = "send") -> SendResult:
    """What a Telegram error means for this Outbound."""
    detail = str(exc)
    text = detail.lower()
    if isinstance(exc, RetryAfter):
        return SendResult.retry(_retry_seconds(exc), detail)
    if isinstance(exc, ChatMigrated):
        return SendResult(RETRY, retry_after=0, migrate_to_chat_id=int(exc.new_chat_id), detail=detail)
    if isinstance(exc, InvalidToken):
        return SendResult.failed("unauthorized", detail)
    if isinstance(exc, Forbidden):
        if any(words in text for words in GONE_FORBIDDEN):
            return SendResult.gone(BLOCKED, detail)
        return SendResult.failed("forbidden", detail)
    if isinstance(exc, BadRequest):  # BadRequest is a NetworkError in PTB: test it first
        if any(words in text for words in GONE_BAD_REQUEST):
            return SendResult.gone(INVALID_ADDRESS, detail)
        if any(words in text for words in THREAD_GONE):
            return SendResult.failed("thread_gone", detail)
        if method in TOPIC_METHODS and ("not a forum" in text or "not enough rights" in text):
            return SendResult.failed("no_topics", detail)
        if method in TOPIC_METHODS and "topic_not_modified" in text:
            return SendResult.sent([])
        return SendResult.failed("bad_request", detail)
    if isinstance(exc, NetworkError):  # TimedOut, 5xx, connection errors: back off and retry
        return SendResult.retry(None, detail)
    return SendResult.failed("error", detail)


NO_PREVIEW = telegram.LinkPreviewOptions(is_disabled=True)


def _keyboard(buttons):
    """Rows of [text, callback_data] as an inline keyboard (None when there are none)."""
    if not buttons:
        return None
    return telegram.InlineKeyboardMarkup(
        [[telegram.InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in buttons]
    )


def _mentions(mentions, limit: int):
    """[offset, length, user_id] triples as text_mention entities (those that fit in the first part)."""
    entities = [
        telegram.MessageEntity(
            telegram.MessageEntity.TEXT_MENTION, offset, length, user=telegram.User(int(user_id), "owner", False)
        )
        for offset, length, user_id in mentions or []
        if offset + length <= limit
    ]
    return entities or None


def _chat(chat_id):
    chat_id = str(chat_id)
    return int(chat_id) if re.fullmatch(r"-?\d+", chat_id) else chat_id


class TelegramBot:
    """One bot token, reached at config.telegram(settings).api_base_url (Telegram, a local Bot API server
    or the test stand-in). Create and use it inside one event loop; `close()` at the end."""

    def __init__(self, settings, gate=None):
        conf = settings["telegram"]
        self.token = conf.get("token") or ""
        self.api_base_url = (conf.get("api_base_url") or "https://api.telegram.org").rstrip("/")
        timeout = float(conf.get("timeout_s") or 10)
        self._requests = []
        self.bot = None
        if self.configured:
            connections = int(conf.get("connections") or 8)
            self._requests = [AiohttpRequest(connections, timeout, gate), AiohttpRequest(1, timeout)]
            self.bot = telegram.Bot(
                self.token,
                base_url=f"{self.api_base_url}/bot",
                base_file_url=f"{self.api_base_url}/file/bot",
                request=self._requests[0],
                get_updates_request=self._requests[1],
            )

    @property
    def configured(self) -> bool:
        return bool(self.token)

    def _need_bot(self):
        if self.bot is None:
            raise RuntimeError("telegram.token is not configured")
        return self.bot

    async def send(self, out: Outbound, skip_parts: int = 0) -> SendResult:
        """Deliver `out`. `skip_parts` skips parts a previous attempt delivered (its result's parts_sent):
        parts_sent in the result counts them too, message_ids lists only this call's messages."""
        if self.bot is None:
            return SendResult.failed("unauthorized", "telegram.token is not configured")
        if out.method in TOPIC_METHODS:
            return await self._topic(out)
        if out.method in ("edit", "answer_callback"):
            return await self._edit_or_answer(out)
        ids = []
        try:
            for index, step in enumerate(self._steps(out)):
                if index < skip_parts:
                    continue
                message = await step(reply_to_message_id=out.reply_to_message_id if index == 0 else None)
                ids.append(message.message_id)
        except TelegramError as exc:
            if (
                out.reply_to_message_id
                and not ids
                and skip_parts == 0
                and "message to be replied not found" in str(exc).lower()
            ):
                return await self.send(replace(out, reply_to_message_id=None))
            result = classify(exc, out.method)
            result.message_ids, result.parts_sent = [str(i) for i in ids], skip_parts + len(ids)
            return result
        return SendResult.sent(ids, parts_sent=skip_parts + len(ids))

    async def _edit_or_answer(self, out: Outbound) -> SendResult:
        try:
            if out.method == "answer_callback":
                await self.bot.answer_callback_query(out.callback_id, text=(out.text or None) and out.text[:200])
                return SendResult.sent([])
            await self.bot.edit_message_text(
                out.text[:MAX_TEXT],
                chat_id=_chat(out.chat_id),
                message_id=out.edit_message_id,
                reply_markup=_keyboard(out.buttons),
            )
            return SendResult.sent([out.edit_message_id])
        except TelegramError as exc:
            detail = str(exc).lower()
            if "not modified" in detail:
                return SendResult.sent([out.edit_message_id])
            if "query is too old" in detail or "query id is invalid" in detail:
                return SendResult.failed("callback_expired", str(exc))
            return classify(exc, out.method)

    def _steps(self, out: Outbound) -> list:
        """The API calls for one Outbound, in order; each takes reply_to_message_id."""
        bot, text = self.bot, out.text or ""
        where = {"chat_id": _chat(out.chat_id), "message_thread_id": out.thread_id}
        steps, caption_used = [], False
        fits = utf16_len(text) <= MAX_CAPTION
        if out.method == "copy":
            caption_used = bool(text) and fits
            steps.append(
                partial(
                    bot.copy_message,
                    from_chat_id=_chat(out.copy_from_chat_id),
                    message_id=out.copy_message_id,
                    caption=text if caption_used else None,
                    **where,
                )
            )
        elif out.method == "send":
            for media in out.media:
                caption = None
                if text and fits and not caption_used and media.kind not in NO_CAPTION:
                    caption, caption_used = text, True
                steps.append(partial(self._send_media, media, caption, where))
        else:
            raise ValueError(f"unknown Outbound.method {out.method!r}")
        if not caption_used and (text or not steps):
            parts = split_text(text, MAX_TEXT, size=utf16_len)
            extras = [{} for _ in parts]
            extras[0]["entities"] = _mentions(out.mentions, utf16_len(parts[0]))
            extras[-1]["reply_markup"] = _keyboard(out.buttons)
            if out.no_preview:
                for extra in extras:
                    extra["link_preview_options"] = NO_PREVIEW
            steps += [
                partial(bot.send_message, text=part, **where, **extra)
                for part, extra in zip(parts, extras, strict=False)
            ]
        return steps

    async def _send_media(self, media: Media, caption, where: dict, reply_to_message_id=None):
        method, param = MEDIA_METHODS.get(media.kind, MEDIA_METHODS["document"])
        if media.data is not None:
            file = InputFile(media.data, filename=media.file_name or media.kind)
        else:
            file = media.file_id or media.url
        extra = {"caption": caption} if caption else {}
        return await getattr(self.bot, method)(
            **{param: file}, **where, reply_to_message_id=reply_to_message_id, **extra
        )

    async def _topic(self, out: Outbound) -> SendResult:
        bot, chat, name = self.bot, _chat(out.chat_id), (out.topic_name or out.text or "")[:MAX_TOPIC_NAME]
        try:
            if out.method == "create_topic":
                topic = await bot.create_forum_topic(chat, name=name)
                return SendResult.sent([], thread_id=topic.message_thread_id)
            if out.method == "edit_topic":
                await bot.edit_forum_topic(chat, out.thread_id, name=name or None)
            elif out.method == "close_topic":
                await bot.close_forum_topic(chat, out.thread_id)
            else:
                await bot.reopen_forum_topic(chat, out.thread_id)
            return SendResult.sent([], thread_id=out.thread_id)
        except TelegramError as exc:
            return classify(exc, out.method)

    async def get_me(self) -> dict:
        me = await self._need_bot().get_me()
        return {
            "id": me.id,
            "username": me.username,
            "first_name": me.first_name,
            "can_join_groups": bool(me.can_join_groups),
            "can_read_all_group_messages": bool(me.can_read_all_group_messages),
        }

    async def get_chat(self, chat_id) -> dict:
        chat = await self._need_bot().get_chat(_chat(chat_id))
        return {"id": chat.id, "type": str(chat.type), "is_forum": bool(chat.is_forum), "title": chat.title}

    async def set_webhook(self, url: str, secret_token: str) -> bool:
        return await self._need_bot().set_webhook(
            url=url, secret_token=secret_token or None, allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False
        )

    async def download_file(self, file_id: str) -> bytes:
        file = await self._need_bot().get_file(file_id)
        return bytes(await file.download_as_bytearray())

    async def answer_callback(self, callback_id: str, text: str | None = None) -> bool:
        """Stop the button's spinner; False when Telegram refuses (e.g. the query is too old)."""
        try:
            return await self._need_bot().answer_callback_query(callback_id, text=text)
        except TelegramError:
            return False

    async def close(self):
        for request in self._requests:
            await request.shutdown()
