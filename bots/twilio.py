"""Khidmat's Twilio adapter: WhatsApp and SMS through Twilio's Messages API (twilio 9.x).

It knows Twilio and nothing of the business:
- verify_signature()  checks X-Twilio-Signature on a webhook POST;
- parse_inbound()     turns an inbound-message webhook form into an Inbound;
- parse_status()      turns a status-callback form into a StatusUpdate;
- classify_error()    maps Twilio error codes / HTTP statuses to SendResult terms (sent, retry, gone, failed);
- TwilioBot.send()    delivers an Outbound (long texts split into ≤1600-character parts, media by URL,
                      WhatsApp templates by ContentSid) and returns a classified SendResult;
- TwilioBot.download_media() fetches an inbound MediaUrl with the account's credentials.

The SDK has no base-URL setting, so RewritingHttpClient sends every "https://api.twilio.com" URL to the
configured api_base_url (a stand-in in tests, the real API otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeGuard

import requests
from requests.adapters import HTTPAdapter
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

import config
from bots.base import (
    BLOCKED,
    FAILED,
    GONE,
    INVALID_ADDRESS,
    OUTSIDE_WINDOW,
    RETRY,
    SMS,
    UNSUBSCRIBED,
    WHATSAPP,
    Inbound,
    Media,
    Outbound,
    SendResult,
    split_text,
)

TWILIO_ROOT = "https://api.twilio.com"
MAX_BODY = 1600  # characters in one message body
MAX_MEDIA = 10  # MediaUrl parameters in one message
WA_PREFIX = "whatsapp:"

# Twilio error codes (https://www.twilio.com/docs/api/errors) → (SendResult status, reason)
_CODES = {
    20429: (RETRY, "rate"),  # too many concurrent requests
    21611: (RETRY, "queue_full"),  # the sender's queue would exceed 10 hours
    21610: (GONE, UNSUBSCRIBED),  # recipient replied STOP
    21211: (GONE, INVALID_ADDRESS),  # invalid 'To' number
    21612: (GONE, INVALID_ADDRESS),  # cannot route to this number
    21614: (GONE, INVALID_ADDRESS),  # not a mobile number
    30006: (GONE, INVALID_ADDRESS),  # landline or unreachable carrier
    63016: (GONE, OUTSIDE_WINDOW),  # WhatsApp free-form outside the 24-hour window
    63014: (GONE, BLOCKED),  # the customer blocked the business
    30004: (GONE, BLOCKED),  # message blocked
    30003: (FAILED, "unreachable"),  # handset off or out of coverage (transient)
    30005: (FAILED, "unknown_destination"),  # unknown or inactive handset
    30008: (FAILED, "unknown_error"),  # unknown delivery error
}


def classify_error(code: int | None, http_status: int | None) -> tuple[str, str]:
    """(status, reason) in SendResult terms for a Twilio error code and/or HTTP status.

    Used for API answers (both given) and for status callbacks (code only).
    """
    if code in _CODES:
        return _CODES[code]
    if http_status == 429:
        return RETRY, "rate"
    if http_status is not None and http_status >= 500:
        return RETRY, "server"
    return FAILED, f"twilio_{code if code is not None else http_status}"


class _Params(dict):
    """Form parameters as name → [values], the shape RequestValidator signs repeated keys from."""

    def getlist(self, key):
        return self[key]


def _as_params(params) -> _Params:
    if hasattr(params, "getlist"):  # werkzeug MultiDict, Django QueryDict
        return _Params({key: [str(v) for v in params.getlist(key)] for key in params})
    return _Params(
        {
            key: [str(v) for v in (value if isinstance(value, (list, tuple)) else [value])]
            for key, value in (params or {}).items()
        }
    )


def verify_signature(auth_token: str, url: str, params, signature: str) -> bool:
    """True when `signature` (X-Twilio-Signature) signs the public `url` plus the POST `params`."""
    if not auth_token or not signature:
        return False
    return RequestValidator(auth_token).validate(url, _as_params(params), signature)


def _bare(address: str) -> str:
    return address[len(WA_PREFIX) :] if address.startswith(WA_PREFIX) else address


def _media_kind(content_type: str) -> str:
    major = content_type.split("/", 1)[0].lower()
    return {"image": "photo", "audio": "voice", "video": "video"}.get(major, "document")


def inbound_sid(form) -> str | None:
    """The message's id: MessageSid, or SmsMessageSid / SmsSid in the older shape that carries only those."""
    return form.get("MessageSid") or form.get("SmsMessageSid") or form.get("SmsSid") or None


