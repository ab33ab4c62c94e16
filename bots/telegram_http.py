"""python-telegram-bot's HTTP layer on aiohttp, with the sender's rate gate in front of every request that
delivers a message.

httpx (python-telegram-bot's default) spends about 1.8 ms of CPU on each request, aiohttp about 0.3 ms: at a
broadcast's 300 messages a second that is half a core given back to the rest of the bot (and replies that
do not wait behind it). Errors are raised as python-telegram-bot's own (TimedOut, NetworkError), so the
rest of bots/telegram.py sees no difference.
"""

from __future__ import annotations

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

# the methods Telegram's flood limits count: those that put a message into a chat
COUNTED = frozenset(
    {
        "sendMessage",
        "sendMediaGroup",
        "copyMessage",
        "forwardMessage",
        "sendPhoto",
        "sendVideo",
        "sendVoice",
        "sendAudio",
        "sendDocument",
        "sendSticker",
        "sendAnimation",
        "sendVideoNote",
    }
)


class AiohttpRequest(BaseRequest):
    """One connection pool of `connections` to the Bot API. `gate` (optional, sender.pacing.Gate) is passed by
    every counted request: `await gate.pass_async()` before it, `gate.done()` once the answer is in."""

    def __init__(self, connections: int = 8, timeout: float = 10.0, gate=None):
        self._connections, self._timeout, self.gate = connections, timeout, gate
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float:
        return self._timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections), headers={"User-Agent": self.USER_AGENT}
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout=BaseRequest.DEFAULT_NONE,
        write_timeout=BaseRequest.DEFAULT_NONE,
        connect_timeout=BaseRequest.DEFAULT_NONE,
        pool_timeout=BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        await self.initialize()
        read, connect = self._seconds(read_timeout), self._seconds(connect_timeout)
        timeout = aiohttp.ClientTimeout(total=None, connect=connect, sock_connect=connect, sock_read=read)
        body, headers = _body(request_data)
        gated = self.gate is not None and url.rpartition("/")[2] in COUNTED
        if gated:
            await self.gate.pass_async()
        try:
            async with self._session.request(method, url, data=body, headers=headers, timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as err:
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err
        finally:
            if gated:
                self.gate.done()

    def _seconds(self, value) -> float | None:
        """A timeout the caller left at its default (python-telegram-bot's DEFAULT_NONE kind) is ours."""
        return self._timeout if isinstance(value, type(BaseRequest.DEFAULT_NONE)) else value


def _body(request_data: RequestData | None):
    """JSON for plain calls; multipart/form-data (parameters JSON-encoded, as the Bot API reads them) with files."""
    if request_data is None:
        return None, None
    if not request_data.contains_files:
        return request_data.json_payload, {"Content-Type": "application/json"}
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form, None
