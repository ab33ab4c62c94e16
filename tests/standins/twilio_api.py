"""A stand-in for Twilio's Messages REST API, served over real HTTP on loopback.

It answers the way https://www.twilio.com/docs/messaging/api/message-resource documents:
201 with a message resource, or 4xx/5xx with Twilio's JSON error body
({"code", "message", "more_info", "status"}). Tests steer it with opt_out(), close_window(),
fail_next(), set_down(), set_delay(), enforce_rate() and fail_delivery(), and read what
arrived from .messages / .sent() / .wait_for().

    api = TwilioStandin().start()
    bot settings: api_base_url = api.base_url, account_sid = api.account_sid, auth_token = api.auth_token
    ...
    api.stop()

Run alone: python -m tests.standins.twilio_api --port 8082
"""

from __future__ import annotations

import argparse
import base64
import collections
import contextlib
import json
import math
import queue
import re
import secrets
import socket
import sys
import threading
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import requests
from twilio.request_validator import RequestValidator

API_VERSION = "2010-04-01"
TWILIO_ROOT = "https://api.twilio.com"
E164 = re.compile(r"^\+[1-9]\d{1,14}$")

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = "^{}\\[~]|€\f"

ERRORS = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20503: "Service Unavailable",
    21211: "Invalid 'To' Phone Number",
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21617: "The concatenated message body exceeds the 1600 character limit.",
    63016: "Failed to send freeform message because you are outside the allowed window. "
    "If you are using WhatsApp, please use a Message Template.",
}


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def bare(address: str) -> str:
    """ "whatsapp:+92…" → "+92…"."""
    return address[len("whatsapp:") :] if address.startswith("whatsapp:") else address


def segments(body: str) -> int:
    """SMS segments for a body: GSM-7 160 (153 when split), otherwise UCS-2 70 (67 when split)."""
    if all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in body):
        length, single, multi = sum(2 if c in GSM7_EXTENDED else 1 for c in body), 160, 153
    else:
        length, single, multi = len(body.encode("utf-16-le")) // 2, 70, 67
    return 1 if length <= single else math.ceil(length / multi)


def error_body(code: int, status: int, message: str | None = None) -> dict:
    return {
        "code": code,
        "message": message or ERRORS.get(code, "Error"),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def sign(auth_token: str, url: str, params) -> str:
    """The X-Twilio-Signature Twilio would send with a webhook POST of `params` to `url`."""
    return RequestValidator(auth_token).compute_signature(url, params)


def inbound_form(
    from_: str,
    body: str,
    to: str,
    sid: str | None = None,
    profile_name: str | None = None,
    media=(),
    whatsapp: bool = False,
    account_sid: str | None = None,
) -> dict:
    """A realistic inbound-message webhook form, as Twilio posts it to the shop's URL.

    media: [(url, content_type), …]. whatsapp=True (or a "whatsapp:" From) adds the prefix to
    From/To and the WhatsApp fields (ProfileName, WaId, MessageType).
    """
    whatsapp = whatsapp or from_.startswith("whatsapp:")
    if whatsapp:
        from_, to = "whatsapp:" + bare(from_), "whatsapp:" + bare(to)
    media = list(media)
    sid = sid or new_sid("MM" if media else "SM")
    form = {
        "ToCountry": "PK",
        "ToState": "",
        "SmsMessageSid": sid,
        "NumMedia": str(len(media)),
        "ToCity": "",
        "FromZip": "",
        "SmsSid": sid,
        "FromState": "",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": body,
        "FromCountry": "PK",
        "To": to,
        "ToZip": "",
        "NumSegments": str(segments(body)),
        "MessageSid": sid,
        "AccountSid": account_sid or new_sid("AC"),
        "From": from_,
        "ApiVersion": API_VERSION,
    }
    for i, (url, content_type) in enumerate(media):
        form[f"MediaUrl{i}"] = url
        form[f"MediaContentType{i}"] = content_type
    if whatsapp:
        form["WaId"] = bare(from_).lstrip("+")
        form["ProfileName"] = profile_name or ""
        form["MessageType"] = media[0][1].split("/")[0] if media else "text"
        form["ReferralNumMedia"] = "0"
        for key in ("ToCountry", "ToState", "ToCity", "FromZip", "FromState", "FromCity", "FromCountry", "ToZip"):
            del form[key]
    elif profile_name:
        form["ProfileName"] = profile_name
    return form


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 64 * 1024  # headers and body leave in one write (no Nagle/delayed-ACK stalls)
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, *args):  # quiet
        pass

    def setup(self):
        super().setup()
        self.server.connections.add(self.connection)

    def finish(self):
        self.server.connections.discard(self.connection)
        super().finish()

    def do_POST(self):
        self._answer_it("POST")

    def do_GET(self):
        self._answer_it("GET")

    def _answer_it(self, method: str):
        standin = self.server.standin
        with standin._lock:
            standin.answering += 1
        try:
            standin._handle(self, method)
        finally:
            with standin._lock:
                standin.answering -= 1

    def answer(
        self,
        status: int,
        payload=None,
        body: bytes = b"",
        content_type: str = "application/json",
        headers: dict | None = None,
    ):
        if payload is not None:
            body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address, standin):
        self.standin = standin
        self.connections: set[socket.socket] = set()
        super().__init__(address, _Handler)

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):  # a client that gave up is not news
            super().handle_error(request, client_address)


