"""Agents triage from the group: commands, the ticket card and its buttons, urgent wording, desk views."""

import datetime as dt

from db.models import Ticket
from handlers.core import clock
from tests.helpers import (
    AGENTS,
    OPEN_HOURS,
    answer,
    buttons,
    callback_data,
    eventually,
    import_orders,
    open_ticket,
    order_rows,
    tap,
)


def card_edits(tg_api, message_id):
    return [
        c["params"]
        for c in tg_api.calls
        if c["method"] == "editMessageText" and int(c["params"]["message_id"]) == message_id and c["status"] == 200
    ]


SARA = {"user_id": 5001, "first_name": "Sara", "username": "sara_k"}  # the agent tapping the card's buttons


def test_card_shows_the_ticket_and_has_buttons(khidmat, tg_api):
    card = open_ticket(khidmat, username="ali_k")
    text = card["text"]
    for part in (
        "#1001",
        "open",
        "normal",
        "unassigned",
        "Ali",
        "@ali_k",
        "Telegram",
        "Earlier tickets: 0",
        "Language: en",
        "the blender I got is broken",
    ):
        assert part in text, part
    sent = next(
        c
        for c in tg_api.calls
        if c["method"] == "sendMessage"
        and str(c["params"]["chat_id"]) == str(AGENTS)
        and "#1001" in str(c["params"].get("text"))
    )
    assert callback_data(buttons(sent["params"])) == [["t:1:claim", "t:1:priority"], ["t:1:history", "t:1:close"]]


def test_claim_assign_unassign_update_the_card(khidmat, tg_api):
    card = open_ticket(khidmat)
    khidmat.agent_message("hi all", agent_id=6002, first_name="Hamza", username="hamza_s")  # Hamza is known
    khidmat.agent_message("/claim", reply_to=card["message_id"], first_name="Sara")
    assert "Sara" in answer(khidmat, lambda t: "is now Sara's" in t)
    eventually(lambda: any("👤 Sara" in p["text"] for p in card_edits(tg_api, card["message_id"])), what="card edit")
    khidmat.agent_message("/assign @hamza_s", reply_to=card["message_id"])
    answer(khidmat, lambda t: "is now Hamza's" in t)
    assert Ticket.get().assignee == "Hamza" and Ticket.get().assignee_id == 6002
    khidmat.agent_message("/assign @nobody_here", reply_to=card["message_id"])
    answer(khidmat, lambda t: "don't know @nobody_here" in t)
    khidmat.agent_message("/assign", reply_to=card["message_id"])
    answer(khidmat, lambda t: t.startswith("Usage: /assign"))
    khidmat.agent_message("/unassign", reply_to=card["message_id"])
    answer(khidmat, lambda t: "#1001 is unassigned" in t)
    assert Ticket.get().assignee_id is None


def test_priority_tags_and_usage(khidmat, tg_api):
    card = open_ticket(khidmat)
    khidmat.agent_message("/priority urgent", reply_to=card["message_id"])
    answer(khidmat, lambda t: "priority: urgent" in t)
    khidmat.agent_message("/priority whenever", reply_to=card["message_id"])
    answer(khidmat, lambda t: t.startswith("Usage: /priority"))
    khidmat.agent_message("/tag delivery karachi", reply_to=card["message_id"])
    answer(khidmat, lambda t: "#delivery #karachi" in t)
    khidmat.agent_message("/untag karachi", reply_to=card["message_id"])
    answer(khidmat, lambda t: "tags: #delivery" in t and "karachi" not in t)
    khidmat.agent_message("/tag", reply_to=card["message_id"])
    answer(khidmat, lambda t: t.startswith("Usage: /tag"))
    ticket = Ticket.get()
    assert ticket.priority == "urgent" and ticket.tags == ["delivery"]
    eventually(
        lambda: any(
            "🔴 urgent" in p["text"] and "#delivery" in p["text"] for p in card_edits(tg_api, card["message_id"])
        ),
        what="card shows priority and tags",
    )


