"""The shop's team: who the owners and the agents are, and the agents' group (its effective id after a migration)."""

from __future__ import annotations

import logging

import config
from db.models import State

log = logging.getLogger(__name__)


def agents_chat_id() -> int:
    """The group's effective id: the configured one, or where Telegram said it migrated to."""
    configured = config.telegram().agents_chat_id
    migrated = State.read(f"migrated:{configured}")
    return int(migrated) if migrated else configured


def is_agents_chat(chat_id) -> bool:
    return bool(agents_chat_id()) and str(chat_id) == str(agents_chat_id())


def on_group_migrated(old_id, new_id: int) -> None:
    """The group became a supergroup: remember its new id."""
    configured = config.telegram().agents_chat_id
    State.put(f"migrated:{configured}", str(new_id))
    log.warning("agents' group migrated to a supergroup; now using its new id (set telegram.agents_chat_id to it)")


def is_owner(user_id) -> bool:
    try:
        return int(user_id) in config.telegram().owner_ids
    except (TypeError, ValueError):
        return False


def is_agent(user_id) -> bool:
    """May this Telegram user act as an agent? Everyone in the agents' group while telegram.agent_ids is
    empty; otherwise only those ids and the owners (telegram.owner_ids)."""
    conf = config.telegram()
    allowed = conf.agent_ids
    if not allowed:
        return True
    try:
        user = int(user_id)
    except (TypeError, ValueError):
        return False
    return user in {int(x) for x in allowed} or user in set(conf.owner_ids)


def remember_bot_username(username: str | None) -> None:
    """Our bot's @username (from Telegram at start-up), to tell commands meant for another bot."""
    if username and State.read("bot_username") != username:
        State.put("bot_username", username)


def for_another_bot(text: str) -> bool:
    """'/close@other_bot …' — addressed to another bot in the group, not to us."""
    head = text.strip().split(maxsplit=1)[0] if text.strip() else ""
    _, at, bot = head.partition("@")
    mine = State.read("bot_username") if at else None
    return bool(at and mine and bot.lower() != mine.lower())
