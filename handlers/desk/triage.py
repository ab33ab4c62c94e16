"""Triage commands for agents: claim, assign, priority, tags, close/reopen, history, canned answers,
and the desk-wide views (/tickets, /find, /stats). Each returns the line to answer in the group."""

from __future__ import annotations

import datetime as dt
import re
import statistics
from zoneinfo import ZoneInfo

import config
import outbox
from db.models import Agent, Contact, Customer, Message, Ticket
from handlers.core import cards, clock, customers, teams, texts, tickets
from handlers.features import coupons, csat, duty, orders, selfservice, sla

TAG = re.compile(r"^[\w\u0600-\u06FF-]{1,32}$")


def _t(name, /, **values) -> str:
    return texts.for_agents(f"agents/{name}", **values)


# ---- on one ticket ------------------------------------------------------------------------------
def claim(ticket: Ticket, agent: Agent) -> str:
    return assign(ticket, agent)


def assign(ticket: Ticket, agent: Agent | None) -> str:
    """An agent's choice (/claim, /assign, /unassign): it overrides auto-assignment and its cap. The agent who
    lost the ticket frees up (their group's waiting tickets move on); an unassigned ticket goes to someone else
    on duty, or waits."""
    before = ticket.assignee_id
    tickets.set_assignee(ticket, agent)
    answer = (
        _t("assigned", ticket=ticket.number, agent=ticket.assignee) if agent else _t("unassigned", ticket=ticket.number)
    )
    if agent is None:
        duty.drain(ticket.team, skip=(ticket.id, before) if before else None)
    if before and before != ticket.assignee_id:
        duty.drain_for(before)
    return answer


def assign_by_username(ticket: Ticket, username: str) -> str:
    name = username.lstrip("@").strip()
    if not name or " " in name:
        return _t("usage_assign")
    agent = Agent.select().where(Agent.username**name).first()
    if agent is None:
        return _t("unknown_agent", username=name)
    return assign(ticket, agent)


def set_priority(ticket: Ticket, value: str) -> str:
    value = value.strip().lower()
    if value not in cards.PRIORITIES:
        return _t("usage_priority")
    ticket.priority = value
    ticket.save()
    cards.refresh(ticket)
    return _t("priority_set", ticket=ticket.number, priority=_t(f"priority_{value}"))


def tag(ticket: Ticket, words: str, remove: bool = False) -> str:
    wanted = [w.lstrip("#").lower() for w in words.split()]
    if not wanted or not all(TAG.match(w) for w in wanted):
        return _t("usage_untag" if remove else "usage_tag")
    current = list(ticket.tags or [])
    if remove:
        current = [t for t in current if t not in wanted]
    else:
        current += [w for w in wanted if w not in current]
    ticket.tags = current
    ticket.save()
    cards.refresh(ticket, rename_topic=False)
    return _t("tags_now", ticket=ticket.number, tags=" ".join(f"#{t}" for t in current) or "—")


def close(ticket: Ticket, agent_name: str, reason: str) -> str | None:
    if ticket.status == "closed":
        return _t("already_closed", ticket=ticket.number)
    ticket.close_reason = reason or None
    tickets.close(ticket, agent_name)
    cards.refresh(ticket)
    return None  # tickets.close already told the group


def reopen(ticket: Ticket, agent_name: str) -> str:
    if ticket.status == "open":
        return _t("already_open", ticket=ticket.number)
    other = tickets.open_ticket_of(ticket.customer)
    if other is not None:
        return _t("reopen_conflict", ticket=ticket.number, other=other.number)
    ticket.status, ticket.reopened_at, ticket.closed_at = "open", clock.now(), None
    ticket.save()
    outbox.to_group("", purpose="topic", ticket=ticket, method="reopen_topic")
    cards.refresh(ticket)
    answer = _t("reopened", ticket=ticket.number, agent=agent_name)
    duty.reopened(ticket)  # back to its agent if they are on duty (auto-assignment)
    return answer