def test_close_with_reason_reopen_and_history(khidmat):
    card = open_ticket(khidmat)
    khidmat.agent_message("/close refunded", reply_to=card["message_id"], first_name="Sara")
    khidmat.wait_chat(21, lambda t: "closed" in t)
    assert Ticket.get().close_reason == "refunded"
    khidmat.agent_message("/reopen", reply_to=card["message_id"], first_name="Sara")
    answer(khidmat, lambda t: "reopened by Sara" in t)
    assert Ticket.get().status == "open"
    khidmat.agent_message("/close", reply_to=card["message_id"])
    khidmat.tg_message(21, "4")  # the rating
    khidmat.tg_message(21, "now the lid is missing")
    card2 = khidmat.wait_group(lambda t: "lid is missing" in t)[0]
    khidmat.agent_message("/history", reply_to=card2["message_id"])
    history = answer(khidmat, lambda t: "Earlier tickets of" in t)
    assert "#1001" in history and "the blender I got is broken" in history and "⭐⭐⭐⭐" in history


def test_canned_answers_in_the_customers_language(khidmat):
    card = open_ticket(khidmat, 31, "میرا آرڈر لیٹ ہے")
    khidmat.agent_message("/canned", reply_to=card["message_id"])
    listing = answer(khidmat, lambda t: t.startswith("Canned answers"))
    assert "delay" in listing and "refund" in listing
    khidmat.agent_message("/canned delay", reply_to=card["message_id"], first_name="Sara")
    sent = khidmat.wait_chat(31, lambda t: "تاخیر" in t)[0]["text"]
    assert "#1001" in sent
    khidmat.agent_message("/canned nonsense", reply_to=card["message_id"])
    answer(khidmat, lambda t: "No canned answer called “nonsense”" in t)


def test_commands_outside_a_ticket_and_unknown_ones_get_usage(khidmat):
    open_ticket(khidmat)
    for command in ("/claim", "/priority high", "/tag x", "/history", "/canned delay"):
        khidmat.agent_message(command)
        name = command.split()[0][1:]
        answer(khidmat, lambda t, name=name: f"/{name} works inside a ticket" in t)
    khidmat.agent_message("/frobnicate")
    answer(khidmat, lambda t: "Unknown command /frobnicate" in t)
    assert Ticket.get().priority == "normal"


def test_customers_cannot_run_agent_commands(khidmat):
    open_ticket(khidmat)
    for command in ("/claim", "/priority low", "/tickets", "/stats", "/close"):
        khidmat.tg_message(21, command)
    khidmat.wait_group(lambda t: "/close" in t and "#1001" in t)  # relayed as words into the ticket
    ticket = Ticket.get()
    assert ticket.status == "open" and ticket.priority == "normal" and ticket.assignee is None
    assert not [m for m in khidmat.chat(21) if "Open tickets" in (m["text"] or "") or "📊" in (m["text"] or "")]


def test_buttons_claim_priority_close(khidmat, tg_api):
    card = open_ticket(khidmat)
    tap(khidmat, "t:1:claim", message=card, **SARA)
    eventually(lambda: [c for c in tg_api.calls if c["method"] == "answerCallbackQuery"], what="tap answered")
    answer(khidmat, lambda t: "is now Sara's" in t)
    tap(khidmat, "t:1:priority", message=card, **SARA)
    eventually(
        lambda: (
            any(
                [
                    "t:1:priority:urgent" in [data for row in callback_data(buttons(p)) for data in row]
                    for p in card_edits(tg_api, card["message_id"])
                    if p.get("reply_markup")
                ]
            )
            or any(
                c["method"] == "editMessageText" and "priority:urgent" in str(c["params"].get("reply_markup"))
                for c in tg_api.calls
            )
        ),
        what="priority choices",
    )
    tap(khidmat, "t:1:priority:high", message=card, **SARA)
    answer(khidmat, lambda t: "priority: high" in t)
    tap(khidmat, "t:1:close", message=card, **SARA)
    khidmat.wait_chat(21, lambda t: "closed" in t)
    ticket = Ticket.get()
    assert (ticket.assignee, ticket.priority, ticket.status) == ("Sara", "high", "closed")
    answers = [c for c in tg_api.calls if c["method"] == "answerCallbackQuery"]
    assert len(answers) >= 4


def test_urgent_wording_raises_priority_and_flags_card(khidmat, tg_api):
    card = open_ticket(khidmat, 41, "یہ فراڈ ہے، مجھے فوری ریفنڈ چاہیے")
    assert "Urgent wording" in card["text"] and "high" in card["text"]
    card2 = open_ticket(khidmat, 42, "my parcel has not arrived")
    khidmat.tg_message(42, "HELLO???!!! anyone!!!")
    eventually(lambda: any("Urgent wording" in p["text"] for p in card_edits(tg_api, card2["message_id"])))
    assert Ticket.get_by_id(2).priority == "high"


