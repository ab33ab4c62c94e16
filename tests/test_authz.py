"""Who may do what: only agents act in the agents' group (telegram.agent_ids), customers' "commands" are words,
button taps from elsewhere and requests without the webhook secret change nothing."""

from __future__ import annotations

from db.models import Agent, InboundEvent, Message, Outbox, Ticket
from tests.helpers import AGENTS, SECRET, eventually, open_ticket, quiet, tap

AGENT, OTHER_AGENT, OWNER, STRANGER = 5001, 5002, 7007, 6666
REFUSAL = "Only the shop's agents can do that here."


def ticket_state():
    t = Ticket.get()
    return (t.status, t.priority, t.assignee, t.assignee_id, tuple(t.tags or ()), t.closed_at, t.first_response_at)


def conversation():
    return [(m.direction, m.text, m.author) for m in Message.select().order_by(Message.id)]


def test_a_non_agent_in_the_agents_group_cannot_act(make_khidmat, tg_api):
    k = make_khidmat(**{"telegram.agent_ids": [AGENT, OTHER_AGENT], "telegram.owner_ids": [OWNER]})
    card = open_ticket(k)
    quiet(k)
    before, talk, last_row = ticket_state(), conversation(), Outbox.select().order_by(Outbox.id.desc()).first().id
    customer_saw = len(k.chat(21))

    # a reply to the card, a message in the ticket's thread, commands in the ticket and at the desk
    k.agent_message(
        "Refund approved, send me your card number",
        reply_to=card["message_id"],
        agent_id=STRANGER,
        first_name="Mallory",
    )
    for command in (
        "/close",
        "/priority urgent",
        "/claim",
        "/assign @sara",
        "/tag vip",
        "/note x",
        "/canned refund",
        "/history",
    ):
        k.agent_message(command, reply_to=card["message_id"], agent_id=STRANGER, first_name="Mallory")
    for command in ("/tickets", "/find 21", "/stats week"):
        k.agent_message(command, agent_id=STRANGER, first_name="Mallory")
    # and the card's buttons
    for data in ("t:1:close", "t:1:claim", "t:1:priority:urgent", "t:1:history"):
        tap(k, data, STRANGER, card, first_name="Mallory")
    quiet(k)

    assert ticket_state() == before
    assert conversation() == talk
    assert len(k.chat(21)) == customer_saw  # nothing reached the customer
    assert Agent.get_or_none(telegram_user_id=STRANGER) is None  # not remembered as an agent (/assign)
    refusals = [t for t in k.group_texts() if t == REFUSAL]
    assert len(refusals) == 11  # each command got the short refusal …
    assert not [t for t in k.group_texts() if "Open tickets" in t or "📊" in t or "History" in t]
    answers = [c["params"] for c in tg_api.calls if c["method"] == "answerCallbackQuery"]
    assert len(answers) == 4 and all(a.get("text") == REFUSAL for a in answers)  # … each tap too
    new_rows = Outbox.select().where(Outbox.id > last_row)
    assert {(r.purpose, r.payload.get("text")) for r in new_rows} == {("agents", REFUSAL), ("callback", REFUSAL)}
    assert not [c for c in tg_api.calls if c["method"] == "editMessageText"]  # the card did not change

    # the real agents (and the owner) still can
    k.agent_message("/priority high", reply_to=card["message_id"], agent_id=AGENT, first_name="Sara")
    k.wait_group(lambda t: "priority: high" in t)
    k.agent_message("A replacement ships today.", reply_to=card["message_id"], agent_id=OTHER_AGENT, first_name="Hamza")
    k.wait_chat(21, lambda t: "replacement ships today" in t)
    tap(k, "t:1:claim", OWNER, card, first_name="Omar")
    eventually(lambda: Ticket.get().assignee_id == OWNER, what="the owner's claim")


def test_every_member_acts_while_agent_ids_is_empty(khidmat):
    card = open_ticket(khidmat)
    khidmat.agent_message("/priority low", reply_to=card["message_id"], agent_id=STRANGER)
    khidmat.wait_group(lambda t: "priority: low" in t)
    assert REFUSAL not in khidmat.group_texts()


