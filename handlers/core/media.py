"""Agents' photos, documents and voice notes on their way to a customer, and the signed links that carry
them to Twilio.

- Telegram customers get the agent's message copied (copyMessage), caption included.
- WhatsApp customers get the file through a short-lived signed link, `{app.public_url}/media/<token>`,
  which Twilio fetches when it sends (the route is web/media.py); the agent's text is its caption (photos,
  videos), or a message of its own after a document or voice note (WhatsApp has no caption for those).
- SMS customers get the agent's text and the link, in their language (template media_link).

A token is `<payload>.<mac>`: the payload (base64url JSON) names the Telegram file_id, its content type,
file name and expiry; the mac is HMAC-SHA256 over it with a key from the settings (`signing_key`).
Tokens and the key are never logged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from typing import NamedTuple

import config
import outbox
from bots.base import TELEGRAM, WHATSAPP, Inbound, Media
from handlers.core import keys, texts

# media kinds an agent can send to WhatsApp and SMS customers, with the content type Telegram implies
LINKABLE = {
    "photo": "image/jpeg",
    "document": "application/octet-stream",
    "voice": "audio/ogg",
    "audio": "audio/mpeg",
    "video": "video/mp4",
    "animation": "video/mp4",
    "video_note": "video/mp4",
}
# WhatsApp shows a caption under these; with documents and audio Twilio drops it, so the text goes on its own
WHATSAPP_CAPTIONS = {"photo", "video", "animation"}
WHATSAPP_MAX_CAPTION = 1024


class MediaToken(NamedTuple):
    file_id: str
    content_type: str
    file_name: str | None
    expires_at: int


# ---- signed links (pure functions) ----------------------------------------------------------------


def signing_key(settings) -> bytes:
    """app.media_secret, or (when empty) a key derived from the Telegram webhook secret and the Twilio
    auth token. Empty when there is nothing to derive it from: then no link is made or accepted."""
    return keys.signing_key(config.app(settings).media_secret, b"khidmat media links", settings)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, payload: str) -> bytes:
    return hmac.new(key, payload.encode(), hashlib.sha256).digest()


def sign(key: bytes, item: MediaToken) -> str:
    """The token for a file; ValueError without a key."""
    if not key:
        raise ValueError("no key to sign media links: set app.media_secret")
    payload = _b64(json.dumps(list(item), separators=(",", ":"), ensure_ascii=False).encode())
    return f"{payload}.{_b64(_mac(key, payload))}"


def verify(key: bytes, token: str, now: float) -> MediaToken | None:
    """The file a token names, or None when it is forged, damaged or expired (or there is no key)."""
    payload, _, mac = token.partition(".")
    try:
        if not key or not hmac.compare_digest(_unb64(mac), _mac(key, payload)):
            return None
        item = MediaToken(*json.loads(_unb64(payload)))
    except (ValueError, TypeError, binascii.Error):
        return None
    return item if now < item.expires_at else None


def link(item: Media, ttl_s: int) -> str:
    """A signed `{public_url}/media/<token>` for a Telegram file, valid ttl_s seconds from now."""
    settings = config.current()
    assert item.file_id, "links are made only for Telegram files"
    token = sign(
        signing_key(settings),
        MediaToken(item.file_id, content_type(item), item.file_name, int(time.time()) + int(ttl_s)),
    )
    return f"{config.app(settings).public_url.rstrip('/')}/media/{token}"


def content_type(item: Media) -> str:
    return item.content_type or LINKABLE.get(item.kind) or "application/octet-stream"


# ---- agents' media to customers -------------------------------------------------------------------


def signed_reply(lang: str, agent_name: str, text: str) -> str:
    """An agent's words as the customer reads them: signed with the agent's name (app.agent_signature)."""
    signed = config.app().agent_signature and agent_name
    return texts.render(lang, "agent_reply" if signed else "agent_reply_unsigned", text=text, agent=agent_name)


def relay_agent_media(ticket, agent_name: str, inbound: Inbound, lang: str) -> bool:
    """Send the media of an agent's message to the ticket's customer. True when the text went with it
    (as its caption or body), False when the caller still has to send the text."""
    contact = ticket.contact
    caption = signed_reply(lang, agent_name, inbound.text) if inbound.text.strip() else ""
    if contact.channel == TELEGRAM:
        outbox.to_contact(
            contact,
            caption,
            purpose="reply",
            ticket=ticket,
            method="copy",
            copy_from_chat_id=inbound.chat_id,
            copy_message_id=inbound.message_id,
        )
        return True
    items = [m for m in inbound.media if m.kind in LINKABLE and m.file_id]
    for m in inbound.media:
        if m not in items:
            outbox.to_group(
                texts.for_agents("agents/unsupported_reply", kind=texts.kind_for_agents(m.kind)),
                purpose="agents",
                ticket=ticket,
            )
    if not items:
        return False
    app = config.app()
    if contact.channel == WHATSAPP:
        media = [Media(m.kind, url=link(m, app.media_url_ttl_s), content_type=content_type(m)) for m in items]
        captioned = all(m.kind in WHATSAPP_CAPTIONS for m in items) and len(caption) <= WHATSAPP_MAX_CAPTION
        outbox.to_contact(contact, caption if captioned else "", purpose="reply", ticket=ticket, media=media)
        return captioned
    urls = "\n".join(link(m, app.media_link_ttl_s) for m in items)  # SMS: the words and the links
    body = texts.render(lang, "media_link", text=inbound.text.strip(), url=urls).strip()
    outbox.to_contact(contact, signed_reply(lang, agent_name, body), purpose="reply", ticket=ticket)
    return True