def test_tickets_find_and_stats(khidmat):
    open_ticket(khidmat, 51, "first")
    c2 = open_ticket(khidmat, 52, "second", first_name="Zainab")
    open_ticket(khidmat, 53, "third")
    khidmat.agent_message("/claim", reply_to=c2["message_id"], agent_id=5001, first_name="Sara")
    khidmat.tg_message(53, "hello?? still waiting")  # the third customer wrote again: moves up
    khidmat.wait_group(lambda t: "still waiting" in t)
    khidmat.agent_message("/tickets", agent_id=5001)
    listing = answer(khidmat, lambda t: t.startswith("Open tickets (3)"))
    order = [line.split(" · ")[0] for line in listing.splitlines()[1:]]
    assert order[0] == "#1003"
    khidmat.agent_message("/tickets mine", agent_id=5001)
    mine = answer(khidmat, lambda t: t.startswith("Open tickets (1)"))
    assert "#1002" in mine and "Zainab" in mine
    khidmat.agent_message("/tickets unassigned")
    answer(khidmat, lambda t: t.startswith("Open tickets (2)"))
    khidmat.agent_message("/tickets later")
    answer(khidmat, lambda t: t.startswith("Usage: /tickets"))
    khidmat.agent_message("/find zainab")
    assert "#1002" in answer(khidmat, lambda t: "Zainab" in t and "#1002 ·" in t)
    khidmat.agent_message("/find #1003")
    answer(khidmat, lambda t: t.startswith("#1003 ·"))
    khidmat.agent_message("/find")
    answer(khidmat, lambda t: t.startswith("Usage: /find"))
    khidmat.agent_message("/stats")
    stats = answer(khidmat, lambda t: t.startswith("📊 Today"))
    assert "opened 3" in stats
    khidmat.agent_message("/stats forever")
    answer(khidmat, lambda t: t.startswith("Usage: /stats"))


def test_find_by_phone(khidmat):
    khidmat.whatsapp("+923001234567", "phone person here", profile_name="Bilal")
    khidmat.wait_group(lambda t: "phone person here" in t)
    khidmat.agent_message("/find 0300-1234567")
    assert "Bilal" in answer(khidmat, lambda t: "#1001 ·" in t)


def test_topic_name_follows_the_ticket(make_khidmat, tg_api):
    tg_api.set_forum(AGENTS, True)
    k = make_khidmat()
    k.tg_message(61, "topic ticket", first_name="Ali")
    k.wait_group(lambda t: "topic ticket" in t)
    (thread_id,) = tg_api.topics(AGENTS).keys()
    k.agent_message("/priority urgent", thread_id=thread_id)
    k.agent_message("/claim", thread_id=thread_id, first_name="Sara")
    eventually(
        lambda: tg_api.topics(AGENTS)[thread_id]["name"] == "🔴 #1001 · Ali · Telegram → Sara",
        what=f"topic renamed (now {tg_api.topics(AGENTS)[thread_id]['name']!r})",
    )
    k.agent_message("/close", thread_id=thread_id)
    eventually(lambda: tg_api.topics(AGENTS)[thread_id].get("closed"))
    k.agent_message("/reopen", thread_id=thread_id)
    eventually(lambda: not tg_api.topics(AGENTS)[thread_id].get("closed"), what="topic reopened")


