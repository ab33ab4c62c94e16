"""The agents' group: replies become answers to customers, commands act on the ticket they are used in."""

from __future__ import annotations

import logging
from dataclasses import replace

import outbox
from bots.base import Inbound
from db.models import Agent, Ticket
from handlers.core import cards, clock, commands, team, teams, texts, tickets
from handlers.desk import commands as _desk_commands  # noqa: F401 (registers the desk's commands)
from handlers.desk import duty as _duty_commands  # noqa: F401 (registers /on, /off, /team)
from handlers.desk import moving as _moving  # noqa: F401 (registers /move)
from handlers.desk import triage

log = logging.getLogger(__name__)


def reply_in_place(inbound: Inbound, text: str) -> None:
    """Answer an agent where they wrote (in the topic, or as a reply to their message)."""
    outbox.enqueue(
        "telegram",
        teams.lane(teams.team_of_chat(inbound.chat_id)),
        purpose="agents",
        text=text,
        priority=outbox.PRIORITY_GROUP,
        thread_id=inbound.thread_id,
        reply_to_message_id=inbound.message_id,
    )


def seen(inbound: Inbound) -> Agent:
    """The agent who wrote, remembered (for /assign @username) and up to date."""
    agent = Agent.get_or_none(telegram_user_id=int(inbound.user_id or 0))
    if agent is None:
        agent = Agent.create(
            telegram_user_id=int(inbound.user_id or 0),
            first_name=inbound.user_name or "",
            username=inbound.username,
            last_seen_at=clock.now(),
        )
    elif (agent.first_name, agent.username) != (inbound.user_name or "", inbound.username):
        agent.first_name, agent.username = inbound.user_name or "", inbound.username
        agent.save()
    return agent


def on_group_message(inbound: Inbound) -> None:
    """Any message in an agents' group (the main one or a team's): answered in that group's language."""
    with teams.in_group_of(inbound.chat_id):
        _on_group_message(inbound)


def _on_group_message(inbound: Inbound) -> None:
    if inbound.kind == "callback":
        on_button(inbound)
        return
    if not team.is_agent(inbound.user_id):
        # a member who is not an agent: nothing they write reaches a customer, no command acts
        log.info("group message from a non-agent ignored kind=%s user=%s", inbound.kind, inbound.user_id)
        if inbound.kind == "command":
            reply_in_place(inbound, texts.for_agents("agents/not_an_agent"))
        return
    if inbound.kind == "message" and inbound.media and inbound.text.lstrip().startswith("/"):
        # a photo captioned "/note …" is for the agents: the command runs, nothing reaches the customer
        inbound = replace(inbound, kind="command", text=inbound.text.lstrip())
    if inbound.kind == "command" and team.for_another_bot(inbound.text):
        return  # "/close@other_bot": another bot in the group is being asked
    ticket = tickets.ticket_for_group_message(int(inbound.chat_id), inbound.thread_id, inbound.reply_to_message_id)
    agent = seen(inbound) if inbound.user_id else None
    agent_name = inbound.user_name or (f"@{inbound.username}" if inbound.username else "")
    if inbound.kind == "command":
        name, args = commands.parse(inbound.text)
        answer = run_command(name, args, ticket, agent, agent_name)
        if answer:
            reply_in_place(inbound, answer)
        return
    if ticket is None:
        return  # agents talking among themselves
    if inbound.kind == "edited":
        reply_in_place(inbound, texts.for_agents("agents/edit_not_sent"))
        return
    if inbound.kind == "unsupported":
        reply_in_place(
            inbound, texts.for_agents("agents/unsupported_reply", kind=texts.kind_for_agents(inbound.unsupported_kind))
        )
        return
    if inbound.kind == "message" and (inbound.text.strip() or inbound.media):
        tickets.agent_reply(ticket, agent_name, inbound)


def run_command(name: str, args: str, ticket, agent, agent_name: str) -> str | None:
    """Carry out an agent's command; the line to answer with (None when the action answered itself)."""
    found = commands.find(name)
    if found is None:
        return texts.for_agents("agents/unknown_command", command=name)
    if found.in_ticket and ticket is None:
        return texts.for_agents("agents/usage_outside_ticket", command=name)
    return found.run(name, args, ticket, agent, agent_name)


def on_button(inbound: Inbound) -> None:
    """A tap on a ticket card's button: answered at once, then done like the typed command."""
    if not team.is_agent(inbound.user_id):
        log.info("button tap from a non-agent refused user=%s", inbound.user_id)
        outbox.enqueue(
            "telegram",
            "callback",
            purpose="callback",
            text=texts.for_agents("agents/not_an_agent")[:200],
            callback_id=inbound.callback_id,
            method="answer_callback",
            priority=outbox.PRIORITY_CUSTOMER,
        )
        return
    agent = seen(inbound)
    agent_name = inbound.user_name or (f"@{inbound.username}" if inbound.username else "")
    parts = (inbound.callback_data or "").split(":")
    ticket_id = texts.as_id(parts[1]) if len(parts) >= 3 and parts[0] == "t" else None
    ticket = Ticket.get_or_none(id=ticket_id) if ticket_id is not None else None
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
    outbox.enqueue(
        "telegram",
        "callback",
        purpose="callback",
        text=toast[:200],
        callback_id=inbound.callback_id,
        method="answer_callback",
        priority=outbox.PRIORITY_CUSTOMER,
    )
    if answer and action not in ("close",):
        outbox.to_group(answer, purpose="agents", ticket=ticket)


def on_other_chat_command(inbound: Inbound) -> None:
    """A command in a group that is not (yet) the agents' group: only /chatid answers, to help set-up."""
    name, _ = commands.parse(inbound.text)
    if name in ("chatid", "groupid"):
        outbox.enqueue(
            "telegram",
            inbound.chat_id,
            purpose="setup",
            priority=outbox.PRIORITY_GROUP,
            text=texts.for_agents("agents/chat_id", chat_id=inbound.chat_id),
            thread_id=inbound.thread_id,
            reply_to_message_id=inbound.message_id,
        )
