"""Enqueue outbound messages. The row is written in the caller's transaction; the sender wakes when it commits."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict

from bots.base import TELEGRAM, Media
from db.connection import after_commit, database, is_sqlite, runs_after_commit
from db.models import Outbox

GROUP = "group"  # chat_id of rows for the agents' group, resolved to its effective id at send time
# a team's group ([[teams]]): "group:<team>", its own lane (and its own 20 messages a minute)


def group_lane(team: str | None = None) -> str:
    """The chat_id of rows for a team's agents' group (the main group for None)."""
    return f"{GROUP}:{team}" if team else GROUP


def is_group(chat_id) -> bool:
    """Is this row's chat_id one of the agents' groups (the main one or a team's)?"""
    return chat_id == GROUP or str(chat_id).startswith(GROUP + ":")


def team_of(chat_id: str) -> str | None:
    """The team of a group lane ("group:returns" → "returns"; the main group → None)."""
    return str(chat_id).partition(":")[2] or None


PRIORITY_CUSTOMER = 0  # replies and acknowledgements to customers go first
PRIORITY_GROUP = 1
PRIORITY_NOTICE = 5
PRIORITY_BULK = 9  # broadcasts never hold up a reply

_listeners: list[Callable[[], None]] = []


def on_enqueue(fn):
    """Call fn() (from any thread) after a transaction that enqueued something commits."""
    _listeners.append(fn)


def _wake():
    for fn in list(_listeners):
        fn()


def enqueue(
    channel: str,
    chat_id: str,
    *,
    purpose: str,
    text: str = "",
    media: list[Media] | None = None,
    ticket=None,
    priority: int = PRIORITY_NOTICE,
    merge_key: str | None = None,
    idempotency_key: str | None = None,
    delay_s: float = 0,
    **extra,
) -> Outbox:
    payload = _payload(text, extra)
    if media:
        payload["media"] = [{k: v for k, v in asdict(m).items() if v is not None and k != "data"} for m in media]
    row = Outbox.create(
        **_row(
            channel,
            chat_id,
            payload,
            time.time(),
            delay_s,
            purpose=purpose,
            ticket=ticket,
            priority=priority,
            merge_key=merge_key,
            idempotency_key=idempotency_key,
        )
    )
    _announce()
    return row


def to_contacts(messages: list[tuple], *, purpose: str, priority: int) -> dict[str, int]:
    """Many customers' messages in one statement (a broadcast's chunk): (contact, text, idempotency_key,
    extra payload) each. Returns idempotency key → outbox row id (rows already there are kept)."""
    if not messages:
        return {}
    now = time.time()
    Outbox.insert_many(
        [
            _row(
                c.channel,
                c.address,
                _payload(text, extra),
                now,
                purpose=purpose,
                priority=priority,
                idempotency_key=key,
            )
            for c, text, key, extra in messages
        ]
    ).on_conflict_ignore().execute()
    keys = [key for _, _, key, _ in messages]
    _announce()
    return dict(Outbox.select(Outbox.idempotency_key, Outbox.id).where(Outbox.idempotency_key.in_(keys)).tuples())


def _payload(text: str, extra: dict) -> dict:
    return {"text": text, **{k: v for k, v in extra.items() if v is not None}}


def _row(channel: str, chat_id, payload: dict, now: float, delay_s: float = 0, **columns) -> dict:
    """An outbox row's columns: its lane (destination) and times derived the one way they always are."""
    return {
        "channel": channel,
        "chat_id": str(chat_id),
        "destination": f"{channel}:{chat_id}",
        "payload": payload,
        "created_at": now,
        "next_attempt_at": now + delay_s,
        **columns,
    }


def _announce() -> None:
    """Wake the senders, once per transaction: this process's after the commit, other processes' by a
    PostgreSQL NOTIFY (delivered on commit)."""
    if not is_sqlite() and not runs_after_commit(_wake):
        database.execute_sql("NOTIFY khidmat_outbox")
    after_commit(_wake)


def to_group(
    text: str,
    *,
    purpose: str,
    ticket=None,
    media=None,
    merge: bool = False,
    header: str | None = None,
    group: str | None = None,
    **extra,
) -> Outbox:
    """A message for the agents' group, inside the ticket's thread when there is a ticket: the group of the
    ticket's team, or `group` (a lane from group_lane) for a message about no ticket (default: the main group).

    merge=True lets the sender join it with the ticket's other waiting messages (header shown once).
    """
    return enqueue(
        TELEGRAM,
        group or group_lane(getattr(ticket, "team", None)),
        purpose=purpose,
        text=text,
        media=media,
        ticket=ticket,
        priority=PRIORITY_GROUP,
        merge_key=f"t{ticket.id}" if (merge and ticket) else None,
        merge_header=header,
        in_thread=bool(ticket),
        **extra,
    )


def to_contact(contact, text: str, *, purpose: str, ticket=None, priority: int = PRIORITY_CUSTOMER, **extra) -> Outbox:
    return enqueue(
        contact.channel, contact.address, purpose=purpose, text=text, ticket=ticket, priority=priority, **extra
    )


def media_from_payload(payload: dict) -> list[Media]:
    return [Media(**m) for m in payload.get("media") or []]
