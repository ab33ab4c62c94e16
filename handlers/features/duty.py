"""On duty and auto-assignment ([desk] in settings).

Agents say /on and /off in their group (handlers.desk.duty); an agent is on duty in the group where they said
/on, and at closing time ([hours]) everyone goes off duty (the `duty` job). With `desk.auto_assign =
"least_busy"`, a new ticket goes to the on-duty agent of its group with the fewest open tickets (ties: the one
whose last assignment is oldest), never past `desk.max_open_per_agent`. A ticket nobody can take waits; the
waiting ones are given out, highest priority first, then oldest, whenever someone frees up (closes, lets one go)
or comes on duty. The card, the topic's name and a mention tell the agent. /claim and /assign still override."""

from __future__ import annotations

import datetime as dt
import logging

from peewee import fn

import config
import outbox
from bots.base import utf16_len
from db.connection import database, is_sqlite, write
from db.models import Agent, State, Ticket
from handlers.core import clock, events, hours, team, teams, texts, tickets

log = logging.getLogger(__name__)

LEAST_BUSY = "least_busy"
LOCK_KEY = 7212013  # PostgreSQL advisory lock: one assignment decision at a time (caps hold under concurrency)
CLOSING_STATE = "duty_closing"  # State: the closing (naive UTC, ISO) whose off-duty round is done
RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}


def enabled() -> bool:
    return config.desk().auto_assign == LEAST_BUSY


def _in_team(column, name: str | None):
    return column.is_null() if name is None else column == name


def _lock() -> None:
    if not is_sqlite():  # SQLite's transactions here already hold the write lock
        database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))


# ---- who is on duty ---------------------------------------------------------------------------------------
def set_on_duty(agent: Agent, on: bool, team_name: str | None = None) -> None:
    """The agent comes on duty in this team's group (None: the main group), or goes off duty."""
    agent.on_duty, agent.duty_team = on, (team_name if on else agent.duty_team)
    agent.on_duty_since = clock.now() if on else None
    agent.save()
    log.info("agent %s duty=%s team=%s", agent.telegram_user_id, "on" if on else "off", teams.display(team_name))


def on_duty(team_name: str | None) -> list[Agent]:
    """The agents on duty in this team's group, in the order they came."""
    query = Agent.select().where(Agent.on_duty & _in_team(Agent.duty_team, teams.known(team_name)))
    return list(query.order_by(Agent.on_duty_since, Agent.id))


def open_counts(agents: list[Agent]) -> dict[int, int]:
    """Open tickets per agent (their Telegram user id), in every group."""
    ids = [a.telegram_user_id for a in agents]
    if not ids:
        return {}
    rows = (
        Ticket.select(Ticket.assignee_id, fn.COUNT(Ticket.id))
        .where((Ticket.status == "open") & Ticket.assignee_id.in_(ids))
        .group_by(Ticket.assignee_id)
        .tuples()
    )
    return {int(user): count for user, count in rows}


def pick(team_name: str | None, exclude: tuple[int, ...] = ()) -> Agent | None:
    """The on-duty agent of the team's group who should get the next ticket, or None when nobody can."""
    agents = [a for a in on_duty(team_name) if team.is_agent(a.telegram_user_id) and a.telegram_user_id not in exclude]
    counts = open_counts(agents)
    cap = config.desk().max_open_per_agent
    free = [a for a in agents if counts.get(a.telegram_user_id, 0) < cap]
    if not free:
        return None
    return min(free, key=lambda a: (counts.get(a.telegram_user_id, 0), a.last_assigned_at or dt.datetime.min, a.id))


# ---- giving tickets out -----------------------------------------------------------------------------------
def tell(ticket: Ticket, agent: Agent) -> None:
    """Tell the agent in the ticket's thread, mentioning them (Telegram notifies them)."""
    name = agent.first_name or f"@{agent.username}"
    with teams.speaking_for(ticket):
        before, _, after = texts.for_agents(
            "agents/auto_assigned",
            agent="\0",
            ticket=ticket.number,
            open=open_counts([agent]).get(agent.telegram_user_id, 0),
            cap=config.desk().max_open_per_agent,
        ).partition("\0")
        mentions = [[utf16_len(before), utf16_len(name), agent.telegram_user_id]]
        outbox.to_group(before + name + after, purpose="agents", ticket=ticket, mentions=mentions)


def give(ticket: Ticket, agent: Agent) -> None:
    """Auto-assign an existing ticket (its card is in the group): card, topic name and a mention."""
    tickets.set_assignee(ticket, agent)
    tell(ticket, agent)
    log.info("ticket auto-assigned ticket=%s team=%s", ticket.number, teams.display(ticket.team))


def waiting(team_name: str | None) -> list[Ticket]:
    """The team's open unassigned tickets, highest priority first, then oldest."""
    query = Ticket.select().where(
        (Ticket.status == "open") & Ticket.assignee_id.is_null() & _in_team(Ticket.team, teams.known(team_name))
    )
    return sorted(query, key=lambda t: (RANK.get(t.priority, 2), t.created_at, t.id))


