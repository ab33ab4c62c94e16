"""A stand-in for the Telegram Bot API: a real HTTP server on loopback for tests and benchmarks.

It answers like the documented Bot API for the methods Khidmat uses, records every call and every
delivered message, and injects the faults Telegram really produces: 429 with retry_after, 403 for a
blocked bot, "chat not found", upgraded groups (migrate_to_chat_id), deleted topics, 5xx, slowness.

    tg = TelegramStandin().start()
    bot = telegram.Bot(tg.token, base_url=f"{tg.base_url}/bot", base_file_url=f"{tg.base_url}/file/bot")
    ...
    tg.wait_for(1)      # the delivered messages, once there is at least one
    tg.stop()

Message ids count up per chat from 1 and only replies to messages the stand-in knows are accepted:
messages it delivered, topics it created, and customer messages made with `incoming()`.

By hand:  python -m tests.standins.telegram_api --port 8081 --token X
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
import threading
import time
from collections import deque
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

MEDIA_METHODS = {
    "sendPhoto": "photo",
    "sendVideo": "video",
    "sendVoice": "voice",
    "sendAudio": "audio",
    "sendDocument": "document",
    "sendSticker": "sticker",
    "sendAnimation": "animation",
    "sendVideoNote": "video_note",
}
DELIVERING = {"sendMessage", "sendMediaGroup", "copyMessage", "forwardMessage", *MEDIA_METHODS}
METHODS = DELIVERING | {
    "getMe",
    "setWebhook",
    "deleteWebhook",
    "getWebhookInfo",
    "editMessageText",
    "editMessageReplyMarkup",
    "deleteMessage",
    "answerCallbackQuery",
    "createForumTopic",
    "editForumTopic",
    "closeForumTopic",
    "reopenForumTopic",
    "deleteForumTopic",
    "getChat",
    "getChatMember",
    "getFile",
}
_BY_LOWER = {m.lower(): m for m in METHODS}
WITHOUT_CHAT = {"getMe", "setWebhook", "deleteWebhook", "getWebhookInfo", "answerCallbackQuery", "getFile"}
# form fields that are strings even when they look like JSON ("123" as a text stays a text)
STRING_FIELDS = {
    "text",
    "caption",
    "name",
    "url",
    "secret_token",
    "callback_query_id",
    "file_id",
    "parse_mode",
    "inline_message_id",
    "icon_custom_emoji_id",
    "business_connection_id",
    "message_effect_id",
    "title",
    "description",
    "thumbnail",
    *MEDIA_METHODS.values(),
}
MIME = {
    "voice": "audio/ogg",
    "audio": "audio/mpeg",
    "video": "video/mp4",
    "animation": "video/mp4",
    "document": "application/octet-stream",
}
MAX_TEXT, MAX_CAPTION = 4096, 1024


class ApiError(Exception):
    """An error answer: HTTP status, the Bot API description and optional ResponseParameters."""

    def __init__(self, status: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters


def bad(description: str) -> ApiError:
    return ApiError(400, "Bad Request: " + description)


def _decode(name, value):
    """Form values arrive as text; non-string fields (ints, objects, lists, bools) are JSON-encoded."""
    if name in STRING_FIELDS or not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _parse_multipart(content_type: str, body: bytes):
    """Fields and uploaded files ({name: {"data", "filename", "size"}}) of a multipart/form-data body."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        raise bad("can't parse multipart body")
    fields, files = {}, {}
    for chunk in body.split(b"--" + match.group(1).encode())[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, data = chunk.partition(b"\r\n\r\n")
        data = data[:-2] if data.endswith(b"\r\n") else data
        head = head.decode("utf-8", "replace")
        name = re.search(r'[\s;]name="([^"]*)"', head)
        filename = re.search(r'filename="([^"]*)"', head)
        if not name:
            continue
        if filename:
            files[name.group(1)] = {"data": data, "filename": filename.group(1), "size": len(data)}
        else:
            fields[name.group(1)] = data.decode("utf-8")
    return fields, files


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_POST(self):
        standin = self.server.standin
        with standin._lock:
            standin.answering += 1
        try:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, content_type, data = standin.respond(self.path, self.headers.get("Content-Type", ""), body)
        finally:
            with standin._lock:
                standin.answering -= 1
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST

    def log_message(self, *args):  # quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):  # clients that time out and leave are normal
            super().handle_error(request, client_address)


class TelegramStandin:
    """The Bot API on 127.0.0.1 for one bot; see the module docstring."""

    def __init__(self, token: str = "TEST:TOKEN", bot_id: int = 777000, bot_username: str = "khidmat_test_bot"):
        self.token, self.bot_id, self.bot_username = token, bot_id, bot_username
        self.read_all_group_messages = True
        self.echo = False  # print every call (the command line sets it)
        self._lock = threading.RLock()
        self._server = None
        self.answering = 0  # requests being answered right now (one hanging for set_delay() included)
        self.reset()

    # ---- life cycle -------------------------------------------------------------------------------
    def start(self, port: int = 0) -> TelegramStandin:
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.standin = self
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="telegram-standin", daemon=True
        ).start()
        return self

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start() if self._server is None else self

    def __exit__(self, *exc):
        self.stop()

    # ---- state, recording ---------------------------------------------------------------------------
    def reset(self):
        """Forget everything: recordings, chats, topics, files and faults."""
        with self._lock:
            self.clear()
            self.webhook = {"url": "", "secret_token": None, "allowed_updates": None}
            self.delay, self.jitter = 0.0, 0.0
            self._last_id, self._messages, self._topics, self._forums = {}, {}, {}, {}
            self._blocked, self._unknown, self._migrated = {}, set(), {}
            self._faults, self._down = [], None
            self._limits, self._windows = {}, {}
            self._files, self._paths, self._file_seq, self._update_id = {}, {}, 0, 0

    def clear(self):
        """Forget the recorded calls and sent messages and zero the counters (chats and faults stay)."""
        with self._lock:
            self.calls, self._sent = [], []
            self.too_many = self.errors = 0

    def sent_count(self) -> int:
        """How many messages were delivered so far (cheap: for polling while thousands arrive)."""
        with self._lock:
            return len(self._sent)

    def sent(self, chat_id=None, thread_id=None) -> list[dict]:
        """Delivered messages, oldest first, optionally only those to one chat / topic."""
        with self._lock:
            return [
                dict(m)
                for m in self._sent
                if (chat_id is None or m["chat_id"] == str(chat_id))
                and (thread_id is None or m["thread_id"] == thread_id)
            ]

    def wait_for(self, condition, timeout: float = 5, count: int = 1, chat_id=None) -> list[dict]:
        """Wait until `condition` (a number of sent messages, or a predicate on one sent message that
        `count` of them match) holds; return the matching sent messages. AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            sent = self.sent(chat_id)
            if isinstance(condition, int):
                matching, needed = sent, condition
            else:
                matching, needed = [m for m in sent if condition(m)], count
            if len(matching) >= needed:
                return matching
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"waited {timeout}s for {needed} matching message(s); sent: {sent}; last calls: {self.calls[-5:]}"
                )
            time.sleep(0.005)

    def topics(self, chat_id) -> dict[int, dict]:
        with self._lock:
            return {tid: dict(t) for tid, t in self._topics.get(str(chat_id), {}).items()}

    # ---- set-up and fault injection -----------------------------------------------------------------
    def add_file(self, file_id: str, data: bytes, file_path: str | None = None):
        with self._lock:
            file_path = file_path or f"documents/{file_id}"
            self._files[file_id] = (data, file_path)
            self._paths[file_path] = file_id

    def set_forum(self, chat_id, is_forum: bool = True, can_manage_topics: bool = True):
        with self._lock:
            if is_forum:
                self._forums[str(chat_id)] = can_manage_topics
            else:
                self._forums.pop(str(chat_id), None)

    def add_topic(self, chat_id, name: str = "Topic") -> int:
        """A topic someone else created in a forum chat; returns its thread id."""
        with self._lock:
            key = str(chat_id)
            self._forums.setdefault(key, True)
            return self._create_topic(key, name, 7322096)

    def delete_topic(self, chat_id, thread_id: int):
        with self._lock:
            topic = self._topics.get(str(chat_id), {}).get(int(thread_id))
            if topic:
                topic["deleted"] = True

    def block_chat(self, chat_id, description: str = "Forbidden: bot was blocked by the user"):
        with self._lock:
            self._blocked[str(chat_id)] = description

    def unblock_chat(self, chat_id):
        with self._lock:
            self._blocked.pop(str(chat_id), None)

    def unknown_chat(self, chat_id):
        with self._lock:
            self._unknown.add(str(chat_id))

    def migrate_chat(self, old_id, new_id):
        with self._lock:
            self._migrated[str(old_id)] = int(new_id)

    def fail_next(
        self,
        method=None,
        chat_id=None,
        times: int = 1,
        status: int = 429,
        description=None,
        retry_after=None,
        migrate_to_chat_id=None,
    ):
        """Answer the next `times` calls matching method/chat with an error (429 with retry_after by default)."""
        parameters = {}
        if migrate_to_chat_id is not None:
            status = 400 if status == 429 else status
            parameters["migrate_to_chat_id"] = int(migrate_to_chat_id)
            description = description or "Bad Request: group chat was upgraded to a supergroup chat"
        if status == 429:
            retry_after = retry_after or 1
            description = description or f"Too Many Requests: retry after {retry_after}"
        if retry_after is not None:
            parameters["retry_after"] = retry_after
        defaults = {400: "Bad Request", 403: "Forbidden: bot was blocked by the user"}
        description = description or defaults.get(status) or HTTPStatus(status).phrase
        with self._lock:
            self._faults.append(
                {
                    "method": method and method.lower(),
                    "chat": None if chat_id is None else str(chat_id),
                    "left": times,
                    "error": ApiError(status, description, parameters or None),
                }
            )

    def set_down(self, status: int = 502, seconds: float | None = None):
        with self._lock:
            self._down = (status, None if seconds is None else time.monotonic() + seconds)

    def set_up(self):
        with self._lock:
            self._down = None

    def set_delay(self, seconds: float, jitter: float = 0.0):
        """Each request waits `seconds` plus up to `jitter` more (random) before it is handled and counted:
        a busy platform or network, where requests sent evenly arrive bunched."""
        self.delay, self.jitter = seconds, jitter

    def enforce_rate(self, global_per_s=None, chat_per_s=None, group_per_min=None):
        """Flood limits on sends (sliding windows); None switches a limit off."""
        with self._lock:
            self._limits = {"global": global_per_s, "chat": chat_per_s, "group": group_per_min}
            self._windows = {}

    # ---- inbound helper -----------------------------------------------------------------------------
    def incoming(
        self,
        chat_id,
        text: str | None = None,
        *,
        user_id=None,
        first_name: str = "Customer",
        username=None,
        language_code=None,
        thread_id=None,
        reply_to=None,
        **fields,
    ) -> dict:
        """An Update a person would cause by writing into chat_id; the stand-in learns the message
        (so the bot may reply to it or copy it). `fields` adds raw Message fields (photo=[…], …)."""
        with self._lock:
            key = str(chat_id)
            user = {
                "id": int(user_id if user_id is not None else (key if not key.startswith("-") else 1001)),
                "is_bot": False,
                "first_name": first_name,
            }
            user.update({k: v for k, v in (("username", username), ("language_code", language_code)) if v})
            msg = {
                "message_id": self._next_id(key),
                "date": int(time.time()),
                "chat": self._chat(key),
                "from": user,
                **fields,
            }
            if text is not None:
                msg["text"] = text
            if thread_id is not None:
                msg.update(message_thread_id=int(thread_id), is_topic_message=True)
                if reply_to is None:  # what Telegram does for a plain message in a topic
                    reply_to = int(thread_id)
            if reply_to is not None:
                msg["reply_to_message"] = self._stored(key, int(reply_to))
            self._messages.setdefault(key, {})[msg["message_id"]] = msg
            self._update_id += 1
            return {"update_id": self._update_id, "message": msg}

    # ---- HTTP ---------------------------------------------------------------------------------------
    def respond(self, path: str, content_type: str, body: bytes) -> tuple[int, str, bytes]:
        """One HTTP request → (status, content type, body)."""
        if self.delay or self.jitter:
            time.sleep(self.delay + random.uniform(0, self.jitter))
        url = urlsplit(path)
        url_path = unquote(url.path)
        if url_path.startswith("/file/bot"):
            return self._file(url_path)
        match = re.fullmatch(r"/bot([^/]+)/(\w+)", url_path)
        method = match.group(2) if match else url_path
        raw, params, now = {}, {}, time.time()
        try:
            raw, files = dict(parse_qsl(url.query, keep_blank_values=True)), {}
            kind = content_type.split(";")[0].strip().lower()
            if body and kind == "application/json":
                raw.update(json.loads(body))
            elif body and kind == "multipart/form-data":
                fields, files = _parse_multipart(content_type, body)
                raw.update(fields)
            elif body:
                raw.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            params = {k: _decode(k, v) for k, v in raw.items()}
            for name, upload in files.items():
                params.setdefault(name, {"filename": upload["filename"], "size": upload["size"]})
            if not match:
                raise ApiError(404, "Not Found")
            result = self._call(match.group(1), method, params, files)
            status, answer = 200, {"ok": True, "result": result}
        except ApiError as err:
            status, answer = err.status, {"ok": False, "error_code": err.status, "description": err.description}
            if err.parameters:
                answer["parameters"] = err.parameters
        except (ValueError, TypeError, KeyError, AttributeError) as err:
            status, answer = 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {err}"}
        with self._lock:
            self.calls.append(
                {
                    "method": _BY_LOWER.get(method.lower(), method),
                    "params": params,
                    "raw": raw,
                    "time": now,
                    "status": status,
                }
            )
            self.errors += status != 200
            self.too_many += status == 429
        if self.echo:
            print(status, method, params.get("chat_id", ""), str(params.get("text") or "")[:80], flush=True)
        return status, "application/json", json.dumps(answer, ensure_ascii=False).encode()

    def _file(self, path: str):
        with self._lock:
            prefix = f"/file/bot{self.token}/"
            file_id = self._paths.get(path[len(prefix) :]) if path.startswith(prefix) else None
            if file_id is None:
                return 404, "application/json", b'{"ok":false,"error_code":404,"description":"Not Found"}'
            return 200, "application/octet-stream", self._files[file_id][0]

    def _call(self, token: str, method: str, params: dict, files: dict):
        if token != self.token:
            raise ApiError(401, "Unauthorized")
        name = _BY_LOWER.get(method.lower())
        if name is None:
            raise ApiError(404, "Not Found")
        chat = None if params.get("chat_id") in (None, "") else str(params["chat_id"])
        if chat is None and name not in WITHOUT_CHAT:
            raise bad("chat_id is empty")
        with self._lock:
            if self._down:
                status, until = self._down
                if until is None or time.monotonic() < until:
                    raise ApiError(status, HTTPStatus(status).phrase)
                self._down = None
            for fault in self._faults:
                if fault["method"] in (None, name.lower()) and fault["chat"] in (None, chat):
                    fault["left"] -= 1
                    if fault["left"] <= 0:
                        self._faults.remove(fault)
                    raise fault["error"]
            if chat is not None:
                if chat in self._unknown:
                    raise bad("chat not found")
                if chat in self._migrated:
                    raise ApiError(
                        400,
                        "Bad Request: group chat was upgraded to a supergroup chat",
                        {"migrate_to_chat_id": self._migrated[chat]},
                    )
                if name in DELIVERING and chat in self._blocked:
                    raise ApiError(403, self._blocked[chat])
            if name in DELIVERING:
                self._rate(chat or "")
            return getattr(self, "_m_" + name)(params, files, chat)

    def _rate(self, chat: str):
        now, waits, windows = time.monotonic(), [], []
        limits = self._limits
        for key, span, limit in (
            ("global", 1.0, limits.get("global")),
            (("chat", chat), 1.0, limits.get("chat")),
            (("group", chat), 60.0, limits.get("group") if chat.startswith("-") else None),
        ):
            if not limit:
                continue
            window = self._windows.setdefault(key, deque())
            while window and window[0] <= now - span:
                window.popleft()
            if len(window) >= limit:
                waits.append(window[0] + span - now)
            windows.append(window)
        if waits:
            after = max(1, math.ceil(max(waits)))
            raise ApiError(429, f"Too Many Requests: retry after {after}", {"retry_after": after})
        for window in windows:
            window.append(now)

    # ---- building messages --------------------------------------------------------------------------
    def _user(self) -> dict:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Khidmat", "username": self.bot_username}

    def _chat(self, chat: str) -> dict:
        chat_id = int(chat) if re.fullmatch(r"-?\d+", chat) else chat
        if chat.startswith("-"):
            return {
                "id": chat_id,
                "type": "supergroup",
                "title": f"Group {chat}",
                **({"is_forum": True} if chat in self._forums else {}),
            }
        return {"id": chat_id, "type": "private", "first_name": f"User {chat}"}

    def _next_id(self, chat: str) -> int:
        self._last_id[chat] = self._last_id.get(chat, 0) + 1
        return self._last_id[chat]

    def _stored(self, chat: str, message_id: int) -> dict:
        msg = self._messages.get(chat, {}).get(message_id)
        if msg is None:
            return {"message_id": message_id, "date": int(time.time()), "chat": self._chat(chat)}
        return {k: v for k, v in msg.items() if k != "reply_to_message"}

    def _thread(self, chat: str, params: dict):
        thread = params.get("message_thread_id")
        if thread in (None, "", 0):
            return None
        topic = self._topics.get(chat, {}).get(int(thread))
        if chat not in self._forums or topic is None or topic["deleted"]:
            raise bad("message thread not found")
        return int(thread)

    def _reply(self, chat: str, params: dict):
        reply_to, allow = params.get("reply_to_message_id"), params.get("allow_sending_without_reply")
        parameters = params.get("reply_parameters")
        if isinstance(parameters, dict):
            reply_to = parameters.get("message_id")
            allow = parameters.get("allow_sending_without_reply", allow)
            chat = str(parameters.get("chat_id", chat))
        if reply_to in (None, ""):
            return None
        if int(reply_to) in self._messages.get(chat, {}):
            return int(reply_to)
        if allow:
            return None
        raise bad("message to be replied not found")

    def _upload(self, kind: str, value, files: dict):
        """(file_id, upload size, file name) of a media parameter: a file id/URL, or an uploaded file."""
        upload = files.get(value[9:]) if isinstance(value, str) and value.startswith("attach://") else files.get(kind)
        if upload:
            self._file_seq += 1
            file_id = f"{kind}-{self._file_seq}-standin"
            self.add_file(file_id, upload["data"], f"{kind}s/file_{self._file_seq}")
            return file_id, upload["size"], upload["filename"]
        if isinstance(value, str) and value:
            return value, None, None
        raise bad(f"there is no {kind} in the request")

    @staticmethod
    def _media_object(kind: str, file_id: str, file_name=None):
        base = {"file_id": file_id, "file_unique_id": f"u-{file_id}"[:32]}
        if kind == "photo":
            return [dict(base, file_id=file_id + "-small", width=90, height=90), dict(base, width=1280, height=960)]
        extra = {
            "video": {"width": 640, "height": 360, "duration": 5},
            "voice": {"duration": 3},
            "audio": {"duration": 60},
            "animation": {"width": 320, "height": 240, "duration": 2},
            "video_note": {"length": 240, "duration": 4},
            "sticker": {"width": 512, "height": 512, "is_animated": False, "is_video": False, "type": "regular"},
        }.get(kind, {})
        if kind in MIME:
            extra["mime_type"] = MIME[kind]
        if file_name and kind in ("document", "audio", "video", "animation"):
            extra["file_name"] = file_name
        return {**base, **extra}

    def _deliver(
        self,
        method: str,
        chat: str,
        thread,
        reply_to,
        *,
        text=None,
        caption=None,
        kind=None,
        file_id=None,
        size=None,
        file_name=None,
        extra=None,
    ) -> dict:
        """Create, store and record one delivered message; return it as the API shows it."""
        now = time.time()
        msg = {"message_id": self._next_id(chat), "date": int(now), "chat": self._chat(chat), "from": self._user()}
        if thread:
            msg.update(message_thread_id=thread, is_topic_message=True)
        if reply_to:
            msg["reply_to_message"] = self._stored(chat, reply_to)
        if text is not None:
            msg["text"] = text
        if kind:
            msg[kind] = self._media_object(kind, file_id, file_name)
            if kind == "animation":  # Telegram also fills document for animations
                msg["document"] = self._media_object("document", file_id, file_name)
        if caption:
            msg["caption"] = caption
        msg.update(extra or {})
        self._messages.setdefault(chat, {})[msg["message_id"]] = msg
        self._sent.append(
            {
                "chat_id": chat,
                "method": method,
                "text": text,
                "caption": caption or None,
                "message_id": msg["message_id"],
                "thread_id": thread,
                "reply_to": reply_to,
                "kind": kind or "text",
                "file_id": file_id,
                "upload_size": size,
                "file_name": file_name,
                "time": now,
            }
        )
        return msg

    @staticmethod
    def _check_text(text, limit=MAX_TEXT):
        if text is None or not str(text).strip():
            raise bad("message text is empty")
        if len(str(text)) > limit:
            raise bad("message is too long")
        return str(text)

    @staticmethod
    def _check_caption(caption):
        if caption is not None and len(str(caption)) > MAX_CAPTION:
            raise bad("message caption is too long")
        return None if caption is None else str(caption)

    def _target(self, chat: str, params: dict, action: str) -> dict:
        msg = self._messages.get(chat, {}).get(int(params.get("message_id") or 0))
        if msg is None:
            raise bad(f"message to {action} not found")
        return msg

    def _forum(self, chat: str, params: dict | None = None, action: str = "manage") -> dict:
        if chat not in self._forums:
            raise bad("the chat is not a forum")
        if not self._forums[chat]:
            raise bad(f"not enough rights to {action} a topic")
        if params is None:
            return {}
        topic = self._topics.get(chat, {}).get(int(params.get("message_thread_id") or 0))
        if topic is None or topic["deleted"]:
            raise bad("message thread not found")
        return topic

    def _create_topic(self, chat: str, name: str, icon_color: int) -> int:
        thread = self._next_id(chat)
        self._topics.setdefault(chat, {})[thread] = {
            "name": name,
            "icon_color": icon_color,
            "closed": False,
            "deleted": False,
        }
        self._messages.setdefault(chat, {})[thread] = {
            "message_id": thread,
            "date": int(time.time()),
            "chat": self._chat(chat),
            "from": self._user(),
            "message_thread_id": thread,
            "is_topic_message": True,
            "forum_topic_created": {"name": name, "icon_color": icon_color},
        }
        return thread

    # ---- methods (called under the lock) ------------------------------------------------------------
    def _m_getMe(self, p, files, chat):
        return {
            **self._user(),
            "can_join_groups": True,
            "supports_inline_queries": False,
            "can_read_all_group_messages": self.read_all_group_messages,
        }

    def _m_setWebhook(self, p, files, chat):
        self.webhook = {
            "url": p.get("url", ""),
            "secret_token": p.get("secret_token"),
            "allowed_updates": p.get("allowed_updates"),
        }
        return True

    def _m_deleteWebhook(self, p, files, chat):
        self.webhook = {"url": "", "secret_token": None, "allowed_updates": None}
        return True

    def _m_getWebhookInfo(self, p, files, chat):
        info = {"url": self.webhook["url"], "has_custom_certificate": False, "pending_update_count": 0}
        if self.webhook["allowed_updates"]:
            info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    def _m_sendMessage(self, p, files, chat):
        thread, reply_to = self._thread(chat, p), self._reply(chat, p)
        markup = _markup(p)
        return self._deliver(
            "sendMessage",
            chat,
            thread,
            reply_to,
            text=self._check_text(p.get("text")),
            extra={"reply_markup": markup} if markup else None,
        )

    def _send_media(self, method, p, files, chat):
        kind = MEDIA_METHODS[method]
        caption = self._check_caption(p.get("caption")) if kind not in ("sticker", "video_note") else None
        thread, reply_to = self._thread(chat, p), self._reply(chat, p)
        file_id, size, file_name = self._upload(kind, p.get(kind), files)
        return self._deliver(
            method, chat, thread, reply_to, caption=caption, kind=kind, file_id=file_id, size=size, file_name=file_name
        )

    def _m_sendMediaGroup(self, p, files, chat):
        items = p.get("media")
        if not isinstance(items, list) or not 2 <= len(items) <= 10:
            raise bad("media group must contain 2-10 items")
        for item in items:
            self._check_caption(item.get("caption"))
        thread, reply_to = self._thread(chat, p), self._reply(chat, p)
        group_id, result = str(int(time.time() * 1000)), []
        for item in items:
            kind = item.get("type", "photo")
            file_id, size, file_name = self._upload(kind, item.get("media"), files)
            result.append(
                self._deliver(
                    "sendMediaGroup",
                    chat,
                    thread,
                    reply_to if not result else None,
                    caption=item.get("caption"),
                    kind=kind,
                    file_id=file_id,
                    size=size,
                    file_name=file_name,
                    extra={"media_group_id": group_id},
                )
            )
        return result

    def _copy(self, method, p, chat):
        source_chat = str(p.get("from_chat_id"))
        source = self._messages.get(source_chat, {}).get(int(p.get("message_id") or 0))
        if source is None:
            raise bad(f"message to {'copy' if method == 'copyMessage' else 'forward'} not found")
        thread, reply_to = self._thread(chat, p), self._reply(chat, p)
        kind = next((k for k in MEDIA_METHODS.values() if k in source), None)
        media = source.get(kind)
        file_id = (media[-1] if isinstance(media, list) else media)["file_id"] if kind else None
        caption = self._check_caption(p["caption"]) if "caption" in p and kind else source.get("caption")
        extra = {}
        if method == "forwardMessage" and "from" in source:
            extra["forward_origin"] = {"type": "user", "sender_user": source["from"], "date": source["date"]}
        return self._deliver(
            method,
            chat,
            thread,
            reply_to,
            text=source.get("text"),
            caption=caption,
            kind=kind,
            file_id=file_id,
            file_name=(media or {}).get("file_name") if isinstance(media, dict) else None,
            extra=extra,
        )

    def _m_copyMessage(self, p, files, chat):
        return {"message_id": self._copy("copyMessage", p, chat)["message_id"]}

    def _m_forwardMessage(self, p, files, chat):
        return self._copy("forwardMessage", p, chat)

    def _m_editMessageText(self, p, files, chat):
        msg = self._target(chat, p, "edit")
        text = self._check_text(p.get("text"))
        # an edit without reply_markup removes the buttons; the same words with other buttons is a change
        markup = _markup(p)
        if msg.get("text") == text and msg.get("reply_markup") == markup:
            raise bad(
                "message is not modified: specified new message content and reply markup are exactly "
                "the same as a current content and reply markup of the message"
            )
        msg.update(text=text, edit_date=int(time.time()))
        if markup:
            msg["reply_markup"] = markup
        else:
            msg.pop("reply_markup", None)
        return self._stored(chat, msg["message_id"])

    def _m_editMessageReplyMarkup(self, p, files, chat):
        msg = self._target(chat, p, "edit")
        if _markup(p):
            msg["reply_markup"] = _markup(p)
        return self._stored(chat, msg["message_id"])

    def _m_deleteMessage(self, p, files, chat):
        msg = self._target(chat, p, "delete")
        del self._messages[chat][msg["message_id"]]
        return True

    def _m_answerCallbackQuery(self, p, files, chat):
        return True

    def _m_createForumTopic(self, p, files, chat):
        self._forum(chat, action="create")
        name = str(p.get("name") or "")
        if not 1 <= len(name) <= 128:
            raise bad("TOPIC_TITLE_EMPTY" if not name else "TOPIC_TITLE_TOO_LONG")
        icon_color = int(p.get("icon_color") or 7322096)
        return {"message_thread_id": self._create_topic(chat, name, icon_color), "name": name, "icon_color": icon_color}

    def _m_editForumTopic(self, p, files, chat):
        topic = self._forum(chat, p, "edit")
        if p.get("name"):
            topic["name"] = str(p["name"])[:128]
        return True

    def _m_closeForumTopic(self, p, files, chat):
        self._forum(chat, p, "close")["closed"] = True
        return True

    def _m_reopenForumTopic(self, p, files, chat):
        self._forum(chat, p, "reopen")["closed"] = False
        return True

    def _m_deleteForumTopic(self, p, files, chat):
        self._forum(chat, p, "delete")["deleted"] = True
        return True

    def _m_getChat(self, p, files, chat):
        info = self._chat(chat)
        info.update(
            accent_color_id=0,
            max_reaction_count=11,
            accepted_gift_types={
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        )
        if chat.startswith("-"):
            info["is_forum"] = chat in self._forums
        return info

    def _m_getChatMember(self, p, files, chat):
        user_id = int(p.get("user_id") or 0)
        if user_id == self.bot_id and chat.startswith("-"):
            rights = dict.fromkeys(
                [
                    "can_manage_chat",
                    "can_delete_messages",
                    "can_manage_video_chats",
                    "can_restrict_members",
                    "can_invite_users",
                    "can_post_stories",
                    "can_edit_stories",
                    "can_delete_stories",
                    "can_pin_messages",
                ],
                True,
            )
            return {
                "status": "administrator",
                "user": self._user(),
                "can_be_edited": False,
                "is_anonymous": False,
                "can_promote_members": False,
                "can_change_info": False,
                **rights,
                "can_manage_topics": self._forums.get(chat, True),
            }
        user = self._user() if user_id == self.bot_id else {"id": user_id, "is_bot": False, "first_name": "User"}
        return {"status": "member", "user": user}

    def _m_getFile(self, p, files, chat):
        file_id = str(p.get("file_id") or "")
        if file_id not in self._files:
            raise bad("invalid file_id")
        data, path = self._files[file_id]
        return {"file_id": file_id, "file_unique_id": f"u-{file_id}"[:32], "file_size": len(data), "file_path": path}


for _method in MEDIA_METHODS:
    setattr(
        TelegramStandin, "_m_" + _method, lambda self, p, files, chat, _m=_method: self._send_media(_m, p, files, chat)
    )


def _markup(params: dict) -> dict | None:
    """The inline keyboard a call carries (reply_markup), if any."""
    return params.get("reply_markup") if isinstance(params.get("reply_markup"), dict) else None


def main(argv=None):
    parser = argparse.ArgumentParser(description="Telegram Bot API stand-in on 127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default="TEST:TOKEN")
    parser.add_argument("--bot-id", type=int, default=777000)
    parser.add_argument("--username", default="khidmat_test_bot")
    parser.add_argument("--forum", action="append", default=[], help="a chat id that is a forum (repeatable)")
    args = parser.parse_args(argv)
    standin = TelegramStandin(args.token, args.bot_id, args.username).start(args.port)
    for chat in args.forum:
        standin.set_forum(chat)
    standin.echo = True
    print(f"Telegram stand-in: api_base_url = {standin.base_url}  (token {args.token})", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        standin.stop()


if __name__ == "__main__":
    main()
