"""On duty and auto-assignment, end to end through the webhook: /on, /off, /team; the least busy on-duty agent
gets a new ticket (ties: the longest since their last one), never past the cap; the waiting tickets go out,
highest priority first, then oldest, when someone frees up or comes on duty; a reopened ticket goes back to its
agent; /claim and /assign override; at closing time everyone goes off duty and the group is told."""

import datetime as dt

import pytest

from db.models import Agent, Ticket
from handlers.core import clock
from runtime import scheduler
from tests.helpers import AGENTS, OPEN_HOURS, answer, card_of, eventually, quiet

SARA = {"agent_id": 5001, "first_name": "Sara", "username": "sara_k"}
HAMZA = {"agent_id": 6002, "first_name": "Hamza", "username": "hamza_s"}
AUTO = {"desk.auto_assign": "least_busy", "desk.max_open_per_agent": 2}


@pytest.fixture
def desk(make_khidmat, tg_api):
    tg_api.set_forum(AGENTS, True)

    def make(**overrides):
        return make_khidmat(**{**AUTO, **overrides})

    return make


def comes_on(k, who):
    k.agent_message("/on", **who)
    answer(k, lambda t: f"{who['first_name']} is on duty" in t, what=f"{who['first_name']} on duty")


def complaint(k, user_id, text):
    """A customer's complaint; returns its ticket once its card is in the group."""
    k.tg_message(user_id, text, first_name=f"Customer{user_id}")
    k.wait_group(lambda t: text in t, what=f"the card of {text!r}")
    return Ticket.get(Ticket.subject == text)


def assignee(ticket_id):
    return Ticket.get_by_id(ticket_id).assignee


def mentioned(tg_api, ticket_number):
    """Who the bot mentioned (Telegram notifies them) in the 'is yours now' messages of this ticket."""
    return [
        e["user"]["id"]
        for c in tg_api.calls
        if c["method"] == "sendMessage" and f"#{ticket_number} is yours now" in str(c["params"].get("text"))
        for e in c["params"].get("entities") or []
        if e["type"] == "text_mention"
    ]


def topic_name(tg_api, ticket):
    return tg_api.topics(AGENTS)[Ticket.get_by_id(ticket.id).thread_id]["name"]


def test_least_busy_on_duty_agent_gets_the_ticket_up_to_the_cap_then_the_queue_drains(desk, tg_api):
    k = desk()
    comes_on(k, SARA)
    clock.travel_to(OPEN_HOURS + dt.timedelta(minutes=1))
    comes_on(k, HAMZA)
    first = complaint(k, 21, "the blender is broken")
    assert assignee(first.id) == "Sara"  # both at 0 and never assigned: the one on duty first
    card = card_of(k, 1001)["text"]
    assert "👤 Sara" in card  # the card is born with the assignee …
    eventually(lambda: topic_name(tg_api, first).endswith("→ Sara"), what="the topic's name")  # … and the topic
    eventually(lambda: mentioned(tg_api, 1001) == [5001], what="Sara mentioned")
    assert "🙋 Sara: #1001 is yours now (1 open of at most 2)." in k.group_texts()
    second = complaint(k, 22, "the kettle leaks")
    assert assignee(second.id) == "Hamza"  # fewer open tickets
    clock.travel_to(OPEN_HOURS + dt.timedelta(minutes=2))
    third = complaint(k, 23, "wrong colour sent")
    assert assignee(third.id) == "Sara"  # 1 each: Sara's last assignment is the older one
    fourth = complaint(k, 24, "the parcel is wet")
    assert assignee(fourth.id) == "Hamza"
    fifth = complaint(k, 25, "missing screws")
    assert assignee(fifth.id) is None  # both at the cap of 2: it waits
    assert "👤 unassigned" in card_of(k, 1005)["text"]
    k.agent_message("/team", **SARA)
    listing = answer(k, lambda t: t.startswith("👥 On duty"))
    assert listing == "👥 On duty in default: 2 · waiting for an agent: 1\n• Sara — 2 open\n• Hamza — 2 open"
    k.agent_message("/close", thread_id=Ticket.get_by_id(second.id).thread_id, **HAMZA)  # Hamza frees up
    eventually(lambda: assignee(fifth.id) == "Hamza", what="the waiting ticket given to Hamza")
    eventually(lambda: mentioned(tg_api, 1005) == [6002], what="Hamza mentioned")
    eventually(lambda: topic_name(tg_api, fifth).endswith("→ Hamza"), what="the topic renamed")
    quiet(k)
    assert Ticket.select().where(Ticket.assignee_id == 6002, Ticket.status == "open").count() == 2


def test_waiting_tickets_go_to_whoever_comes_on_duty_highest_priority_first_then_oldest(desk, tg_api):
    k = desk()
    older = complaint(k, 21, "the blender is broken")
    clock.travel_to(OPEN_HOURS + dt.timedelta(minutes=1))
    newer = complaint(k, 22, "the kettle leaks")
    clock.travel_to(OPEN_HOURS + dt.timedelta(minutes=2))
    pressing = complaint(k, 23, "urgent refund please, charged twice")  # urgent wording: high priority
    assert Ticket.get_by_id(pressing.id).priority == "high"
    assert [assignee(t.id) for t in (older, newer, pressing)] == [None, None, None]  # nobody on duty
    k.agent_message("/team", **SARA)
    assert answer(k, lambda t: "Nobody is on duty" in t) == (
        "👥 Nobody is on duty in default · waiting for an agent: 3. /on to start."
    )
    comes_on(k, SARA)  # the cap is 2: the high one, then the oldest
    eventually(lambda: assignee(pressing.id) == "Sara" and assignee(older.id) == "Sara", what="Sara's two")
    assert assignee(newer.id) is None
    comes_on(k, HAMZA)
    eventually(lambda: assignee(newer.id) == "Hamza", what="Hamza's one")
    eventually(lambda: mentioned(tg_api, 1002) == [6002], what="Hamza mentioned")