def parse_inbound(form) -> Inbound:
    """An inbound-message webhook form (dict or MultiDict) → Inbound. ValueError without a message id
    (MessageSid, SmsMessageSid or SmsSid) or From."""
    sid, sender = inbound_sid(form), form.get("From")
    if not sid or not sender:
        raise ValueError("not a Twilio inbound message: MessageSid and From are required")
    media = []
    try:  # a count we cannot read, or an absurd one, must not lose the message nor loop for ever
        count = min(int(form.get("NumMedia") or 0), MAX_MEDIA)
    except ValueError:
        count = MAX_MEDIA
    for i in range(count):
        url = form.get(f"MediaUrl{i}")
        if url:
            content_type = form.get(f"MediaContentType{i}") or "application/octet-stream"
            media.append(Media(kind=_media_kind(content_type), url=url, content_type=content_type))
    text = form.get("Body") or ""
    message_type = form.get("MessageType") or ""
    kind, unsupported = "message", None
    if not text and not media:
        if form.get("Latitude") or message_type not in ("", "text"):
            kind, unsupported = "unsupported", message_type or "location"
        else:
            kind = "ignored"
    return Inbound(
        channel=WHATSAPP if sender.startswith(WA_PREFIX) else SMS,
        external_id=sid,
        kind=kind,
        chat_id=sender,
        user_id=_bare(sender),
        user_name=form.get("ProfileName") or "",
        text=text,
        media=media,
        unsupported_kind=unsupported,
        to_address=form.get("To"),
    )


@dataclass
class StatusUpdate:
    """One status callback: queued, sent, delivered, read, failed, undelivered (+ ErrorCode)."""

    message_sid: str
    status: str
    error_code: int | None = None
    failure: tuple[str, str] = (FAILED, "")  # (status, reason) in SendResult terms, when the message failed


def plausible_sid(sid) -> TypeGuard[str]:
    """Could this be a Twilio SID (34 letters and digits)? Generous, but never something no column stores
    (over 64 characters, a NUL, control characters)."""
    return isinstance(sid, str) and 0 < len(sid) <= 64 and sid.isascii() and sid.isprintable()


def parse_status(form) -> StatusUpdate:
    """A status-callback form → StatusUpdate. ValueError without MessageSid/MessageStatus (or the older
    SmsSid/SmsStatus)."""
    sid = form.get("MessageSid") or form.get("SmsSid")
    status = form.get("MessageStatus") or form.get("SmsStatus")
    if not sid or not status:
        raise ValueError("not a Twilio status callback: MessageSid and MessageStatus are required")
    if not plausible_sid(sid) or "\x00" in status:
        raise ValueError("not a Twilio status callback: unusable MessageSid or MessageStatus")
    code = int(form["ErrorCode"]) if str(form.get("ErrorCode") or "").isdigit() else None
    # outbox.delivery holds 16 characters: "partially_delivered" (19) is kept as "partially_delive"
    return StatusUpdate(sid, status[:16], code, classify_error(code, None))


class RewritingHttpClient(TwilioHttpClient):
    """TwilioHttpClient that sends "https://api.twilio.com…" to base_url instead (pooled session kept)."""

    def __init__(self, base_url: str = TWILIO_ROOT, timeout: float | None = None, pool_size: int = 32):
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/")
        for scheme in ("http://", "https://"):
            self.session.mount(scheme, HTTPAdapter(pool_connections=4, pool_maxsize=pool_size))

    def rewrite(self, url: str) -> str:
        if url == TWILIO_ROOT or url.startswith(TWILIO_ROOT + "/"):
            return self.base_url + url[len(TWILIO_ROOT) :]
        return url

    def request(self, method, url, *args, **kwargs):
        return super().request(method, self.rewrite(url), *args, **kwargs)


