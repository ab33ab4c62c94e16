"""Agents in the Telegram group: reply by replying or in a topic, notes stay internal, /close, set-up help."""

from db.models import Message, Ticket
from tests.helpers import AGENTS, eventually, open_ticket, quiet


def test_reply_to_ticket_message_reaches_customer_signed(khidmat):
    card = open_ticket(khidmat)
    khidmat.agent_message("Sorry! A replacement ships today.", reply_to=card["message_id"], first_name="Sara")
    reply = khidmat.wait_chat(21, lambda t: "replacement" in t)[0]["text"]
    assert reply.startswith("Sorry! A replacement ships today.") and reply.rstrip().endswith("— Sara")
    ticket = Ticket.get()
    assert ticket.first_response_at is not None
    assert Message.select().where(Message.direction == "out").get().author == "Sara"


def test_reply_to_a_later_bot_message_of_the_ticket_also_works(khidmat):
    open_ticket(khidmat)
    khidmat.tg_message(21, "also the lid is missing")
    later = khidmat.wait_group(lambda t: "lid is missing" in t)[0]
    khidmat.agent_message("We will add the lid.", reply_to=later["message_id"])
    khidmat.wait_chat(21, lambda t: "add the lid" in t)


def test_signature_can_be_turned_off(make_khidmat):
    k = make_khidmat(**{"app.agent_signature": False})
    card = open_ticket(k)
    k.agent_message("Replacement ships today.", reply_to=card["message_id"])
    assert k.wait_chat(21, lambda t: "Replacement" in t)[0]["text"] == "Replacement ships today."


def test_note_stays_internal(khidmat):
    card = open_ticket(khidmat)
    khidmat.agent_message("/note customer is a VIP, be gentle", reply_to=card["message_id"])
    khidmat.wait_group(lambda t: "Note saved" in t)
    quiet(khidmat)
    assert not [m for m in khidmat.chat(21) if "VIP" in (m["text"] or "")]
    assert Message.get(Message.direction == "note").text == "customer is a VIP, be gentle"


def test_close_tells_customer_and_group(khidmat):
    card = open_ticket(khidmat)
    khidmat.agent_message("/close", reply_to=card["message_id"], first_name="Sara")
    assert "#1001" in khidmat.wait_chat(21, lambda t: "closed" in t)[0]["text"]
    khidmat.wait_group(lambda t: "closed by Sara" in t)
    assert Ticket.get().status == "closed"
    # after answering the rating question, the next message opens a new ticket that knows the earlier one
    khidmat.tg_message(21, "5")
    khidmat.tg_message(21, "another problem")
    card2 = khidmat.wait_group(lambda t: "another problem" in t)[0]["text"]
    assert "#1002" in card2 and "Earlier tickets: 1" in card2


def test_commands_with_wrong_arguments_or_place_get_usage(khidmat):
    card = open_ticket(khidmat)
    khidmat.agent_message("/note", reply_to=card["message_id"])
    khidmat.wait_group(lambda t: t.startswith("Usage: /note"))
    khidmat.agent_message("/close")  # not inside a ticket
    khidmat.wait_group(lambda t: "/close works inside a ticket" in t)
    assert Ticket.get().status == "open"


def test_chatid_helps_set_up_any_group(khidmat):
    khidmat.agent_message("/chatid@khidmat_test_bot", chat_id=-100777)
    answer = eventually(lambda: khidmat.tg.sent(chat_id=-100777))[0]["text"]
    assert "-100777" in answer


def test_agents_chatting_among_themselves_is_not_sent(khidmat):
    open_ticket(khidmat)
    khidmat.agent_message("lunch at 2?")
    quiet(khidmat)
    assert len(khidmat.chat(21)) == 1  # only the acknowledgement