def test_a_customer_typing_agent_commands_gets_nothing_of_the_sort(khidmat):
    open_ticket(khidmat)
    before = ticket_state()
    # (no urgent wording such as "urgent" or "refund" here: that would raise the priority, as designed)
    commands = [
        "/close",
        "/priority low",
        "/claim",
        "/assign @sara",
        "/unassign",
        "/tag vip",
        "/untag vip",
        "/note the customer is lying",
        "/reopen",
        "/history",
        "/canned thanks",
        "/tickets",
        "/tickets mine",
        "/find 21",
        "/stats month",
        "/chatid",
        "/close@khidmat_test_bot now",
    ]
    for command in commands:
        assert khidmat.tg_message(21, command).status_code == 200
    # they are words in the customer's ticket: relayed to the group, in order
    eventually(
        lambda: all(any(c in t for t in khidmat.group_texts()) for c in commands),
        timeout=10,
        what="every command relayed to the group as words",
    )
    quiet(khidmat)
    assert ticket_state() == before
    assert [m.direction for m in Message.select()] == ["in"] * (1 + len(commands))  # no notes, no replies
    assert len(khidmat.chat(21)) == 1  # only the acknowledgement: no listing, no stats, no close notice
    # nor in a group that is not the agents' group (only /chatid answers there, to help set-up)
    other = -100555
    for command in ("/close", "/tickets", "/stats", "/priority low"):
        khidmat.agent_message(command, chat_id=other, agent_id=21)
    quiet(khidmat)
    assert ticket_state() == before and khidmat.tg.sent(chat_id=other) == []


def test_forged_button_taps_from_outside_the_group_change_nothing(make_khidmat, tg_api):
    k = make_khidmat(**{"telegram.agent_ids": [AGENT]})
    card = open_ticket(k)
    quiet(k)
    before, rows, sent = ticket_state(), Outbox.select().count(), len(tg_api.sent())
    private = {"id": 21, "type": "private", "first_name": "Ali"}
    elsewhere = {"id": -100555, "type": "supergroup", "title": "Not the agents"}
    for data in ("t:1:close", "t:1:claim", "t:1:priority:urgent", "t:1:history", "t:1:reopen"):
        tap(k, data, 21, card, chat=private)  # the customer, privately
        tap(k, data, 21)  # an inline message
        tap(k, data, AGENT, card, chat=elsewhere, first_name="Sara")  # even an agent, elsewhere
    quiet(k)
    assert ticket_state() == before
    # the customer's own taps are only answered (Telegram wants every callback query answered: it stops the
    # spinner), with no words in a chat; the tap elsewhere is not even answered
    new_rows = list(Outbox.select().where(Outbox.id > rows).order_by(Outbox.id))
    assert len(new_rows) == 10 and all(r.payload.get("method") == "answer_callback" for r in new_rows)
    assert len(tg_api.sent()) == sent
    assert Agent.get_or_none(telegram_user_id=21) is None


def test_requests_without_the_webhook_secret_change_nothing(khidmat, tg_api):
    card = open_ticket(khidmat)
    quiet(khidmat)
    before, talk = ticket_state(), conversation()
    rows, events, sent = Outbox.select().count(), InboundEvent.select().count(), len(tg_api.sent())
    for secret in ("wrong", None, "", SECRET + "x", SECRET.upper()):
        update = khidmat.tg.incoming(AGENTS, "/close", user_id=AGENT, first_name="Sara", reply_to=card["message_id"])
        assert khidmat.post_update(update, secret=secret).status_code == 403
        update = khidmat.tg.incoming(AGENTS, "Here is your refund", user_id=AGENT, reply_to=card["message_id"])
        assert khidmat.post_update(update, secret=secret).status_code == 403
        tap(khidmat, "t:1:close", AGENT, card, first_name="Sara", secret=secret, expect=403)
        assert (
            khidmat.post_update(khidmat.tg.incoming(21, "forged customer text", user_id=21), secret=secret).status_code
            == 403
        )
    quiet(khidmat)
    assert ticket_state() == before and conversation() == talk
    assert (Outbox.select().count(), InboundEvent.select().count(), len(tg_api.sent())) == (rows, events, sent)
