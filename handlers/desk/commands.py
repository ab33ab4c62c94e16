"""The desk's own commands, registered by name (handlers.core.commands): the ticket ones (note, close, claim,
assign, priority, tags, reopen, history, canned) and the desk-wide views (/tickets, /find, /stats, /chatid,
/help). The features register theirs where they live (/delay, /discount, /setbirthday …)."""

from __future__ import annotations

from handlers.core import commands, teams, texts, tickets
from handlers.desk import triage

command = commands.command


@command("note", in_ticket=True)
def note(name, args, ticket, agent, agent_name):
    if not args:
        return texts.for_agents("agents/usage_note")
    tickets.add_note(ticket, agent_name, args)
    return None


@command("close", in_ticket=True)
def close(name, args, ticket, agent, agent_name):
    return triage.close(ticket, agent_name, args)


@command("claim", in_ticket=True)
def claim(name, args, ticket, agent, agent_name):
    return triage.claim(ticket, agent)


@command("assign", in_ticket=True)
def assign(name, args, ticket, agent, agent_name):
    return triage.assign_by_username(ticket, args) if args else texts.for_agents("agents/usage_assign")


@command("unassign", in_ticket=True)
def unassign(name, args, ticket, agent, agent_name):
    return triage.assign(ticket, None)


@command("priority", in_ticket=True)
def priority(name, args, ticket, agent, agent_name):
    return triage.set_priority(ticket, args)


@command("tag", "untag", in_ticket=True)
def tag(name, args, ticket, agent, agent_name):
    return triage.tag(ticket, args, remove=name == "untag")


@command("reopen", in_ticket=True)
def reopen(name, args, ticket, agent, agent_name):
    return triage.reopen(ticket, agent_name)


@command("history", in_ticket=True)
def history(name, args, ticket, agent, agent_name):
    return triage.history(ticket)


@command("canned", in_ticket=True)
def canned(name, args, ticket, agent, agent_name):
    return triage.canned(ticket, args, agent_name)


@command("tickets")
def list_tickets(name, args, ticket, agent, agent_name):
    return triage.list_tickets(args, agent)


@command("find")
def find(name, args, ticket, agent, agent_name):
    return triage.find(args)


@command("stats")
def stats(name, args, ticket, agent, agent_name):
    return triage.stats(args)


@command("chatid", "groupid")
def chat_id(name, args, ticket, agent, agent_name):
    return texts.for_agents("agents/chat_id", chat_id=teams.chat_id_of(teams.here()))  # this group's (a team's)


@command("help", "start")
def help_(name, args, ticket, agent, agent_name):
    return texts.for_agents("agents/help")