def drain(team_name: str | None, skip: tuple[int, int] | None = None, new: Ticket | None = None) -> int:
    """Give the team's waiting tickets to whoever can take them now; how many went. skip: (ticket id, agent id)
    — that agent just let that ticket go, so it goes to someone else (or waits). new: a ticket just opened, in
    the queue like the others; its card is still to be written (with the assignee), the mention follows it."""
    if not enabled():
        return 0
    _lock()
    given = 0
    for ticket in waiting(team_name):
        excluded = (skip[1],) if skip and skip[0] == ticket.id else ()
        agent = pick(team_name, exclude=excluded)
        if agent is None:
            if excluded:
                continue
            break
        if new is not None and ticket.id == new.id:
            tickets.set_assignee(new, agent, refresh=False)
            log.info("ticket auto-assigned ticket=%s team=%s", new.number, teams.display(new.team))
        else:
            give(ticket, agent)
        given += 1
    return given


def drain_for(user_id: int | None) -> int:
    """Someone's load went down (a ticket closed, moved or given away): their group's queue moves on."""
    agent = Agent.get_or_none(telegram_user_id=user_id) if user_id else None
    return drain(agent.duty_team) if agent and agent.on_duty else 0


def reopened(ticket: Ticket) -> None:
    """A reopened ticket goes back to its agent if they are on duty (and may take it); otherwise it is given out
    like a new one (or waits)."""
    if not enabled():
        return
    _lock()
    agent = Agent.get_or_none(telegram_user_id=ticket.assignee_id) if ticket.assignee_id else None
    if agent is not None and can_take_back(agent, ticket):
        tell(ticket, agent)
        return
    if ticket.assignee_id is not None:
        tickets.set_assignee(ticket, None)
    drain(ticket.team)


def can_take_back(agent: Agent, ticket: Ticket) -> bool:
    """The ticket's own agent, on duty in its group, and within the cap counting this (already theirs) ticket."""
    counts = open_counts([agent]).get(agent.telegram_user_id, 0)
    return (
        agent.on_duty
        and teams.known(agent.duty_team) == teams.known(ticket.team)
        and counts <= config.desk().max_open_per_agent
    )


# ---- the ticket's life ------------------------------------------------------------------------------------
@events.on(events.TICKET_OPENED)
def on_ticket_opened(ticket: Ticket, customer, channel: str) -> None:
    """A new ticket: its agent is chosen before its card is written, so the card and the topic carry the name."""
    if enabled():
        drain(ticket.team, new=ticket)  # in the queue with those already waiting: priority, then age
        if ticket.assignee_id is None:
            log.info("ticket waits for an agent ticket=%s team=%s", ticket.number, teams.display(ticket.team))


@events.on(events.TICKET_POSTED)
def on_ticket_posted(ticket: Ticket) -> None:
    """The card is on its way: now the mention follows it into the thread."""
    if enabled() and ticket.assignee_id:
        agent = Agent.get_or_none(telegram_user_id=ticket.assignee_id)
        if agent is not None:
            tell(ticket, agent)


@events.on(events.TICKET_CLOSED)
def on_ticket_closed(ticket: Ticket) -> None:
    if enabled():
        drain_for(ticket.assignee_id)


# ---- closing time (scheduler job) ---------------------------------------------------------------------------
def off_at_closing() -> None:
    """Scheduler job (every minute): once the shop has closed for the day, everyone who came on duty before
    the closing goes off duty, and each group where someone was on duty is told. Once per closing."""
    now = clock.now()
    if hours.is_open(now):
        return
    closing = hours.last_closing(now)
    if closing is None:
        return
    with write():
        last = State.read(CLOSING_STATE)
        if last and dt.datetime.fromisoformat(last) >= closing:
            return
        leaving = list(
            Agent.select()
            .where(Agent.on_duty & (Agent.on_duty_since.is_null() | (Agent.on_duty_since < closing)))
            .order_by(Agent.id)
        )
        groups: dict[str | None, list[str]] = {}
        for agent in leaving:
            groups.setdefault(teams.known(agent.duty_team), []).append(agent.first_name or f"@{agent.username}")
        if leaving:
            Agent.update(on_duty=False, on_duty_since=None).where(Agent.id.in_([a.id for a in leaving])).execute()
        for name, people in groups.items():
            with teams.speaking_in(name):
                outbox.to_group(
                    texts.for_agents("agents/duty_closing", names=", ".join(people), count=len(people)),
                    purpose="agents",
                    group=teams.lane(name),
                    idempotency_key=f"duty_closing:{closing.isoformat()}:{teams.display(name)}",
                )
        State.put(CLOSING_STATE, closing.isoformat())
    if leaving:
        log.info("closing time: %d agent(s) off duty in %d group(s)", len(leaving), len(groups))