def test_off_duty_agents_get_no_tickets_and_usage_lines(desk):
    k = desk()
    comes_on(k, SARA)
    k.agent_message("/off", **SARA)
    assert answer(k, lambda t: "off duty" in t) == "⚪ Sara is off duty. Their 0 open tickets stay theirs."
    ticket = complaint(k, 21, "the blender is broken")
    quiet(k)
    assert assignee(ticket.id) is None
    assert not Agent.get(Agent.telegram_user_id == 5001).on_duty
    for command, usage in (("/on now", "Usage: /on"), ("/off please", "Usage: /off"), ("/team all", "Usage: /team")):
        k.agent_message(command, **SARA)
        answer(k, lambda t, usage=usage: t.startswith(usage), what=usage)


def test_auto_assignment_is_off_by_default(make_khidmat):
    k = make_khidmat()
    comes_on(k, SARA)
    ticket = complaint(k, 21, "the blender is broken")
    quiet(k)
    assert assignee(ticket.id) is None and not any("is yours now" in t for t in k.group_texts())


def test_a_reopened_ticket_goes_back_to_its_agent_when_on_duty_else_to_someone_on_duty(desk, tg_api):
    k = desk()
    comes_on(k, SARA)
    ticket = complaint(k, 21, "the blender is broken")
    thread = Ticket.get_by_id(ticket.id).thread_id
    k.agent_message("/close", thread_id=thread, **SARA)
    eventually(lambda: Ticket.get_by_id(ticket.id).status == "closed", what="closed")
    k.agent_message("/reopen", thread_id=thread, **HAMZA)
    answer(k, lambda t: "#1001 reopened" in t)
    eventually(lambda: len(mentioned(tg_api, 1001)) == 2, what="Sara told again")
    assert assignee(ticket.id) == "Sara" and mentioned(tg_api, 1001) == [5001, 5001]
    k.agent_message("/close", thread_id=thread, **SARA)
    eventually(lambda: Ticket.get_by_id(ticket.id).status == "closed", what="closed again")
    k.agent_message("/off", **SARA)
    answer(k, lambda t: "Sara is off duty" in t)
    comes_on(k, HAMZA)
    k.agent_message("/reopen", thread_id=thread, **HAMZA)
    eventually(lambda: assignee(ticket.id) == "Hamza", what="given to Hamza, on duty")
    eventually(lambda: mentioned(tg_api, 1001) == [5001, 5001, 6002], what="Hamza mentioned")


def test_claim_and_assign_override_the_cap_and_unassign_passes_the_ticket_on(desk):
    k = desk(**{"desk.max_open_per_agent": 1})
    comes_on(k, SARA)
    first = complaint(k, 21, "the blender is broken")
    second = complaint(k, 22, "the kettle leaks")
    assert (assignee(first.id), assignee(second.id)) == ("Sara", None)
    thread = Ticket.get_by_id(second.id).thread_id
    k.agent_message("/claim", thread_id=thread, **HAMZA)  # not on duty, and still may
    answer(k, lambda t: "#1002 is now Hamza's" in t)
    k.agent_message("/assign @sara_k", thread_id=thread, **HAMZA)  # past Sara's cap: a person's choice
    answer(k, lambda t: "#1002 is now Sara's" in t)
    assert Ticket.select().where(Ticket.assignee_id == 5001).count() == 2
    k.agent_message("/unassign", thread_id=Ticket.get_by_id(first.id).thread_id, **SARA)
    answer(k, lambda t: "#1001 is unassigned" in t)
    quiet(k)
    assert assignee(first.id) is None  # Sara let it go (and is at the cap): it waits
    comes_on(k, HAMZA)
    eventually(lambda: assignee(first.id) == "Hamza", what="the waiting one to Hamza")


def test_everyone_goes_off_duty_at_closing_time_and_the_group_is_told(desk):
    shop = {f"hours.{day}": "10:00-20:00" for day in ("monday", "tuesday", "wednesday", "thursday", "friday")}
    k = desk(**shop)
    comes_on(k, SARA)
    comes_on(k, HAMZA)
    scheduler.run("duty")  # still open (12:00 in Karachi): nobody leaves
    assert Agent.select().where(Agent.on_duty).count() == 2
    clock.travel_to(dt.datetime(2026, 11, 25, 15, 1))  # 20:01 in Karachi: closed for the day
    scheduler.run("duty")
    scheduler.run("duty")  # again (or on another host): told once
    told = k.wait_group(lambda t: t.startswith("🌙 Closing time"))
    quiet(k)
    assert [m["text"] for m in k.group() if m["text"].startswith("🌙")] == [
        "🌙 Closing time: Sara, Hamza off duty. New tickets wait until someone says /on."
    ]
    assert told[0]["chat_id"] == str(AGENTS)
    assert Agent.select().where(Agent.on_duty).count() == 0
    ticket = complaint(k, 21, "the blender is broken")  # tonight's ticket waits for the morning
    comes_on(k, SARA)  # someone on duty after closing stays on until the next closing
    eventually(lambda: assignee(ticket.id) == "Sara", what="the night's ticket to Sara")
    scheduler.run("duty")
    assert Agent.get(Agent.telegram_user_id == 5001).on_duty
