"""/move TEAM in a ticket: the ticket goes to another team's group (or back to the main one, `default`). There it
gets a new card (and topic) and its history; in the old group its thread is told and its topic closed. The
customer notices nothing. The ticket leaves its agent and is given out in its new group (auto-assignment)."""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

import config
import outbox
from config.sections import DEFAULT_TEAM
from db.models import Message, Outbox, Ticket
from handlers.core import cards, commands, customers, teams, texts, tickets
from handlers.features import duty

log = logging.getLogger(__name__)

HISTORY_MESSAGES = 40  # the newest this many messages of the conversation go with it
HISTORY_CHARS = 300  # each cut to this many characters


def _t(name, /, **values) -> str:
    return texts.for_agents(f"agents/{name}", **values)


def _names() -> str:
    return ", ".join(teams.names())


@commands.command("move", in_ticket=True)
def move_command(name, args, ticket, agent, agent_name):
    wanted = args.strip().lower()
    if not wanted or " " in wanted:
        return _t("usage_move", teams=_names())
    if wanted == DEFAULT_TEAM:
        target = teams.MAIN
    else:
        found = teams.find(wanted)
        if found is None:
            return _t("move_unknown", team=wanted, teams=_names())
        target = found.name
    if teams.known(ticket.team) == target:
        return _t("move_same", ticket=ticket.number, team=teams.display(target))
    move(ticket, target, agent_name)
    return None  # the old thread is told by move()


def move(ticket: Ticket, target: str | None, agent_name: str) -> None:
    """Move the ticket to the target team's group (None: the main group)."""
    old_team, old_lane = teams.known(ticket.team), teams.lane(ticket.team)
    old_thread, old_root, old_agent = ticket.thread_id, ticket.root_message_id, ticket.assignee_id
    # what was still waiting for the old group goes no more: the card and the history say it all in the new one
    Outbox.update(status="skipped").where(
        (Outbox.ticket == ticket) & (Outbox.status == "pending") & (Outbox.chat_id == old_lane)
    ).execute()
    with teams.speaking_in(old_team):
        outbox.enqueue(
            "telegram",
            old_lane,
            purpose="agents",
            text=_t("moved_away", ticket=ticket.number, team=teams.display(target), agent=agent_name),
            priority=outbox.PRIORITY_GROUP,
            thread_id=old_thread,
            reply_to_message_id=None if old_thread else old_root,
        )
        if old_thread:
            outbox.enqueue("telegram", old_lane, purpose="topic", method="close_topic", thread_id=old_thread, text="")
    ticket.team = target
    ticket.thread_id = ticket.root_message_id = ticket.group_chat_id = None
    ticket.save()
    if ticket.assignee_id is not None:
        tickets.set_assignee(ticket, None, refresh=False)  # the new group's agents take it from here
    with teams.speaking_for(ticket):
        cards.post(ticket, cards.first_message(ticket))
        outbox.to_group(history(ticket, teams.display(old_team), agent_name), purpose="agents", ticket=ticket)
    log.info("ticket moved ticket=%s from=%s to=%s", ticket.number, teams.display(old_team), teams.display(target))
    duty.drain(target)
    duty.drain_for(old_agent)


def history(ticket: Ticket, came_from: str, agent_name: str) -> str:
    """The conversation so far, for the new group: who said what and when (notes marked)."""
    zone = ZoneInfo(config.app().timezone)
    messages = list(
        Message.select().where(Message.ticket == ticket).order_by(Message.id.desc()).limit(HISTORY_MESSAGES)
    )
    lines = []
    for m in reversed(messages):
        words = (m.text or "").strip() or " ".join(f"[{kind}]" for kind in m.media or []) or "—"
        if len(words) > HISTORY_CHARS:
            words = words[: HISTORY_CHARS - 1] + "…"
        kind = {"in": "history_in", "out": "history_out"}.get(m.direction, "history_note")
        lines.append(
            _t(
                kind,
                time=m.created_at.replace(tzinfo=dt.UTC).astimezone(zone).strftime("%d-%m %H:%M"),
                name=customers.display_name(ticket.customer) if m.direction == "in" else (m.author or "—"),
                text=words,
            )
        )
    head = _t("moved_here", ticket=ticket.number, team=came_from, agent=agent_name)
    return head + "\n" + "\n".join(lines)
