"""The agents' group: replies become answers to customers, commands act on the ticket they are used in."""
from __future__ import annotations

import logging

import config
from bots.base import Inbound
from db.models import State
from handlers import outbox, texts, tickets

log = logging.getLogger(__name__)

TICKET_COMMANDS = {"note", "close"}


def agents_chat_id() -> int:
    """The group's effective id: the configured one, or where Telegram said it migrated to."""
    configured = config.current()["telegram"]["agents_chat_id"]
    migrated = State.read(f"migrated:{configured}")
    return int(migrated) if migrated else configured


def is_agents_chat(chat_id: str) -> bool:
    return bool(agents_chat_id()) and str(chat_id) == str(agents_chat_id())


def parse_command(text: str) -> tuple[str, str]:
    """'/close@shop_bot now' → ('close', 'now')."""
    head, _, rest = text.strip().partition(" ")
    if "\n" in head:
        head, _, more = head.partition("\n")
        rest = f"{more} {rest}".strip()
    return head[1:].split("@", 1)[0].lower(), rest.strip()


def reply_in_place(inbound: Inbound, text: str) -> None:
    """Answer an agent where they wrote (in the topic, or as a reply to their message)."""
    outbox.enqueue("telegram", outbox.GROUP, purpose="agents", text=text, priority=outbox.PRIORITY_GROUP,
                   thread_id=inbound.thread_id, reply_to_message_id=inbound.message_id)


def on_group_message(inbound: Inbound) -> None:
    """Any message in the agents' group."""
    ticket = tickets.ticket_for_group_message(int(inbound.chat_id), inbound.thread_id,
                                              inbound.reply_to_message_id)
    agent = inbound.user_name or (f"@{inbound.username}" if inbound.username else "")
    if inbound.kind == "command":
        name, args = parse_command(inbound.text)
        if name in TICKET_COMMANDS and ticket is None:
            reply_in_place(inbound, texts.for_agents("agents/usage_outside_ticket", command=name))
        elif name == "note":
            if not args:
                reply_in_place(inbound, texts.for_agents("agents/usage_note"))
            else:
                tickets.add_note(ticket, agent, args)
        elif name == "close":
            tickets.close(ticket, agent)
        elif name in ("chatid", "groupid"):
            reply_in_place(inbound, texts.for_agents("agents/chat_id", chat_id=inbound.chat_id))
        elif name in ("help", "start"):
            reply_in_place(inbound, texts.for_agents("agents/help"))
        elif ticket is not None:
            reply_in_place(inbound, texts.for_agents("agents/unknown_command", command=name))
        return
    if ticket is None:
        return   # agents talking among themselves
    if inbound.kind == "edited":
        reply_in_place(inbound, texts.for_agents("agents/edit_not_sent"))
        return
    if inbound.kind == "unsupported":
        reply_in_place(inbound, texts.for_agents("agents/unsupported_reply", kind=inbound.unsupported_kind))
        return
    if inbound.kind == "message" and (inbound.text.strip() or inbound.media):
        tickets.agent_reply(ticket, agent, inbound)


def on_other_chat_command(inbound: Inbound) -> None:
    """A command in a group that is not (yet) the agents' group: only /chatid answers, to help set-up."""
    name, _ = parse_command(inbound.text)
    if name in ("chatid", "groupid"):
        outbox.enqueue("telegram", inbound.chat_id, purpose="setup", priority=outbox.PRIORITY_GROUP,
                       text=texts.for_agents("agents/chat_id", chat_id=inbound.chat_id),
                       thread_id=inbound.thread_id, reply_to_message_id=inbound.message_id)


def on_group_migrated(old_id: str, new_id: int) -> None:
    """The group became a supergroup: remember its new id."""
    configured = config.current()["telegram"]["agents_chat_id"]
    State.put(f"migrated:{configured}", str(new_id))
    log.warning("agents' group migrated to a supergroup; now using its new id (set telegram.agents_chat_id to it)")
