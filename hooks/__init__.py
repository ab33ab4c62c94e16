"""The small interface through which the inbox and the sender reach the business without knowing it: the
business (handlers.business) is installed here at start-up; the inbox hands it each parsed event, the
sender asks it to build the group's messages and tells it what became of each send."""

from __future__ import annotations

from typing import Any, Protocol

from bots.base import Inbound, Outbound, SendResult


class Business(Protocol):
    # the inbox
    def handle(self, event: Any, inbound: Inbound | None) -> None:
        """Handle one stored event (its outcome, outbound messages and 'done' mark in one transaction)."""

    # the sender
    def build(self, rows: list) -> tuple[Outbound | None, bool]:
        """The outbound message for a batch of outbox rows, and whether a topic must be made first."""

    def media_unavailable_note(self, kind: str, status: int) -> str: ...
    def sent(self, rows: list, out: Outbound, result: SendResult) -> None: ...
    def undeliverable(self, rows: list, result: SendResult) -> None: ...
    def topic_created(self, rows: list, out: Outbound, result: SendResult) -> None: ...
    def topics_unavailable(self, detail: str, lane: str) -> None: ...
    def topics_possible(self, is_forum: bool) -> None: ...
    def thread_gone(self, rows: list) -> None: ...
    def group_migrated(self, old_id: str, new_id: int) -> None: ...
    def agents_chat_id(self) -> int: ...
    def bot_username(self, username: str | None) -> None: ...


_business: Business | None = None


def install(business: Business) -> None:
    global _business
    _business = business


def business() -> Business:
    if _business is None:
        raise RuntimeError("no business installed (runtime installs handlers.business at start-up)")
    return _business
