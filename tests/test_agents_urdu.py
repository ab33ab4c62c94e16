"""Agents in Urdu: with `app.agent_language = "ur"` everything the agents read in the group is Urdu — the ticket
card and its buttons, the commands' answers and usage lines (commands keep their Latin names), the SLA
reminder, the undeliverable notice, what a customer sent that cannot be relayed — end to end on both databases.
The customers keep their own language: an English customer still reads English."""

from __future__ import annotations

import datetime as dt

import pytest

from db.models import Agent, Ticket
from handlers.core import clock, texts
from handlers.features import sla
from tests.helpers import AGENTS, answer, buttons, card_of, eventually, import_orders, keyboard, order_rows, quiet, tap

URDU = {"app.agent_language": "ur"}
LRM = "\u200e"  # before a /command inside Urdu text, so that right-to-left it still reads "/note", not "note/"
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
SHOP = {**{f"hours.{day}": "10:00-20:00" for day in DAYS}, "hours.sunday": "", "hours.closed_dates": []}


@pytest.fixture
def urdu_desk(make_khidmat):
    return make_khidmat(**URDU)


def pkt(day, hour, minute=0, second=0):
    """A Pakistan wall-clock moment in November 2026 as the naive UTC the bot works in (PKT is UTC+5)."""
    return dt.datetime(2026, 11, day, hour, minute, second) - dt.timedelta(hours=5)


def card_calls(k):
    return [
        c
        for c in k.tg.calls
        if c["method"] in ("sendMessage", "editMessageText")
        and str(c["params"].get("chat_id")) == str(AGENTS)
        and str(c["params"].get("text", "")).startswith("🎫")
        and c["status"] == 200
    ]


def test_a_customers_message_gives_an_urdu_card_with_urdu_buttons(urdu_desk):
    k = urdu_desk
    k.tg_message(21, "the blender I got is broken", first_name="Ali", username="ali_k", language_code="en")
    card = card_of(k, "the blender I got is broken")["text"]
    for part in (
        "#1001",
        "کھلا",
        "عام",
        "کسی کے ذمے نہیں",
        "چینل: Telegram",
        "زبان: انگریزی",
        "پچھلے ٹکٹ: 0",
        "@ali_k",
    ):
        assert part in card, part
    assert "Earlier tickets" not in card and "unassigned" not in card
    rows = keyboard(k, AGENTS, "#1001")
    assert rows == [
        [("🙋 اپنے ذمے لیں", "t:1:claim"), ("⚡ ترجیح", "t:1:priority")],
        [("🗂 پچھلا ریکارڈ", "t:1:history"), ("✅ بند کریں", "t:1:close")],
    ]
    ack = k.wait_chat(21, lambda t: "#1001" in t)[0]["text"]
    assert "Thank you" in ack or "ticket" in ack.lower()  # the customer keeps English
    assert not texts.has_urdu_script(ack)


def test_the_priority_buttons_and_the_closed_card_are_urdu(urdu_desk):
    k = urdu_desk
    k.tg_message(22, "my parcel is damaged", first_name="Ali")
    card = card_of(k, "my parcel is damaged")
    tap(k, "t:1:priority", 5001, card, first_name="Sara")
    choose = eventually(
        lambda: [c for c in card_calls(k) if c["method"] == "editMessageText" and "priority:urgent" in str(c["params"])]
    )[-1]
    labels = [label for row in buttons(choose["params"]) for label, _ in row]
    assert labels == ["▫️ کم", "عام", "🟠 زیادہ", "🔴 فوری", "⬅️ واپس"]
    tap(k, "t:1:priority:urgent", 5001, card, first_name="Sara")
    assert "ترجیح: فوری" in answer(k, lambda t: "ترجیح: فوری" in t)
    eventually(lambda: Ticket.get().priority == "urgent")
    tap(k, "t:1:close", 5001, card, first_name="Sara")
    closed = answer(k, lambda t: "بند کر دیا" in t)
    assert closed.startswith("✅ ٹکٹ #1001 Sara نے بند کر دیا")
    last = eventually(
        lambda: [c for c in card_calls(k) if c["method"] == "editMessageText" and "t:1:reopen" in str(c["params"])]
    )[-1]
    assert "بند" in last["params"]["text"]
    assert [label for row in buttons(last["params"]) for label, _ in row] == ["🗂 پچھلا ریکارڈ", "↩️ دوبارہ کھولیں"]


