"""The agents' groups: the main one (telegram.agents_chat_id) and the teams' ([[teams]] in settings). Which group a
new ticket goes to (the first team whose rule matches), which group a chat is, each group's outbox lane and
effective id (after a migration), and the language the bot writes in there (a team's agent_language).

A ticket's team is `Ticket.team` (None: the main group); an agent's is where they said /on (`Agent.duty_team`)."""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Callable, Iterator

import config
import outbox
from config.sections import DEFAULT_TEAM, Team
from db.models import Customer, CustomerTag, State, Ticket
from handlers.core import customers, team, texts

log = logging.getLogger(__name__)

MAIN: str | None = None  # the main group's team (telegram.agents_chat_id)

# what a customer picked with the bot before their ticket (menu options, FAQ entries): fn(customer) -> names,
# registered by the feature that keeps it (self-service), read by the teams' `menu` rule
_choice_sources: list[Callable[[Customer], set[str]]] = []


def menu_choices(fn: Callable[[Customer], set[str]]) -> Callable[[Customer], set[str]]:
    """Register the decorated fn(customer) -> {choice, …} as a source for the `menu` routing rule."""
    if fn not in _choice_sources:
        _choice_sources.append(fn)
    return fn


def all_teams() -> list[Team]:
    return config.teams()


def find(name: str | None) -> Team | None:
    """The configured team of this name (None for the main group, an unknown or a removed team)."""
    wanted = (name or "").strip().lower()
    return next((t for t in all_teams() if t.name == wanted), None)


def known(name: str | None) -> str | None:
    """The team's name if it is configured, else None (the main group)."""
    found = find(name)
    return found.name if found else MAIN


def names() -> list[str]:
    """The groups by the names agents and owners use: the main group (DEFAULT_TEAM), then each team's."""
    return [DEFAULT_TEAM, *(t.name for t in all_teams())]


def tickets_of(name: str):
    """The condition on Ticket for one group's tickets, by such a name (DEFAULT_TEAM: the main group's, whose
    team is NULL)."""
    return Ticket.team.is_null() if name == DEFAULT_TEAM else Ticket.team == name


def chat_id_of(name: str | None) -> int:
    """The effective id of a team's group (the main group's for None or a team no longer configured)."""
    found = find(name)
    if found is None:
        return team.agents_chat_id()
    migrated = State.read(f"migrated:{found.chat_id}")
    return int(migrated) if migrated else found.chat_id


def lane(name: str | None) -> str:
    """The outbox chat_id for a team's group (a team no longer configured: sent to the main group)."""
    return outbox.group_lane(name)


def chat_id_of_lane(chat_id: str) -> int:
    return chat_id_of(outbox.team_of(chat_id))


def is_agents_chat(chat_id) -> bool:
    """The main agents' group or one of the teams' groups."""
    return team.is_agents_chat(chat_id) or any(str(chat_id_of(t.name)) == str(chat_id) for t in all_teams())


def team_of_chat(chat_id) -> str | None:
    """The team whose group this chat is (None: the main group, or no agents' group at all)."""
    return next((t.name for t in all_teams() if str(chat_id_of(t.name)) == str(chat_id)), MAIN)


def on_group_migrated(old_id, new_id: int) -> None:
    """An agents' group became a supergroup: remember its new id (the main group's, or a team's)."""
    for found in all_teams():
        if str(chat_id_of(found.name)) == str(old_id):
            State.put(f"migrated:{found.chat_id}", str(new_id))
            log.warning("team %s's group migrated to a supergroup; now using its new id (set its chat_id)", found.name)
            return
    team.on_group_migrated(old_id, new_id)


def display(name: str | None) -> str:
    """How agents read a team's name (the main group is "default", as /move names it)."""
    return known(name) or DEFAULT_TEAM


# ---- the language the bot writes in, per group --------------------------------------------------------------
def agent_language(name: str | None) -> str:
    found = find(name)
    return (found.agent_language if found else "") or config.app().agent_language


@contextlib.contextmanager
def speaking_in(name: str | None) -> Iterator[None]:
    """Within this block the agents' texts are in this team's group's language."""
    with texts.agents_speaking(agent_language(name)):
        yield


def speaking_for(ticket: Ticket) -> contextlib.AbstractContextManager[None]:
    """Within this block the agents' texts are in the language of the ticket's group."""
    return speaking_in(ticket.team)


# the team whose group the update being handled came from (an agent's command: /on, /team, /tickets …)
_here: contextvars.ContextVar[str | None] = contextvars.ContextVar("team_here", default=MAIN)


def here() -> str | None:
    """The team whose group the agent is writing in (None: the main group)."""
    return _here.get()


@contextlib.contextmanager
def in_group_of(chat_id) -> Iterator[None]:
    """Handling an update from this agents' group: here() is its team, and the bot writes in its language."""
    name = team_of_chat(chat_id)
    token = _here.set(name)
    try:
        with speaking_in(name):
            yield
    finally:
        _here.reset(token)


# ---- routing a new ticket -----------------------------------------------------------------------------------
def matches(rule: Team, channel: str, language: str, tags: set[str], choices: set[str]) -> bool:
    """Every key the team's rule gives matches (a team without a rule gets tickets only by /move)."""
    return (
        rule.has_rule
        and (not rule.channel or rule.channel == channel)
        and (not rule.language or rule.language == language)
        and (not rule.tag or rule.tag in tags)
        and (not rule.menu or rule.menu in choices)
    )


def route(ticket: Ticket, customer: Customer, channel: str) -> str | None:
    """The first team whose rule matches the new ticket (its channel, the customer's language, tags and choices
    with the bot), written on the ticket; None: the main group."""
    candidates = all_teams()
    if not candidates:
        return MAIN
    language = customers.language_of(customer)
    tags = {t.lower() for (t,) in CustomerTag.select(CustomerTag.tag).where(CustomerTag.customer == customer).tuples()}
    choices: set[str] = set()
    for source in _choice_sources:
        choices |= {c.lower() for c in source(customer)}
    chosen = next((t.name for t in candidates if matches(t, channel, language, tags, choices)), MAIN)
    if chosen != ticket.team:
        ticket.team = chosen
        ticket.save()
    log.info("ticket routed ticket=%s channel=%s team=%s", ticket.number, channel, chosen or DEFAULT_TEAM)
    return chosen
