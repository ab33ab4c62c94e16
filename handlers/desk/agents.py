"""The agents' group: replies become answers to customers, commands act on the ticket they are used in."""
from __future__ import annotations

import logging
from dataclasses import replace

import config
from bots.base import Inbound
from db.models import Agent, State, Ticket
import outbox
from handlers.core import cards, clock, texts, tickets
from handlers.desk import triage
from handlers.features import greetings, loyalty, orders

log = logging.getLogger(__name__)

# commands that act on the ticket they are used in, and those for the group's general area
TICKET_COMMANDS = {"note", "close", "claim", "assign", "unassign", "priority", "tag", "untag", "reopen", "history",
                   "canned"}
DESK_COMMANDS = {"tickets", "find", "stats"}


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


def reply_in_place(inbound: Inbound, text: str) -> None:
    """Answer an agent where they wrote (in the topic, or as a reply to their message)."""
    outbox.enqueue("telegram", outbox.GROUP, purpose="agents", text=text, priority=outbox.PRIORITY_GROUP,
                   thread_id=inbound.thread_id, reply_to_message_id=inbound.message_id)


def seen(inbound: Inbound) -> Agent:
    """The agent who wrote, remembered (for /assign @username) and up to date."""
    agent = Agent.get_or_none(telegram_user_id=int(inbound.user_id or 0))
    if agent is None:
        agent = Agent.create(telegram_user_id=int(inbound.user_id or 0), first_name=inbound.user_name or "",
                             username=inbound.username, last_seen_at=clock.now())
    elif (agent.first_name, agent.username) != (inbound.user_name or "", inbound.username):
        agent.first_name, agent.username = inbound.user_name or "", inbound.username
        agent.save()
    return agent


def is_agent(user_id) -> bool:
    """May this Telegram user act as an agent? Everyone in the agents' group while telegram.agent_ids is
    empty; otherwise only those ids and the owners (telegram.owner_ids)."""
    conf = config.current()["telegram"]
    allowed = conf.get("agent_ids") or []
    if not allowed:
        return True
    try:
        user = int(user_id)
    except (TypeError, ValueError):
        return False
    return user in {int(x) for x in allowed} or user in {int(x) for x in conf.get("owner_ids") or []}


def on_group_message(inbound: Inbound) -> None:
    """Any message in the agents' group."""
    if inbound.kind == "callback":
        on_button(inbound)
        return
    if not is_agent(inbound.user_id):
        # a member who is not an agent: nothing they write reaches a customer, no command acts
        log.info("group message from a non-agent ignored kind=%s user=%s", inbound.kind, inbound.user_id)
        if inbound.kind == "command":
            reply_in_place(inbound, texts.for_agents("agents/not_an_agent"))
        return
    if inbound.kind == "message" and inbound.media and inbound.text.lstrip().startswith("/"):
        # a photo captioned "/note …" is for the agents: the command runs, nothing reaches the customer
        inbound = replace(inbound, kind="command", text=inbound.text.lstrip())
    if inbound.kind == "command" and for_another_bot(inbound.text):
        return   # "/close@other_bot": another bot in the group is being asked
    ticket = tickets.ticket_for_group_message(int(inbound.chat_id), inbound.thread_id,
                                              inbound.reply_to_message_id)
    agent = seen(inbound) if inbound.user_id else None
    agent_name = inbound.user_name or (f"@{inbound.username}" if inbound.username else "")
    if inbound.kind == "command":
        name, args = parse_command(inbound.text)
        answer = run_command(name, args, ticket, agent, agent_name)
        if answer:
            reply_in_place(inbound, answer)
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
        tickets.agent_reply(ticket, agent_name, inbound)


def run_command(name: str, args: str, ticket, agent, agent_name: str) -> str | None:
    """Carry out an agent's command; the line to answer with (None when the action answered itself)."""
    if name in TICKET_COMMANDS and ticket is None:
        return texts.for_agents("agents/usage_outside_ticket", command=name)
    if name == "note":
        if not args:
            return texts.for_agents("agents/usage_note")
        tickets.add_note(ticket, agent_name, args)
        return None
    if name == "close":
        return triage.close(ticket, agent_name, args)
    if name == "claim":
        return triage.claim(ticket, agent)
    if name == "assign":
        return triage.assign_by_username(ticket, args) if args else texts.for_agents("agents/usage_assign")
    if name == "unassign":
        return triage.assign(ticket, None)
    if name == "priority":
        return triage.set_priority(ticket, args)
    if name in ("tag", "untag"):
        return triage.tag(ticket, args, remove=name == "untag")
    if name == "reopen":
        return triage.reopen(ticket, agent_name)
    if name == "history":
        return triage.history(ticket)
    if name == "canned":
        return triage.canned(ticket, args, agent_name)
    if name == "tickets":
        return triage.list_tickets(args, agent)
    if name == "find":
        return triage.find(args)
    if name == "stats":
        return triage.stats(args)
    if name in ("chatid", "groupid"):
        return texts.for_agents("agents/chat_id", chat_id=agents_chat_id())
    if name in ("help", "start"):
        return texts.for_agents("agents/help")
    for module in (orders, loyalty, greetings):   # commands that live with their own business rules
        answer = module.agent_command(name, args, ticket, agent, agent_name)
        if answer is not NOT_MINE:
            return answer
    return texts.for_agents("agents/unknown_command", command=name)


NOT_MINE = object()   # what a module's agent_command returns for a command it does not know


def on_button(inbound: Inbound) -> None:
    """A tap on a ticket card's button: answered at once, then done like the typed command."""
    if not is_agent(inbound.user_id):
        log.info("button tap from a non-agent refused user=%s", inbound.user_id)
        outbox.enqueue("telegram", "callback", purpose="callback", text=texts.for_agents("agents/not_an_agent")[:200],
                       callback_id=inbound.callback_id, method="answer_callback", priority=outbox.PRIORITY_CUSTOMER)
        return
    agent = seen(inbound)
    agent_name = inbound.user_name or (f"@{inbound.username}" if inbound.username else "")
    parts = (inbound.callback_data or "").split(":")
    ticket = Ticket.get_or_none(id=int(parts[1])) if len(parts) >= 3 and parts[0] == "t" and parts[1].isdigit() else None
    action = parts[2] if ticket else ""
    answer = None
    if action == "claim":
        answer = triage.claim(ticket, agent)
    elif action == "priority" and len(parts) == 4:
        answer = triage.set_priority(ticket, parts[3])
    elif action == "priority":
        cards.refresh(ticket, choose_priority=True, rename_topic=False)
    elif action == "back":
        cards.refresh(ticket, rename_topic=False)
    elif action == "history":
        answer = triage.history(ticket)
    elif action == "close":
        answer = triage.close(ticket, agent_name, "") or texts.for_agents("agents/closed_short", ticket=ticket.number)
    elif action == "reopen":
        answer = triage.reopen(ticket, agent_name)
    toast = (answer or "").split("\n")[0] if answer else texts.for_agents("agents/button_ok")
    if ticket is None:
        toast = texts.for_agents("agents/button_stale")
    outbox.enqueue("telegram", "callback", purpose="callback", text=toast[:200], callback_id=inbound.callback_id,
                   method="answer_callback", priority=outbox.PRIORITY_CUSTOMER)
    if answer and action not in ("close",):
        outbox.to_group(answer, purpose="agents", ticket=ticket)


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
