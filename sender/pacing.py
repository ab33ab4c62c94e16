"""Rate limits kept in memory: a steady global rate per platform, one chat's rate, a group's per-minute cap.

Each limiter answers "how long until one more may go" without consuming, so the sender can skip a lane
and serve another; `take` consumes.
"""

from __future__ import annotations

import asyncio
import collections
import threading
import time

from bots.base import SMS, TELEGRAM, WHATSAPP


class Steady:
    """At most `rate` units a second, evenly spaced (no bursts that a sliding window would refuse).
    `catch_up` seconds of slots missed while the sender was busy elsewhere may still be used, a little
    faster than the rate (only where a Gate stands behind it and keeps any second within the limit)."""

    __slots__ = ("catch_up", "interval", "next_free")  # one per chat written to recently: a broadcast makes thousands

    def __init__(self, rate: float, catch_up: float = 0.0):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next_free = 0.0
        self.catch_up = catch_up

    def wait(self, now: float) -> float:
        return max(0.0, self.next_free - now)

    def take(self, now: float, cost: float = 1) -> None:
        self.next_free = max(self.next_free, now - self.catch_up) + self.interval * cost


class Window:
    """At most `limit` events in any `period` seconds."""

    def __init__(self, limit: int, period: float):
        self.limit, self.period = limit, period
        self.times: collections.deque[float] = collections.deque()

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


MARGIN = 0.99  # pace at 99 % of the limit (the Gate, not this margin, keeps every second within it)
CATCH_UP = 0.1  # seconds of missed slots may still be used (the gates keep every second within the limit)
PLATFORM_SECOND = 1.002  # the platforms' counting second, with a hair of margin for clock drift


class Gate:
    """The last guard before a request leaves: at most `limit` units (messages; SMS segments) in any second,
    as the platform counts them. The platform stamps a request at some moment between our sending it and
    our reading its answer, so a request here counts from when it starts until a second after its answer
    came back. Then no second at the platform can hold more than `limit`, however the network, a busy
    machine or the platform itself bunches the requests: the pacer keeps sends even, this makes a 429
    impossible. Thread-safe: Telegram's requests pass it in the event loop, Twilio's in worker threads."""

    def __init__(self, limit: float):
        self.limit = max(1, int(limit)) if limit > 0 else 0
        self.open = 0  # units started and not yet answered
        # (when the answer came, units) over the last second
        self.answered: collections.deque[tuple[float, int]] = collections.deque()
        self.answered_units = 0
        self._lock = threading.Lock()

    def wait(self, cost: int = 1) -> float:
        """0 and the request counted (call `done` with the same cost once its answer is in), or how long
        to wait before asking again. A request costing more than a whole second's limit goes alone."""
        if not self.limit:
            return 0.0
        cost = min(cost, self.limit)
        with self._lock:
            now = time.monotonic()
            while self.answered and self.answered[0][0] <= now - PLATFORM_SECOND:
                self.answered_units -= self.answered.popleft()[1]
            if self.open + self.answered_units + cost <= self.limit:
                self.open += cost
                return 0.0
            return self.answered[0][0] + PLATFORM_SECOND - now if self.answered else 0.002

    def done(self, cost: int = 1) -> None:
        """The request counted by `wait` has its answer (or failed)."""
        if self.limit:
            cost = min(cost, self.limit)
            with self._lock:
                self.open -= cost
                self.answered.append((time.monotonic(), cost))
                self.answered_units += cost

    def pass_blocking(self, cost: int = 1) -> None:
        """Wait (in a worker thread) until the request is counted."""
        while (wait := self.wait(cost)) > 0:
            time.sleep(wait)

    async def pass_async(self, cost: int = 1) -> None:
        """Wait (in the event loop) until the request is counted."""
        while (wait := self.wait(cost)) > 0:
            await asyncio.sleep(wait)


class Pacer:
    def __init__(self, settings):
        tg, tw = settings["telegram"], settings["twilio"]
        # sends are spaced evenly just under the limit; the gates make sure that the platform, counting its
        # sliding second as requests arrive, never sees more
        rates = {TELEGRAM: tg["rate_global_per_s"], WHATSAPP: tw["rate_whatsapp_per_s"], SMS: tw["rate_sms_per_s"]}
        self.global_limits = {channel: Steady(rate * MARGIN, CATCH_UP) for channel, rate in rates.items()}
        self.gates = {channel: Gate(rate) for channel, rate in rates.items()}
        self.chat_rate = tg["rate_chat_per_s"]
        self.group_per_min = tg["rate_group_per_min"]
        self.chats: dict[str, Steady] = {}
        self.groups: dict[str, Window] = {}
        self._last_gc = time.monotonic()

    def _chat_limits(self, channel: str, chat_id: str):
        if channel != TELEGRAM or chat_id == "callback":  # answering a button tap is no chat message
            return []
        limits: list[Steady | Window] = [self.chats.setdefault(chat_id, Steady(self.chat_rate))]
        if chat_id == "group" or chat_id.startswith(("group:", "-")):  # each agents' group (a team's too) its own
            limits.append(self.groups.setdefault(chat_id, Window(self.group_per_min, 60.0)))
        return limits

    def follow_wait(self, channel: str, now: float) -> float:
        """How long until a message may follow a request that is no message of its own (creating a forum topic)
        on the slot that request was paced by: only the platform's rate counts the extra request."""
        return self.global_limits[channel].wait(now)

    def take_follow(self, channel: str, now: float) -> None:
        self.global_limits[channel].take(now)

    def sent(self, channel: str, chat_id: str, answered: float) -> None:
        """A message to the chat was answered at `answered`: the chat's next one goes a whole interval after
        that, even when this one left later than its slot or took long on the way (the platform counts a chat's
        second from when it received each message, some moment before its answer)."""
        for limit in self._chat_limits(channel, chat_id):
            if isinstance(limit, Steady):
                limit.next_free = max(limit.next_free, answered + limit.interval)

    def channel_wait(self, channel: str, now: float) -> float:
        return self.global_limits[channel].wait(now)

    def wait(self, channel: str, chat_id: str, now: float) -> float:
        return max(
            [self.global_limits[channel].wait(now)] + [limit.wait(now) for limit in self._chat_limits(channel, chat_id)]
        )

    def take(self, channel: str, chat_id: str, now: float, text: str = "") -> None:
        cost = sms_segments(text) if channel == SMS else 1
        self.global_limits[channel].take(now, cost)
        for limit in self._chat_limits(channel, chat_id):
            limit.take(now)
        if now - self._last_gc > 10:  # forget chats whose pace no longer holds anything back: memory stays flat
            self.chats = {k: v for k, v in self.chats.items() if v.next_free > now}
            self._last_gc = now
