"""The inbox processor: handles stored webhook events in the background, each chat's in the order they
arrived, the chats taking turns.

Webhooks only store the raw event (inbox/store.py) and answer 200 at once; this thread parses
each pending event with bots/ and hands it to the business (hooks.business().handle), which marks it done in the same
transaction as its outcome. It wakes at once on a new event (in-process signal, or PostgreSQL NOTIFY from
web processes) and polls as a fallback; after a crash, pending events are simply handled on the next start.
It runs where the sender runs: in `python webhook.py`, or in the elected worker.py.
"""

from __future__ import annotations

import json
import logging
import threading
import time

import hooks
from bots import telegram as tg
from bots import twilio as tw
from db.connection import release
from db.models import InboundEvent
from inbox import store

log = logging.getLogger(__name__)
BATCH = 50  # events handled per round; each round looks again at who is waiting
WINDOW = 1000  # waiting events looked at, so that a chat behind a flood gets its turn
_read: dict[int, tuple] = {}  # event id → parse(event) for the window's events: each is parsed once, not each round


def parse(event: InboundEvent):
    """(the channel-neutral Inbound of a stored event, None) — or (None, why) for one we acknowledge but
    cannot read."""
    try:
        raw = json.loads(event.payload)
        if "\\u0000" in event.payload:
            raw = _without_nul(raw)
        return (tg.parse_update(raw) if event.source == "telegram" else tw.parse_inbound(raw)), None
    except Exception as exc:
        return None, exc


def _without_nul(value):
    """NUL characters dropped from every string: they carry nothing, and PostgreSQL refuses them in text."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    return value


def process_pending(limit: int = BATCH) -> int:
    """Handle up to `limit` waiting events, the chats taking turns (see `taking_turns`); return how many."""
    global _read
    try:
        events = list(
            InboundEvent.select().where(InboundEvent.status == "pending").order_by(InboundEvent.id).limit(WINDOW)
        )
        _read = {event.id: _read.get(event.id) or parse(event) for event in events}
        turns = taking_turns([(event, _read[event.id]) for event in events])[:limit]
        for event, (item, problem) in turns:
            del _read[event.id]  # handling may change the Inbound: an event left pending is read afresh
            if problem is not None:
                log.warning("unreadable %s event %s kept as done: %r", event.source, event.external_id, problem)
            _let_webhooks_go_first()
            hooks.business().handle(event, item)
        return len(turns)
    finally:
        release()


def taking_turns(parsed: list[tuple]) -> list[tuple]:
    """The (event, (Inbound, problem)) pairs in the order to handle them: each chat's events in the order they came,
    the chats taking turns — one customer flooding hundreds of messages does not hold up the next
    customer's first one. Chats take their first turn in the order they first wrote."""
    queues: dict[tuple, list] = {}
    for event, (item, problem) in parsed:
        queues.setdefault((event.source, item.chat_id if item is not None else None), []).append(
            (event, (item, problem))
        )
    order, rounds = [], list(queues.values())
    for depth in range(max((len(q) for q in rounds), default=0)):
        order += [q[depth] for q in rounds if depth < len(q)]
    return order


def _let_webhooks_go_first(most_s: float = 0.05) -> None:
    """Accepting (storing) comes before handling: during a burst, wait a moment while webhooks store."""
    deadline = time.monotonic() + most_s
    while store.storing() and time.monotonic() < deadline:
        time.sleep(0.001)


class Processor:
    def __init__(self, poll_s: float = 2.0):
        self.poll_s = poll_s
        self._event = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> Processor:
        store.on_store(self.wake)
        self._thread = threading.Thread(target=self._run, name="inbox", daemon=True)
        self._thread.start()
        return self

    def wake(self) -> None:
        self._event.set()

    def stop(self, timeout: float = 10) -> None:
        self._stopping = True
        self._event.set()
        if self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopping:
            self._event.clear()
            try:
                if process_pending() == BATCH:
                    continue
            except Exception:
                log.exception("inbox round failed")
            self._event.wait(self.poll_s)