class TwilioStandin:
    """Twilio's Messages API on 127.0.0.1. Thread-safe; everything it accepted is in .messages."""

    def __init__(self, account_sid: str | None = None, auth_token: str = "standin-auth-token"):
        self.account_sid = account_sid or new_sid("AC")
        self.auth_token = auth_token
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self.answering = 0  # requests being answered right now (one hanging for set_delay() included)
        self._address = ("127.0.0.1", 0)
        self._callback_queue: queue.Queue = queue.Queue()
        self._callback_http = requests.Session()
        for i in range(4):
            threading.Thread(target=self._callback_worker, name=f"twilio-standin-cb{i}", daemon=True).start()
        self.clear()

    # ---- life cycle -------------------------------------------------------------------------

    def start(self, port: int = 0, host: str = "127.0.0.1") -> TwilioStandin:
        self._server = _Server((host, port), self)
        self._address = self._server.server_address[:2]
        threading.Thread(target=self._server.serve_forever, args=(0.05,), name="twilio-standin", daemon=True).start()
        return self

    @property
    def base_url(self) -> str:
        host, port = self._address  # still known after stop(): a dead URL for connection-refused tests
        return f"http://{host}:{port}"

    def stop(self):
        """Stop listening and drop open keep-alive connections (clients then see connection errors)."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        for conn in list(self._server.connections):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._server = None

    def __enter__(self):
        return self.start() if self._server is None else self

    def __exit__(self, *exc):
        self.stop()

    # ---- steering ---------------------------------------------------------------------------

    def clear(self):
        """Back to a fresh stand-in: forget messages, media, faults, opt-outs, closed windows, limits, modes."""
        with self._lock:
            self.window_error_mode = "sync"  # "sync": 400/63016 at once; "callback": 201, then a failed callback
            self.auto_callbacks = False  # post sent/delivered (or failed) to each StatusCallback
            self.media_redirect = False  # True: media GETs answer 307 to an unauthenticated content URL
            self.messages: list[dict] = []
            self.errors: list[dict] = []  # refused sends: {to, status, code}
            self.callbacks: list[dict] = []  # status callbacks posted: {url, params, status}
            self.requests = 0
            self.too_many = 0
            self._opted_out: set[str] = set()
            self._closed: set[str] = set()
            self._delivery_failures: dict[str, int] = {}
            self._faults: list[dict] = []
            self._down: tuple[int, float | None] | None = None
            self._delay = 0.0
            self._rate: float | None = None
            self._recent: collections.deque = collections.deque()
            self._media: dict[str, tuple[bytes, str]] = {}

    def opt_out(self, number: str):
        with self._lock:
            self._opted_out.add(bare(number))

    def opt_in(self, number: str):
        with self._lock:
            self._opted_out.discard(bare(number))

    def close_window(self, number: str):
        with self._lock:
            self._closed.add(bare(number))

    def open_window(self, number: str):
        with self._lock:
            self._closed.discard(bare(number))

    def fail_delivery(self, number: str, code: int = 30003):
        """Messages to `number` are accepted, then reported undelivered (30xxx) or failed with `code`."""
        with self._lock:
            self._delivery_failures[bare(number)] = code

    def fail_next(
        self,
        to: str | None = None,
        times: int = 1,
        status: int = 429,
        code: int = 20429,
        message: str = "Too Many Requests",
    ):
        """The next `times` sends (to `to` exactly as posted, or to anyone) answer this error."""
        with self._lock:
            self._faults.append({"to": to, "times": times, "status": status, "code": code, "message": message})

    def set_down(self, status: int | None = 503, seconds: float | None = None):
        """Answer every request with `status` (for `seconds`, or until set_down(None))."""
        with self._lock:
            self._down = None if status is None else (status, None if seconds is None else time.monotonic() + seconds)

    def set_delay(self, seconds: float):
        with self._lock:
            self._delay = seconds

    def enforce_rate(self, per_s: float | None):
        """Accept at most per_s message creates in any one second; more answer 429/20429."""
        with self._lock:
            self._rate = per_s
            self._recent.clear()

    def add_media(self, data: bytes, content_type: str) -> str:
        """Store bytes; returns the MediaUrl Twilio would put in an inbound webhook."""
        path = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{new_sid('MM')}/Media/{new_sid('ME')}"
        with self._lock:
            self._media[path] = (data, content_type)
        return TWILIO_ROOT + path

    # ---- reading ----------------------------------------------------------------------------

    def sent_count(self) -> int:
        """How many messages were accepted so far (cheap: for polling while thousands arrive)."""
        with self._lock:
            return len(self.messages)

    def sent(self, to: str | None = None) -> list[dict]:
        with self._lock:
            return [m for m in self.messages if to is None or m["to"] == to]

    def wait_for(self, fn, timeout: float = 5):
        """Poll fn() until it returns something truthy (returned); AssertionError shows what arrived."""
        deadline = time.monotonic() + timeout
        while True:
            result = fn()
            if result:
                return result
            if time.monotonic() > deadline:
                with self._lock:
                    seen = [(m["to"], m["body"][:60], m["status"]) for m in self.messages]
                    refused = list(self.errors)
                    calls = [(c["params"].get("MessageStatus"), c["status"]) for c in self.callbacks]
                raise AssertionError(
                    f"timed out after {timeout}s; messages: {seen}; refused: {refused}; callbacks: {calls}"
                )
            time.sleep(0.01)

    # ---- HTTP -------------------------------------------------------------------------------

    def _handle(self, req: _Handler, method: str):
        length = int(req.headers.get("Content-Length") or 0)
        raw = req.rfile.read(length) if length else b""
        with self._lock:
            self.requests += 1
            delay, down = self._delay, self._down
            if down and down[1] is not None and time.monotonic() > down[1]:
                self._down = down = None
        if delay:
            time.sleep(delay)
        if down:
            return req.answer(
                down[0],
                error_body(
                    20503 if down[0] == 503 else 20500,
                    down[0],
                    "Service Unavailable" if down[0] == 503 else "Internal Server Error",
                ),
            )
        path = req.path.split("?", 1)[0]
        if method == "GET" and path.startswith("/_media/") and path[len("/_media") :] in self._media:
            data, content_type = self._media[path[len("/_media") :]]  # the "signed CDN" copy: no auth
            return req.answer(200, body=data, content_type=content_type)
        if not self._authorized(req.headers.get("Authorization", "")):
            return req.answer(401, error_body(20003, 401), headers={"WWW-Authenticate": 'Basic realm="Twilio API"'})
        messages = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages"
        if method == "POST" and path == messages + ".json":
            return self._create(req, parse_qs(raw.decode(), keep_blank_values=True))
        if method == "GET" and path in self._media:
            if self.media_redirect:
                return req.answer(307, {}, headers={"Location": self.base_url + "/_media" + path})
            data, content_type = self._media[path]
            return req.answer(200, body=data, content_type=content_type)
        if method == "GET" and path.startswith(messages + "/") and path.endswith(".json"):
            sid = path[len(messages) + 1 : -len(".json")]
            with self._lock:
                found = [m for m in self.messages if m["sid"] == sid]
            if found:
                return req.answer(200, self._resource(found[0]))
        req.answer(404, error_body(20404, 404, f"The requested resource {path} was not found"))

    def _authorized(self, header: str) -> bool:
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return secrets.compare_digest(header.encode(), expected.encode())

    def _create(self, req: _Handler, form: dict):
        def one(key):
            return (form.get(key) or [""])[0]

        to, from_, body, content_sid = one("To"), one("From"), one("Body"), one("ContentSid")
        media_urls = form.get("MediaUrl", [])
        number = bare(to)
        whatsapp = to.startswith("whatsapp:")

        def refuse(status, code, message=None):
            with self._lock:
                self.errors.append({"to": to, "status": status, "code": code})
            req.answer(status, error_body(code, status, message))

        with self._lock:
            if self._rate:
                now = time.monotonic()
                while self._recent and now - self._recent[0] >= 1:
                    self._recent.popleft()
                if len(self._recent) >= self._rate:
                    self.too_many += 1
                    fault = {"status": 429, "code": 20429, "message": "Too Many Requests"}
                else:
                    self._recent.append(now)
                    fault = None
            else:
                fault = None
            if fault is None:
                for f in self._faults:
                    if f["to"] is None or f["to"] == to:
                        f["times"] -= 1
                        if f["times"] <= 0:
                            self._faults.remove(f)
                        fault = f
                        break
            opted_out, closed = number in self._opted_out, number in self._closed
            delivery_failure = self._delivery_failures.get(number)
        if fault:
            return refuse(fault["status"], fault["code"], fault["message"])
        if not to:
            return refuse(400, 21604)
        if not from_ and not one("MessagingServiceSid"):
            return refuse(400, 21603)
        if not body and not media_urls and not content_sid:
            return refuse(400, 21602)
        if len(body) > 1600:
            return refuse(400, 21617)
        if not E164.match(number):
            return refuse(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if opted_out:
            return refuse(400, 21610)
        outside_window = whatsapp and closed and not content_sid
        if outside_window and self.window_error_mode == "sync":
            return refuse(400, 63016)

        message = {
            "sid": new_sid("MM" if media_urls else "SM"),
            "to": to,
            "from": from_,
            "body": body,
            "media_urls": media_urls,
            "content_sid": content_sid or None,
            "content_variables": one("ContentVariables") or None,
            "status_callback": one("StatusCallback") or None,
            "time": time.time(),
            "segments": segments(body),
            "status": "queued",
            "error_code": None,
            "messaging_service_sid": one("MessagingServiceSid") or None,
        }
        with self._lock:
            self.messages.append(message)
        req.answer(201, self._resource(message))

        if outside_window:
            self._report(message, [("failed", 63016)])
        elif delivery_failure:
            final = "undelivered" if 30000 <= delivery_failure < 31000 else "failed"
            self._report(message, [("sent", None), (final, delivery_failure)], only_if_auto=True)
        else:
            self._report(message, [("sent", None), ("delivered", None)], only_if_auto=True)

    def _resource(self, m: dict) -> dict:
        created = format_datetime(datetime.fromtimestamp(m["time"], UTC))
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{m['sid']}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": m["body"],
            "date_created": created,
            "date_sent": None,
            "date_updated": created,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": m["from"],
            "messaging_service_sid": m["messaging_service_sid"],
            "num_media": str(len(m["media_urls"])),
            "num_segments": str(m["segments"]),
            "price": None,
            "price_unit": "USD",
            "sid": m["sid"],
            "status": "queued",
            "subresource_uris": {"media": uri + "/Media.json"},
            "to": m["to"],
            "uri": uri + ".json",
        }

    # ---- status callbacks -------------------------------------------------------------------

    def _report(self, message: dict, steps: list, only_if_auto: bool = False):
        """Post the steps (status, error code) to the message's StatusCallback, in order, in the background.

        Window failures in "callback" mode are always reported; ordinary progress only with auto_callbacks.
        """
        last_status, last_code = steps[-1]
        with self._lock:
            message["status"], message["error_code"] = last_status, last_code
        if not message["status_callback"] or (only_if_auto and not self.auto_callbacks):
            return
        self._callback_queue.put((message, steps))

    def _callback_worker(self):
        while True:
            self._post_callbacks(*self._callback_queue.get())

    def _post_callbacks(self, message: dict, steps: list):
        url = message["status_callback"]
        for status, code in steps:
            params = {
                "MessageSid": message["sid"],
                "SmsSid": message["sid"],
                "MessageStatus": status,
                "SmsStatus": status,
                "To": message["to"],
                "From": message["from"],
                "AccountSid": self.account_sid,
                "ApiVersion": API_VERSION,
            }
            if code is not None:
                params["ErrorCode"] = str(code)
            headers = {"X-Twilio-Signature": sign(self.auth_token, url, params)}
            try:
                answer = self._callback_http.post(url, data=params, headers=headers, timeout=15).status_code
            except requests.RequestException as exc:
                answer = repr(exc)
            with self._lock:
                self.callbacks.append({"url": url, "params": params, "status": answer})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8082)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--account-sid", default=None)
    parser.add_argument("--auth-token", default="standin-auth-token")
    parser.add_argument("--auto-callbacks", action="store_true")
    args = parser.parse_args()
    standin = TwilioStandin(args.account_sid, args.auth_token)
    standin.auto_callbacks = args.auto_callbacks
    standin.start(args.port, args.host)
    print(
        f"Twilio stand-in on {standin.base_url}  account_sid={standin.account_sid} auth_token={standin.auth_token}",
        flush=True,
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        standin.stop()


if __name__ == "__main__":
    main()