def test_history_shows_the_customers_latest_orders(khidmat, tg_api, tmp_path):
    """/history and the card's History button: earlier tickets, then the five latest orders (newest first)."""
    clock.travel_to(dt.datetime(2026, 11, 1, 7, 0))  # orders imported on three days (12:00 in Karachi)
    import_orders(khidmat, tmp_path, order_rows("5520,Ali Raza,,21,Old kettle,999,delivered,,,,,"))
    clock.travel_to(dt.datetime(2026, 11, 10, 7, 0))
    import_orders(
        khidmat,
        tmp_path,
        order_rows(
            "5521,Ali Raza,,21,Lawn suit,3200,delivered,2026-11-12,,,,",
            "5522,Ali Raza,,21,Shoes,1000,cancelled,,,,,",
            "5523,Ali Raza,,21,,450,delivered,,,,,",
            "6001,Sara Khan,,777001,Someone else's shawl,2500,pending,,,,,",
        ),
    )
    clock.travel_to(dt.datetime(2026, 11, 20, 7, 0))
    import_orders(
        khidmat,
        tmp_path,
        order_rows(
            '5531,Ali Raza,,21,2 kurtas,"4,500",shipped,2026-11-28,,,,',
            "5532,Ali Raza,,21,3 cushions 2 curtains and a rug for the sitting room,12500.5,pending,,,,,",
        ),
    )
    clock.travel_to(dt.datetime(2026, 11, 25, 7, 0))
    card = open_ticket(khidmat)
    orders = [
        "📦 Latest orders:",
        "5532 · 2026-11-20 · pending · 12,500.50 · 3 cushions 2 curtains and a rug for the…",
        "5531 · 2026-11-20 · shipped · 4,500 · 2 kurtas",
        "5523 · 2026-11-10 · delivered · 450 · —",
        "5522 · 2026-11-10 · cancelled · 1,000 · Shoes",
        "5521 · 2026-11-10 · delivered · 3,200 · Lawn suit",
    ]
    khidmat.agent_message("/history", reply_to=card["message_id"])
    assert answer(khidmat, lambda t: "Latest orders" in t).splitlines() == [
        "🗂 Ali Raza has no earlier tickets.",
        "",
        *orders,
    ]

    khidmat.agent_message("/close", reply_to=card["message_id"])
    khidmat.tg_message(21, "5")  # the rating
    khidmat.tg_message(21, "and the lid is missing")
    card2 = khidmat.wait_group(lambda t: "lid is missing" in t)[0]
    tap(khidmat, "t:2:history", message=card2, **SARA)
    shown = answer(khidmat, lambda t: "Earlier tickets of Ali Raza" in t).splitlines()
    assert shown[0] == "🗂 Earlier tickets of Ali Raza:"
    assert shown[1] == "#1001 · 2026-11-25 · the blender I got is broken · closed · ⭐⭐⭐⭐⭐"
    assert shown[2:] == ["", *orders]
    eventually(
        lambda: any(
            c["params"].get("text") == "🗂 Earlier tickets of Ali Raza:"
            for c in tg_api.calls
            if c["method"] == "answerCallbackQuery"
        ),
        what="the tap answered",
    )


def test_history_without_tickets_or_orders_says_so(khidmat):
    card = open_ticket(khidmat)
    khidmat.agent_message("/history", reply_to=card["message_id"])
    assert answer(khidmat, lambda t: "no earlier tickets" in t) == "🗂 Ali has no earlier tickets."


def test_priority_button_offers_the_choices_and_marks_the_card_urgent(khidmat, tg_api):
    card = open_ticket(khidmat)
    tap(khidmat, "t:1:priority", message=card, **SARA)
    offers = eventually(
        lambda: [
            c["params"]
            for c in tg_api.calls
            if c["method"] == "editMessageText" and "priority:urgent" in str(c["params"].get("reply_markup"))
        ],
        what="the choices",
    )
    assert [[label for label, _ in row] for row in buttons(offers[-1])] == [
        ["▫️ low", "normal", "🟠 high", "🔴 urgent"],
        ["⬅️ Back"],
    ]
    eventually(
        lambda: [c for c in tg_api.calls if c["method"] == "answerCallbackQuery" and c["params"].get("text") == "✓"],
        what="the first tap answered",
    )
    tap(khidmat, "t:1:priority:urgent", message=card, **SARA)
    edited = eventually(
        lambda: [p for p in card_edits(tg_api, card["message_id"]) if "🔴 urgent" in p["text"]], what="the card edited"
    )[-1]
    assert edited["text"].splitlines()[0] == "🎫 #1001 · open · 🔴 urgent · 👤 unassigned"
    assert callback_data(buttons(edited)) == [
        ["t:1:claim", "t:1:priority"],
        ["t:1:history", "t:1:close"],
    ]  # the actions again
    eventually(
        lambda: [
            c
            for c in tg_api.calls
            if c["method"] == "answerCallbackQuery" and c["params"].get("text") == "⚡ #1001 priority: urgent."
        ],
        what="the second tap answered",
    )
    assert answer(khidmat, lambda t: "priority: urgent" in t) == "⚡ #1001 priority: urgent."
    assert Ticket.get().priority == "urgent"


def pkt(day, hour, minute=0, second=0):
    """A Karachi wall-clock moment in November 2026 as naive UTC (PKT is UTC+5)."""
    return dt.datetime(2026, 11, day, hour, minute, second) - dt.timedelta(hours=5)


