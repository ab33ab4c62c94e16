"""Rate limits kept in memory: a steady global rate per platform, one chat's rate, a group's per-minute cap.

Each limiter answers "how long until one more may go" without consuming, so the sender can skip a lane
and serve another; `take` consumes.
"""
from __future__ import annotations

import collections
import threading
import time

from bots.base import SMS, TELEGRAM, WHATSAPP


class Steady:
    """At most `rate` units a second, evenly spaced (no bursts that a sliding window would refuse)."""
    __slots__ = ("interval", "next_free")   # one per chat written to recently: a broadcast makes thousands

    def __init__(self, rate: float):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next_free = 0.0

    def wait(self, now: float) -> float:
        return max(0.0, self.next_free - now)

    def take(self, now: float, cost: float = 1) -> None:
        self.next_free = max(self.next_free, now) + self.interval * cost


class Window:
    """At most `limit` events in any `period` seconds."""

    def __init__(self, limit: int, period: float):
        self.limit, self.period = limit, period
        self.times = collections.deque()

    def wait(self, now: float) -> float:
        while self.times and self.times[0] <= now - self.period:
            self.times.popleft()
        if len(self.times) < self.limit:
            return 0.0
        return self.times[0] + self.period - now

    def take(self, now: float, cost: float = 1) -> None:
        self.times.append(now)

    def free(self, now: float) -> int:
        """How many events the current period still allows."""
        self.wait(now)
        return self.limit - len(self.times)


def sms_segments(text: str) -> int:
    """SMS segments a text costs: GSM-7 160 (153 when split), anything else (Urdu) UCS-2 70 (67)."""
    gsm = all(ord(c) < 128 for c in text)
    single, multi = (160, 153) if gsm else (70, 67)
    n = len(text)
    return 1 if n <= single else -(-n // multi)


MARGIN = 0.97     # pace at 97 % of the limit
GATE_SHARE = 0.985  # and never let more than 98.5 % of a high limit start within one second


class Gate:
    """The last guard before a request leaves: at most `limit` requests in any second, counted when they
    actually start (thread-safe: Twilio sends run in worker threads). The pacer's slots keep sends below
    the limit; this catches the bunching that late-waking threads would otherwise cause."""

    def __init__(self, limit: float):
        # a high limit keeps a little margin; a low one (10/s) the exact count: one less would cost 10 %
        limit = int(limit * GATE_SHARE) if limit >= 100 else int(limit)
        self.window = Window(max(1, limit), 1.0) if limit > 0 else None
        self._lock = threading.Lock()

    def wait(self) -> float:
        """0 and the request counted, or how long to wait before asking again."""
        if self.window is None:
            return 0.0
        with self._lock:
            now = time.monotonic()
            wait = self.window.wait(now)
            if wait <= 0:
                self.window.take(now)
            return wait

    def pass_blocking(self) -> None:
        while (wait := self.wait()) > 0:
            time.sleep(wait)


class Pacer:
    def __init__(self, settings):
        tg, tw = settings["telegram"], settings["twilio"]
        # the platforms count their limits over a sliding second as the requests arrive; network jitter can
        # bunch sends spaced exactly at the limit into one second over it (a 429), so keep a margin
        self.global_limits = {TELEGRAM: Steady(tg["rate_global_per_s"] * MARGIN),
                              WHATSAPP: Steady(tw["rate_whatsapp_per_s"] * MARGIN),
                              SMS: Steady(tw["rate_sms_per_s"] * MARGIN)}
        self.gates = {TELEGRAM: Gate(tg["rate_global_per_s"]), WHATSAPP: Gate(tw["rate_whatsapp_per_s"])}
        self.chat_rate = tg["rate_chat_per_s"]
        self.group_per_min = tg["rate_group_per_min"]
        self.chats: dict[str, Steady] = {}
        self.groups: dict[str, Window] = {}
        self._last_gc = time.monotonic()

    def _chat_limits(self, channel: str, chat_id: str):
        if channel != TELEGRAM or chat_id == "callback":   # answering a button tap is no chat message
            return []
        limits = [self.chats.setdefault(chat_id, Steady(self.chat_rate))]
        if chat_id == "group" or chat_id.startswith("-"):
            limits.append(self.groups.setdefault(chat_id, Window(self.group_per_min, 60.0)))
        return limits

    def channel_wait(self, channel: str, now: float) -> float:
        return self.global_limits[channel].wait(now)

    def wait(self, channel: str, chat_id: str, now: float) -> float:
        return max([self.global_limits[channel].wait(now)] + [l.wait(now) for l in self._chat_limits(channel, chat_id)])

    def take(self, channel: str, chat_id: str, now: float, text: str = "") -> None:
        cost = sms_segments(text) if channel == SMS else 1
        self.global_limits[channel].take(now, cost)
        for limit in self._chat_limits(channel, chat_id):
            limit.take(now)
        if now - self._last_gc > 10:   # forget chats whose pace no longer holds anything back: memory stays flat
            self.chats = {k: v for k, v in self.chats.items() if v.next_free > now}
            self._last_gc = now
