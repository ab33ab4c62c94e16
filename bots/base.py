"""The channel-neutral shapes that cross the line between bots/ and the rest of Khidmat."""

from __future__ import annotations

from dataclasses import dataclass, field

TELEGRAM = "telegram"
WHATSAPP = "whatsapp"
SMS = "sms"
CHANNELS = (TELEGRAM, WHATSAPP, SMS)

# Reasons a destination is gone for good (SendResult.reason when status == GONE).
BLOCKED = "blocked"  # the user blocked the bot / the business
UNSUBSCRIBED = "unsubscribed"  # carrier-level opt-out (Twilio 21610)
INVALID_ADDRESS = "invalid"  # no such chat / number, landline, deactivated
OUTSIDE_WINDOW = "outside_window"  # WhatsApp 24-hour window closed (63016)


@dataclass
class Media:
    """One attachment. Telegram media travel by file_id; Twilio media by URL."""

    kind: str  # photo, video, voice, audio, document, sticker, animation, video_note
    file_id: str | None = None  # Telegram file id
    url: str | None = None  # Twilio MediaUrl (needs the account's credentials to fetch)
    content_type: str | None = None
    file_name: str | None = None
    data: bytes | None = None  # bytes already downloaded (set by the sender, never stored)


@dataclass
class Inbound:
    """One thing a person did, as the business layer sees it.

    kind: "message" (text and/or media), "command" (text starts with /),
          "callback" (button tap), "unsupported" (a message kind we do not relay),
          "member" (bot added/removed/migrated), "ignored".
    """

    channel: str  # telegram / whatsapp / sms
    external_id: str  # platform id of the event (update_id, MessageSid) for dedup
    kind: str
    chat_id: str  # Telegram chat id (as text), or the sender's address (whatsapp:+92…, +92…)
    user_id: str | None = None  # Telegram user id (as text); phone for Twilio
    user_name: str = ""  # display name (first name, or ProfileName on WhatsApp)
    username: str | None = None  # Telegram @username
    language_code: str | None = None
    text: str = ""
    media: list[Media] = field(default_factory=list)
    message_id: int | None = None  # Telegram message id in chat_id
    reply_to_message_id: int | None = None  # Telegram: the message this one replies to
    thread_id: int | None = None  # Telegram forum topic id (is_topic_message only)
    is_group: bool = False
    unsupported_kind: str | None = None  # e.g. "poll", "location" when kind == "unsupported"
    migrate_to_chat_id: int | None = None  # group upgraded to a supergroup
    callback_id: str | None = None
    callback_data: str | None = None
    to_address: str | None = None  # Twilio: the shop number the customer wrote to
    # a shared place or contact, for the business to put in words: ("location" | "venue" | "contact", its fields)
    place: tuple[str, dict] | None = None


@dataclass
class Outbound:
    """One message to deliver. Texts longer than the platform allows are split by the bot module."""

    channel: str
    chat_id: str  # Telegram chat id as text, or whatsapp:+…, or +…
    text: str = ""
    media: list[Media] = field(default_factory=list)
    thread_id: int | None = None  # Telegram forum topic
    reply_to_message_id: int | None = None  # Telegram reply
    method: str = (
        "send"  # send | copy | edit | answer_callback | create_topic | edit_topic | close_topic | reopen_topic
    )
    topic_name: str | None = None
    copy_from_chat_id: str | None = None
    copy_message_id: int | None = None
    content_sid: str | None = None  # WhatsApp template
    content_variables: str | None = None  # JSON string
    status_callback: str | None = None  # Twilio status callback URL
    buttons: list | None = None  # Telegram inline keyboard: rows of [text, callback_data]
    edit_message_id: int | None = None  # method "edit": the message to rewrite (text and buttons)
    callback_id: str | None = None  # method "answer_callback"
    mentions: list | None = None  # Telegram: [offset, length, user_id] in UTF-16 units of text
    no_preview: bool = False  # Telegram: draw no link preview (a single-use link must not be fetched for one)


SENT = "sent"
RETRY = "retry"
GONE = "gone"
FAILED = "failed"


@dataclass
class SendResult:
    """What happened to an Outbound: sent, retry (after seconds), gone (reason) or failed (reason)."""

    status: str
    message_ids: list[str] = field(default_factory=list)  # platform ids, one per part sent
    retry_after: float | None = None
    reason: str = ""
    detail: str = ""  # the platform's words, for logs and agents
    thread_id: int | None = None  # create_topic result
    migrate_to_chat_id: int | None = None  # Telegram group upgraded: resend there
    parts_sent: int = 0  # parts delivered before a failure (long texts)

    @classmethod
    def sent(cls, ids, **kw):
        return cls(SENT, [str(i) for i in ids], **kw)

    @classmethod
    def retry(cls, after: float | None, detail: str = ""):
        return cls(RETRY, retry_after=after, detail=detail)

    @classmethod
    def gone(cls, reason: str, detail: str = ""):
        return cls(GONE, reason=reason, detail=detail)

    @classmethod
    def failed(cls, reason: str, detail: str = ""):
        return cls(FAILED, reason=reason, detail=detail)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units: an emoji outside the BMP counts two)."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int, size=len) -> list[str]:
    """Split text into parts of at most `limit` (as measured by `size`), in order, preferring line and
    word breaks. Nothing is cut or lost: joining the parts gives back the text."""
    if size(text) <= limit:
        return [text]
    parts = []
    rest = text
    while size(rest) > limit:
        window = rest[:limit]
        while size(window) > limit:
            window = window[: max(1, len(window) * limit // size(window))]
        cut = max(window.rfind("\n"), window.rfind(" "))
        if cut < len(window) // 2:
            cut = len(window)  # no good break: cut hard at the limit
        else:
            cut += 1  # keep the break character with the first part
        parts.append(rest[:cut])
        rest = rest[cut:]
    if rest:
        parts.append(rest)
    return parts