def history(ticket: Ticket) -> str:
    earlier = (
        Ticket.select()
        .where((Ticket.customer == ticket.customer) & (Ticket.id != ticket.id))
        .order_by(Ticket.id.desc())
        .limit(10)
    )
    lines = [
        _t(
            "history_line",
            ticket=t.number,
            date=_local(t.created_at).strftime("%Y-%m-%d"),
            subject=(t.subject or "—")[:60],
            outcome=_outcome(t),
            rating=f" · {'⭐' * t.rating}" if t.rating else "",
        )
        for t in earlier
    ]
    name = customers.display_name(ticket.customer)
    told = _t("history_head", name=name) + "\n" + "\n".join(lines) if lines else _t("history_none", name=name)
    bought = orders.history(ticket.customer)  # their latest orders, once the shop's orders are here
    given = coupons.history(ticket.customer)  # their latest coupons: issued, redeemed or not
    return "\n\n".join(part for part in (told, bought, given) if part)


def _outcome(t: Ticket) -> str:
    if t.status == "open":
        return _t("status_open")
    return t.close_reason or _t("status_closed")


def canned_names() -> list[str]:
    names = set()
    for lang in texts.LANGUAGES:
        folder = texts.TEMPLATES / lang / "canned"
        if folder.is_dir():
            names |= {p.stem for p in folder.glob("*.txt")}
    return sorted(names)


def canned(ticket: Ticket, name: str, agent_name: str) -> str:
    names = canned_names()
    name = name.strip().lower()
    if not name:
        return _t("canned_list", names=", ".join(names) or "—")
    if name not in names:
        return _t("canned_unknown", name=name, names=", ".join(names) or "—")
    customer = ticket.customer
    lang = customers.language_of(customer)
    body = texts.render(
        lang,
        f"canned/{name}",
        name=customers.greeting_name(customer),
        ticket=ticket.number,
        agent=agent_name,
        shop=config.app().shop_name,
    )
    Message.create(ticket=ticket, direction="out", channel=ticket.contact.channel, text=body, author=agent_name)
    tickets.record_first_response(ticket)
    outbox.to_contact(ticket.contact, body, purpose="reply", ticket=ticket)
    return _t("canned_sent", name=name, ticket=ticket.number)


# ---- across the desk --------------------------------------------------------------------------------
RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}


def waiting_messages(ticket: Ticket) -> int:
    """Customer messages since the last answer: a customer who wrote again moves up the list."""
    last_out = (
        Message.select()
        .where((Message.ticket == ticket) & (Message.direction == "out"))
        .order_by(Message.id.desc())
        .first()
    )
    query = Message.select().where((Message.ticket == ticket) & (Message.direction == "in"))
    if last_out:
        query = query.where(Message.id > last_out.id)
    return query.count()


def list_tickets(which: str, agent: Agent) -> str:
    which = which.strip().lower()
    if which not in ("", "mine", "unassigned", "overdue"):
        return _t("usage_tickets")
    query = Ticket.select().where(Ticket.status == "open")
    if teams.all_teams():  # with teams, each group lists its own tickets
        here = teams.here()
        query = query.where(Ticket.team.is_null() if here is None else Ticket.team == here)
    if which == "mine":
        query = query.where(Ticket.assignee_id == agent.telegram_user_id)
    elif which == "unassigned":
        query = query.where(Ticket.assignee_id.is_null())
    found = list(query)
    now = clock.now()
    if which == "overdue":
        found = [t for t in found if sla.is_overdue(t, now)]
    if not found:
        return _t("tickets_none")
    waiting = {t.id: waiting_messages(t) for t in found}
    found.sort(key=lambda t: (RANK.get(t.priority, 2), -min(waiting[t.id], 2), t.created_at))
    lines = [
        _t(
            "tickets_line",
            ticket=t.number,
            name=customers.display_name(t.customer),
            age=_age(now - t.created_at),
            priority=_t(f"priority_{t.priority}"),
            assignee=t.assignee or _t("nobody"),
            waiting=f" · ✉️{waiting[t.id]}" if waiting[t.id] > 1 else "",
        )
        for t in found[:30]
    ]
    more = _t("tickets_more", count=len(found) - 30) if len(found) > 30 else ""
    return _t("tickets_head", count=len(found)) + "\n" + "\n".join(lines) + (f"\n{more}" if more else "")