def test_forum_group_gets_one_topic_per_ticket_and_replies_in_it(make_khidmat, tg_api):
    tg_api.set_forum(AGENTS, True)
    k = make_khidmat(**{"telegram.rate_chat_per_s": 1, "telegram.rate_group_per_min": 20})
    for text in ("hi", "my order", "is late", "5531"):  # a burst: still one topic
        k.whatsapp("+923001234567", text, profile_name="Ali")
    eventually(lambda: "5531" in "".join(k.group_texts()), timeout=8)
    topics = tg_api.topics(AGENTS)
    assert len(topics) == 1
    ((thread_id, topic),) = topics.items()
    assert topic["name"] == "#1001 · Ali · WhatsApp"
    assert all(m["thread_id"] == thread_id for m in k.group())
    k.agent_message("Your parcel left Lahore today.", thread_id=thread_id, first_name="Hamza")
    body = k.wait_twilio("whatsapp:+923001234567", lambda b: "parcel left Lahore" in b)[0]["body"]
    assert body.endswith("— Hamza")
    k.agent_message("/close", thread_id=thread_id)
    eventually(lambda: tg_api.topics(AGENTS)[thread_id].get("closed"), what="topic closed")


def test_deleted_topic_is_recreated(make_khidmat, tg_api):
    tg_api.set_forum(AGENTS, True)
    k = make_khidmat()
    k.tg_message(33, "first message")
    k.wait_group(lambda t: "first message" in t)
    (thread_id,) = tg_api.topics(AGENTS).keys()
    tg_api.delete_topic(AGENTS, thread_id)
    k.tg_message(33, "second message")
    again = k.wait_group(lambda t: "second message" in t)[0]
    assert again["thread_id"] != thread_id
    assert Ticket.get().thread_id == again["thread_id"]


def test_plain_group_is_told_once_that_topics_are_off(khidmat):
    open_ticket(khidmat, 1, "one")
    open_ticket(khidmat, 2, "two")
    warnings = [t for t in khidmat.group_texts() if "cannot have a topic per ticket" in t]
    assert len(warnings) == 1


def test_group_upgraded_to_supergroup_is_followed(make_khidmat, tg_api):
    tg_api.migrate_chat(AGENTS, -1009999)
    k = make_khidmat()
    k.tg_message(44, "is anyone there")
    card = k.settled(eventually(lambda: tg_api.sent(chat_id=-1009999)))  # the bot has recorded the card's id too
    assert "is anyone there" in card[0]["text"]
    k.agent_message("Yes, here!", reply_to=card[0]["message_id"], chat_id=-1009999)
    k.wait_chat(44, lambda t: "Yes, here!" in t)


def test_agent_photo_reply_reaches_telegram_customer(khidmat):
    card = open_ticket(khidmat)
    khidmat.agent_message(
        None,
        reply_to=card["message_id"],
        caption="this one?",
        photo=[{"file_id": "AGENT-PHOTO", "file_unique_id": "ap", "width": 10, "height": 10}],
    )
    copied = eventually(lambda: [m for m in khidmat.chat(21) if m["method"] == "copyMessage"])
    assert "this one?" in (copied[0]["caption"] or copied[0]["text"] or "")


def test_a_photo_captioned_note_stays_with_the_agents(khidmat):
    card = open_ticket(khidmat)
    khidmat.agent_message(
        None,
        reply_to=card["message_id"],
        caption="/note the box came in crushed",
        photo=[{"file_id": "BOX-PHOTO", "file_unique_id": "bp", "width": 10, "height": 10}],
    )
    khidmat.wait_group(lambda t: t.startswith("📝 Note saved on #1001"))
    assert Message.select().where((Message.direction == "note") & (Message.text == "the box came in crushed")).exists()
    quiet(khidmat)
    assert [m for m in khidmat.chat(21) if m["method"] != "sendMessage" or "crushed" in (m["text"] or "")] == []