def handled(k, user_id, name, text, tags, opened, answered=None, closed=None, rating=None):
    """A customer's ticket, tagged, answered, closed and rated at the given moments (Karachi time)."""
    clock.travel_to(opened)
    card = open_ticket(k, user_id, text, first_name=name)
    ticket = Ticket.get(Ticket.subject == text)
    k.agent_message(f"/tag {tags}", reply_to=card["message_id"])
    eventually(lambda: Ticket.get_by_id(ticket.id).tags == tags.split(), what="tags")
    if answered:
        clock.travel_to(answered)
        k.agent_message("We are looking into it.", reply_to=card["message_id"])
        k.wait_chat(user_id, lambda t: "looking into it" in t)
    if closed:
        clock.travel_to(closed)
        k.agent_message("/close", reply_to=card["message_id"])
        k.wait_chat(user_id, lambda t: "rate our help" in t)
        k.tg_message(user_id, str(rating))
        k.wait_chat(user_id, lambda t: "Thank you for your feedback" in t)


def test_stats_week_and_month_give_the_desks_figures(khidmat):
    # 23 November 2026 is a Monday; the minutes are business minutes (the shop opens at 10:00)
    handled(
        khidmat,
        71,
        "Asad",
        "the blender I got is broken",
        "delivery",
        opened=pkt(2, 10, 0),
        answered=pkt(2, 10, 30, 30),
        closed=pkt(2, 11, 0, 30),
        rating=2,
    )  # earlier this month
    handled(
        khidmat,
        72,
        "Bushra",
        "my parcel is late",
        "delivery refund",
        opened=pkt(23, 10, 0),
        answered=pkt(23, 10, 10, 30),
        closed=pkt(23, 10, 40, 30),
        rating=5,
    )
    handled(
        khidmat,
        73,
        "Danish",
        "wrong colour delivered",
        "refund",
        opened=pkt(24, 10, 0),
        answered=pkt(24, 10, 20, 30),
        closed=pkt(24, 12, 0, 30),
        rating=4,
    )
    handled(khidmat, 74, "Erum", "the lid does not fit", "size", opened=pkt(25, 11, 0))  # open, waiting
    clock.travel_to(pkt(25, 12, 0))
    khidmat.agent_message("/stats week")
    assert answer(khidmat, lambda t: t.startswith("📊 This week")).splitlines() == [
        "📊 This week: opened 3, closed 2",
        "First response (median, business time): 15m",
        "Resolution (median, business time): 1h20m",
        "Satisfaction: 4.5 from 2 ratings",
        "Top tags: #refund (2), #delivery (1), #size (1)",
    ]
    khidmat.agent_message("/stats month")
    assert answer(khidmat, lambda t: t.startswith("📊 This month")).splitlines() == [
        "📊 This month: opened 4, closed 3",
        "First response (median, business time): 20m",
        "Resolution (median, business time): 1h00m",
        "Satisfaction: 3.7 from 3 ratings",
        "Top tags: #delivery (2), #refund (2), #size (1)",
    ]


def test_card_names_when_the_whatsapp_window_closes(khidmat, tg_api):
    """The card is edited only when the ticket changes: it says until when the window is open (Karachi time)."""
    khidmat.whatsapp("+923001234567", "the blender I got is broken", profile_name="Bilal")  # Wednesday 12:00
    card = khidmat.wait_group(lambda t: "the blender I got is broken" in t)[0]
    assert "🕑 WhatsApp window open until Thursday 12:00 (23h 59m left)" in card["text"].splitlines()
    clock.travel_to(OPEN_HOURS + dt.timedelta(hours=3))  # 15:00: they write again
    khidmat.whatsapp("+923001234567", "hello? anyone there")
    khidmat.wait_group(lambda t: "anyone there" in t)
    clock.travel_to(OPEN_HOURS + dt.timedelta(hours=3, minutes=30, seconds=30))
    khidmat.agent_message("/claim", reply_to=card["message_id"])
    eventually(
        lambda: [
            p
            for p in card_edits(tg_api, card["message_id"])
            if "🕑 WhatsApp window open until Thursday 15:00 (23h 29m left)" in p["text"]
        ],
        what="the card with the new closing time",
    )
    clock.travel_to(OPEN_HOURS + dt.timedelta(days=1, hours=3, minutes=1))  # Thursday 15:01
    khidmat.agent_message("/priority high", reply_to=card["message_id"])
    eventually(
        lambda: [
            p
            for p in card_edits(tg_api, card["message_id"])
            if "🕑 WhatsApp window closed: only approved templates" in p["text"]
        ],
        what="window closed",
    )