class TwilioBot:
    """Sends Outbounds on WhatsApp/SMS through one Twilio account. Synchronous and thread-safe."""

    def __init__(self, settings):
        self.cfg = config.twilio(settings)
        self.timeout = float(self.cfg.timeout_s or 10)
        self.http = RewritingHttpClient(self.cfg.api_base_url or TWILIO_ROOT, self.timeout)
        self._messages = None
        if self.configured:
            client = Client(self.cfg.account_sid, self.cfg.auth_token, http_client=self.http)
            self._messages = client.api.v2010.account.messages  # built once, not lazily per thread

    @property
    def configured(self) -> bool:
        return bool(self.cfg.account_sid and self.cfg.auth_token)

    def channel_configured(self, channel: str) -> bool:
        sender = {WHATSAPP: self.cfg.whatsapp_from, SMS: self.cfg.sms_from}.get(channel)
        return bool(self.configured and sender)

    def _addresses(self, out: Outbound) -> tuple[str, str]:
        if out.channel == WHATSAPP:
            return WA_PREFIX + _bare(self.cfg.whatsapp_from), WA_PREFIX + _bare(out.chat_id)
        return self.cfg.sms_from, out.chat_id

    def send(self, out: Outbound, skip_parts: int = 0) -> SendResult:
        """Deliver `out`; skip_parts resumes a long text after the parts an earlier attempt sent.

        parts_sent counts all parts delivered so far (skipped ones included), so a retry can pass
        skip_parts=result.parts_sent; message_ids holds the sids of the parts sent by this call.
        """
        if not self.channel_configured(out.channel):
            return SendResult.failed("not_configured", f"twilio {out.channel} sender is not configured")
        from_, to = self._addresses(out)
        common = {"to": to, "from_": from_}
        if out.status_callback:
            common["status_callback"] = out.status_callback
        if out.content_sid:  # WhatsApp template: ContentSid (+ ContentVariables), never a Body
            call = dict(common, content_sid=out.content_sid)
            if out.content_variables:
                call["content_variables"] = out.content_variables
            calls = [call]
        else:
            media_urls = [m.url for m in out.media if m.url][:MAX_MEDIA]
            parts = split_text(out.text, MAX_BODY) if out.text else [""]
            if parts == [""] and not media_urls:
                return SendResult.failed("empty", "no text, media or template to send")
            calls = []
            for i, part in enumerate(parts):
                call = dict(common)
                if part:
                    call["body"] = part
                if i == 0 and media_urls:
                    call["media_url"] = media_urls
                calls.append(call)
        ids, done = [], min(skip_parts, len(calls))
        for call in calls[done:]:
            try:
                ids.append(self._messages.create(**call).sid)
            except (TwilioRestException, TwilioServiceException) as exc:
                status, reason = classify_error(exc.code, exc.status)
                detail = f"{exc.status} {exc.code}: {getattr(exc, 'msg', None) or getattr(exc, 'detail', '')}"
                return SendResult(status, ids, reason=reason, detail=detail, parts_sent=done)
            except requests.RequestException as exc:
                return SendResult(RETRY, ids, reason="network", detail=repr(exc), parts_sent=done)
            done += 1
        return SendResult.sent(ids, parts_sent=done)

    def download_media(self, url: str) -> tuple[bytes, str]:
        """(bytes, content type) of an inbound MediaUrl; follows redirects; raises on any failure.

        The account's credentials go only to the Twilio API (api_base_url), never to a redirect target
        on another host (requests drops them there) or to a foreign URL.
        """
        url = self.http.rewrite(url)
        auth = None
        if self.configured and url.startswith(self.http.base_url + "/"):
            auth = (self.cfg.account_sid, self.cfg.auth_token)
        response = self.http.session.get(url, auth=auth, timeout=self.timeout, allow_redirects=True)
        response.raise_for_status()
        return response.content, response.headers.get("Content-Type", "application/octet-stream")