def test_commands_for_another_bot_in_the_group_are_left_alone(khidmat):
    from db.models import State

    card = open_ticket(khidmat)
    eventually(lambda: State.read("bot_username") == "khidmat_test_bot", what="the bot's username from getMe")
    khidmat.agent_message("/close@other_shop_bot", reply_to=card["message_id"])
    khidmat.agent_message("/close@Khidmat_Test_Bot done", reply_to=card["message_id"])
    eventually(lambda: Ticket.get().status == "closed")
    assert Ticket.get().close_reason == "done"  # the first /close was not ours: only the second one acted
    quiet(khidmat)
    assert not [t for t in khidmat.group_texts() if "already closed" in t]


IN_A_TICKET = [  # (what the agent writes as a reply to the card, what the group answers)
    ("/note called the courier", "📝 Note saved on #1001"),
    ("/note", "Usage: /note"),
    ("/claim", "🙋 #1001 is now Sara's."),
    ("/unassign", "#1001 is unassigned."),
    ("/assign @sara_k", "🙋 #1001 is now Sara's."),
    ("/assign", "Usage: /assign"),
    ("/priority high", "⚡ #1001 priority: high."),
    ("/priority", "Usage: /priority"),
    ("/tag delivery", "🏷 #1001 tags: #delivery"),
    ("/tag", "Usage: /tag"),
    ("/untag delivery", "🏷 #1001 tags: —"),
    ("/untag", "Usage: /untag"),
    ("/history", "🗂 Ali has no earlier tickets."),
    ("/canned", "Canned answers:"),
    ("/canned thanks", "📤 Sent “thanks”"),
    ("/canned nope", "No canned answer"),
    ("/discount 10 sorry", "🎁 Coupon"),
    ("/discount", "Usage: /discount"),
    ("/setbirthday 14-08", "🎂 Birthday of Ali: 14 August."),
    ("/setbirthday", "Usage: /setbirthday"),
    ("/setanniversary -", "💐 Anniversary of Ali cleared."),
    ("/delay 9999 2026-12-30 courier strike", "No order 9999."),
    ("/delay", "Usage: /delay"),
    ("/close fixed", "✅ Ticket #1001 closed by Sara."),
    ("/close", "Ticket #1001 is already closed."),
    ("/reopen", "↩️ #1001 reopened by Sara."),
    ("/reopen", "#1001 is open already."),
]
ANYWHERE = [  # (what the agent writes in the group's general area, what the group answers)
    ("/tickets", "Open tickets (1)"),
    ("/tickets unassigned", "No open tickets here."),
    ("/tickets soon", "Usage: /tickets"),
    ("/find Ali", "#1001 · Ali · Telegram"),
    ("/find", "Usage: /find"),
    ("/stats", "📊 Today"),
    ("/stats week", "📊 This week"),
    ("/stats month", "📊 This month"),
    ("/stats ever", "Usage: /stats"),
    ("/chatid", f"This chat's id is {AGENTS}"),
    ("/help", "In a ticket"),
    ("/start", "In a ticket"),
    ("/close", "/close works inside a ticket"),
    ("/note hi", "/note works inside a ticket"),
    ("/frobnicate", "Unknown command /frobnicate"),
]


def test_every_agent_command_answers_in_the_group(khidmat):
    """A confirmation or a one-line usage, in the group, as a reply to the command or in the ticket's thread."""
    card = open_ticket(khidmat)
    for command, words in IN_A_TICKET + ANYWHERE:
        seen = len([m for m in khidmat.group() if words in (m["text"] or "")])
        in_ticket = (command, words) in IN_A_TICKET
        khidmat.agent_message(command, reply_to=card["message_id"] if in_ticket else None, username="sara_k")
        asked = khidmat.last_update["message"]["message_id"]
        said = eventually(
            lambda words=words, seen=seen: [m for m in khidmat.group() if words in (m["text"] or "")][seen:],
            what=f"the answer to {command}",
        )
        assert said[0]["reply_to"] in (asked, card["message_id"]), command