def find(query: str) -> str:
    query = query.strip()
    if not query:
        return _t("usage_find")
    number = re.fullmatch(r"#?(\d{4,6})", query)
    digits = re.sub(r"\D", "", query)
    if number and int(number.group(1)) > 1000 and Ticket.get_or_none(id=int(number.group(1)) - 1000):
        found = [Ticket.get_by_id(int(number.group(1)) - 1000)]
    elif len(digits) >= 6:
        tail = digits[-10:]
        people = Customer.select().join(Contact).where(Contact.address.contains(tail)).distinct()
        found = list(Ticket.select().where(Ticket.customer.in_(people)).order_by(Ticket.id.desc()).limit(10))
    else:
        people = Customer.select().where(Customer.name.contains(query) | Customer.username.contains(query.lstrip("@")))
        found = list(Ticket.select().where(Ticket.customer.in_(people)).order_by(Ticket.id.desc()).limit(10))
    if not found:
        return _t("find_none", query=query)
    return "\n".join(
        _t(
            "find_line",
            ticket=t.number,
            name=customers.display_name(t.customer),
            channel=customers.CHANNEL_NAMES.get(t.contact.channel, ""),
            status=_outcome(t),
            date=_local(t.created_at).strftime("%Y-%m-%d"),
        )
        for t in found
    )


def stats(words: str) -> str:
    """/stats [today|week|month] [TEAM]: the numbers of the period, of one team's tickets when named."""
    period, team_name, names = "today", None, set(teams.names())
    for word in words.lower().split():
        if word in ("today", "week", "month"):
            period = word
        elif word in names and team_name is None:
            team_name = word
        else:
            return _t("usage_stats", teams=", ".join(sorted(names)))
    since = _period_start(period)
    opened = Ticket.select().where(Ticket.created_at >= since)
    closed = Ticket.select().where((Ticket.closed_at.is_null(False)) & (Ticket.closed_at >= since))
    of_team = None
    if team_name is not None:
        of_team = teams.tickets_of(team_name)
        opened, closed = opened.where(of_team), closed.where(of_team)
    first = [t.first_response_minutes for t in opened if t.first_response_minutes is not None]
    resolution = [t.resolution_minutes for t in closed if t.resolution_minutes is not None]
    tags: dict[str, int] = {}
    for t in opened:
        for word in t.tags or []:
            tags[word] = tags.get(word, 0) + 1
    top = sorted(tags.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    rating = csat.summary(since, only=of_team)
    bot = selfservice.stats(since) if team_name is None else ""  # the bot's answers are no team's
    given = coupons.stats(since) if team_name is None else ""  # coupons issued and redeemed: the shop's, no team's
    head = _t("stats_team", team=team_name) + "\n" if team_name else ""
    return (
        head
        + _t(
            "stats",
            period=_t(f"period_{period}"),
            opened=opened.count(),
            closed=closed.count(),
            first=_minutes(statistics.median(first)) if first else "—",
            resolution=_minutes(statistics.median(resolution)) if resolution else "—",
            csat=f"{rating['average']:.1f}" if rating.get("count") else "—",
            csat_count=rating.get("count", 0),
            tags=", ".join(f"#{k} ({v})" for k, v in top) or "—",
        )
        + "".join(f"\n{line}" for line in (bot, given) if line)
    )


# ---- helpers ----------------------------------------------------------------------------------------
def _zone() -> ZoneInfo:
    return ZoneInfo(config.app().timezone)


def _local(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC).astimezone(_zone())


def _period_start(period: str) -> dt.datetime:
    local_now = _local(clock.now())
    start = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "week":
        start -= dt.timedelta(days=start.weekday())
    elif period == "month":
        start = start.replace(day=1)
    return start.astimezone(dt.UTC).replace(tzinfo=None)


def _age(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return _t("age_minutes", minutes=minutes)
    if minutes < 48 * 60:
        return _t("age_hours", hours=minutes // 60, minutes=f"{minutes % 60:02d}")
    return _t("age_days", days=minutes // 1440)


def _minutes(value: float) -> str:
    return _age(dt.timedelta(minutes=value))