def test_commands_answer_in_urdu_and_usage_lines_keep_latin_commands(urdu_desk):
    k = urdu_desk
    k.tg_message(23, "the zip of my bag is broken", first_name="Ali")
    card = card_of(k, "the zip of my bag is broken")
    k.agent_message("/claim", reply_to=card["message_id"], first_name="Sara")
    assert answer(k, lambda t: "کے ذمے ہے" in t) == "🙋 #1001 اب Sara کے ذمے ہے۔"
    k.agent_message("/note", reply_to=card["message_id"])
    usage = answer(k, lambda t: t.startswith(f"استعمال: {LRM}/note"))
    assert "اندرونی نوٹ" in usage
    k.agent_message("/priority whenever", reply_to=card["message_id"])
    assert (
        answer(k, lambda t: "/priority" in t)
        == f"استعمال: {LRM}/priority low|normal|high|urgent (کم، عام، زیادہ، فوری)"
    )
    k.agent_message("/tickets")
    listed = answer(k, lambda t: t.startswith("کھلے ٹکٹ"))
    assert "کھلے ٹکٹ (1)، سب سے ضروری پہلے:" in listed and "#1001 · Ali" in listed and "منٹ" in listed
    k.agent_message("/stats week")
    stats = answer(k, lambda t: t.startswith("📊"))
    assert stats.startswith("📊 اس ہفتے: کھلے 1") and "اطمینان" in stats
    k.agent_message("/frobnicate")
    assert answer(k, lambda t: "/frobnicate" in t) == f"نامعلوم کمانڈ {LRM}/frobnicate۔ سب کمانڈز {LRM}/help سے دیکھیں۔"
    k.agent_message("/close")  # outside a ticket
    assert answer(k, lambda t: t.startswith(f"{LRM}/close")).startswith(f"{LRM}/close صرف ٹکٹ کے اندر کام کرتی ہے")
    k.agent_message("/help")
    help_ = answer(k, lambda t: "/setanniversary" in t)
    assert (
        help_.startswith("ٹکٹ کے اندر")
        and f"{LRM}/note متن" in help_
        and f"{LRM}/tickets [mine|unassigned|overdue]" in help_
    )
    quiet(k)
    english = [t for t in k.group_texts() if "Usage" in t or "Unknown command" in t or "is now" in t]
    assert not english


def test_the_sla_reminder_is_in_urdu(make_khidmat):
    k = make_khidmat(**URDU, **SHOP, **{"sla.first_response_normal": 60, "sla.warn_at": 0.8})
    clock.travel_to(pkt(23, 10, 0))
    k.tg_message(51, "my parcel is late", first_name="Kamran")
    card = card_of(k, "my parcel is late")
    clock.travel_to(pkt(23, 10, 48, 30))
    sla.remind()
    assert "Kamran · Telegram · آئی ڈی 51" in card["text"]
    reminder = k.wait_group(lambda t: t.startswith("⏰"))[0]
    assert reminder["text"] == (
        "⏰ #1001 · Kamran ابھی تک پہلے جواب کے منتظر ہیں: 60 میں سے 48 منٹ گزر چکے ہیں (صرف کاروباری اوقات)۔"
        " جواب دینے کے لیے یہیں ریپلائی کریں۔"
    )
    assert reminder["reply_to"] == card["message_id"]


def test_the_sla_breach_calls_the_owners_in_urdu_with_the_mentions_on_their_names(make_khidmat):
    k = make_khidmat(**URDU, **SHOP, **{"sla.first_response_normal": 60, "telegram.owner_ids": [7001, 7002]})
    Agent.create(telegram_user_id=7001, first_name="Bilal")
    clock.travel_to(pkt(23, 10, 0))
    k.tg_message(56, "wrong colour delivered", first_name="Nadia")
    card_of(k, "wrong colour delivered")
    clock.travel_to(pkt(23, 11, 0, 30))
    sla.remind()
    breach = k.wait_group(lambda t: t.startswith("🚨"))[0]
    assert breach["text"] == (
        "🚨 #1001 · Nadia کو 60 منٹ سے کوئی جواب نہیں ملا — 60 منٹ کا ہدف گزر چکا ہے (صرف کاروباری اوقات)۔"
        "\nBilal، مالک: براہ کرم یقینی بنائیں کہ کوئی جواب دے۔"
    )
    (call,) = [c for c in k.tg.calls if c["method"] == "sendMessage" and "🚨" in str(c["params"].get("text"))]
    utf16 = breach["text"].encode("utf-16-le")
    entities = call["params"]["entities"]
    named = [utf16[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le") for e in entities]
    assert named == ["Bilal", "مالک"]


def test_what_cannot_be_relayed_is_named_in_urdu(urdu_desk):
    k = urdu_desk
    k.tg_message(52, None, dice={"emoji": "🎲", "value": 3})
    note = k.wait_group(lambda t: "ڈائس" in t)[0]["text"]
    assert "گاہک کا بھیجا ہوا پیغام (ڈائس) بوٹ آگے نہیں بھیج سکتا" in note
    assert k.wait_chat(52, lambda t: "cannot read" in t)  # the customer reads their own language


def test_an_urdu_desk_answers_an_urdu_customer_in_urdu_and_english_agents_stay_english(make_khidmat):
    """The agents' language is the shop's setting, apart from the customer's: an English desk still reads English."""
    k = make_khidmat()
    k.tg_message(53, "میرا آرڈر ٹوٹا ہوا آیا ہے", first_name="Bilal", language_code="ur")
    card = card_of(k, "میرا آرڈر ٹوٹا ہوا آیا ہے")["text"]
    assert "Earlier tickets: 0" in card and "Language: ur" in card
    assert [label for row in keyboard(k, AGENTS, "#1001") for label, _ in row] == [
        "🙋 Claim",
        "⚡ Priority",
        "🗂 History",
        "✅ Close",
    ]


def test_a_shared_location_reaches_the_agents_in_their_words(make_khidmat):
    urdu, english = make_khidmat(**URDU), None
    urdu.tg_message(54, None, location={"latitude": 31.52, "longitude": 74.35})
    assert urdu.wait_group(lambda t: "31.52, 74.35" in t)[0]["text"].endswith("[مقام] 31.52, 74.35")
    urdu.tg_message(54, None, contact={"phone_number": "+923001234567", "first_name": "Ali"})
    urdu.wait_group(lambda t: "[رابطہ] Ali +923001234567" in t)
    assert Ticket.select().count() == 1
    urdu.close()
    english = make_khidmat()
    english.tg_message(
        55, None, venue={"location": {"latitude": 24.86, "longitude": 67.0}, "title": "Shop", "address": "Saddar"}
    )
    english.wait_group(lambda t: "[venue] Shop, Saddar (24.86, 67.0)" in t)


def test_orders_on_the_card_and_delay_answers_are_in_urdu(urdu_desk, tmp_path):
    k = urdu_desk
    import_orders(
        k,
        tmp_path,
        order_rows(
            "5531,Ali Raza,,4242,2 kurtas,4500,shipped,2026-11-28,,,en,",
            "5540,Gul,03001231231,,Cap,500,delivered,2026-11-01,,,,",
        ),
    )
    k.tg_message(4242, "order 5531 came with a torn sleeve", first_name="Ali")
    card = card_of(k, "torn sleeve")["text"]
    assert "📦 آرڈر 5531: 2 kurtas · 4,500 · روانہ · وعدہ ہفتہ 28 نومبر 2026" in card
    for text, expected in (
        ("/delay", f"استعمال: {LRM}/delay ORDER YYYY-MM-DD وجہ"),
        ("/delay 5531 tomorrow courier", 'تاریخ سمجھ نہیں آئی: "tomorrow"'),
        ("/delay 5531 2026-11-01 courier", "2026-11-01 گزر چکی ہے"),
        ("/delay 0000 2026-12-01 courier", "آرڈر 0000 موجود نہیں۔"),
        ("/delay 5540 2026-12-01 courier", "تاخیر درج نہیں ہو سکتی: آرڈر 5540 پہنچ گیا ہے"),
    ):
        k.agent_message(text)
        assert k.wait_group(lambda t, expected=expected: expected in t, what=expected)
    quiet(k)
    assert not [t for t in k.group_texts() if "Usage" in t or "in the past" in t or "nothing to delay" in t]


def test_a_whatsapp_card_and_an_undeliverable_reply_are_told_in_urdu(urdu_desk, twilio_api):
    k = urdu_desk
    k.whatsapp("+923001112299", "the shoes are the wrong size", profile_name="Zara")
    card = card_of(k, "the shoes are the wrong size")
    assert "Zara · WhatsApp · +923001112299" in card["text"] and "🕑 واٹس ایپ کی ونڈو" in card["text"]
    k.wait_twilio("whatsapp:+923001112299")
    twilio_api.close_window("+923001112299")
    k.agent_message("Here is your answer", reply_to=card["message_id"])
    notice = k.wait_group(lambda t: "نہیں پہنچ سکا" in t)[0]["text"]
    assert notice.startswith("⚠️ #1001 پر Zara (WhatsApp) کو پیغام نہیں پہنچ سکا: واٹس ایپ گاہک کے آخری پیغام کے بعد")
    assert "\nپیغام: “Here is your answer" in notice


def test_the_owners_broadcast_chat_is_in_urdu(make_khidmat):
    k = make_khidmat(**URDU, **{"telegram.owner_ids": [900]})
    k.tg_message(101, "/start", first_name="Ayesha")  # a customer to send to
    k.tg_message(900, "/broadcast", first_name="Owner")
    ask = k.wait_chat(900, lambda t: "یہ کسے بھیجا جائے" in t)[-1]
    assert ask["text"].startswith("پیشکش (نیا براڈکاسٹ): یہ کسے بھیجا جائے؟")
    labels = [label for row in keyboard(k, 900, ask["text"]) for label, _ in row]
    assert "تمام گاہک" in labels
    k.tg_message(900, "city:lahore", first_name="Owner")
    bad = k.wait_chat(900, lambda t: "city:lahore" in t)[-1]["text"]
    assert bad.startswith("یہ گروہ نہیں چل سکا: نامعلوم گروہ 'city:lahore'")
    tap(k, "bc:1:seg:all", 900, ask, first_name="Owner")
    asked = k.wait_chat(900, lambda t: t.startswith("سامعین:"))[-1]["text"]
    assert asked.startswith("سامعین: all — 1 گاہک۔")
