"""Self-service end to end: the menu (Telegram buttons, WhatsApp/SMS numbers), answers to common questions in
Urdu and English, "did this help?", the handoff to a person with what the bot answered on the card, complaints
going straight to a ticket, the menu outside business hours, /stats and `flask faq test`."""

import datetime as dt

from db.models import Customer, FaqLog, Message, Ticket
from handlers.core import clock
from tests.helpers import card_of, eventually, keyboard, quiet, tap

WA = "+923001234567"
SMS_NO = "+923331112222"


# ---- helpers --------------------------------------------------------------------------------------------
def answered_callbacks(k):
    return [c["params"].get("callback_query_id") for c in k.tg.calls if c["method"] == "answerCallbackQuery"]


def texts_to(k, address):
    return [m["body"] for m in k.twilio.sent(to=address)]


# ---- Telegram: buttons ----------------------------------------------------------------------------------
def test_telegram_menu_by_buttons_answer_and_no_opens_a_ticket_with_context(khidmat):
    k = khidmat
    k.tg_message(31, "/start", first_name="Ayesha")
    welcome = k.wait_chat(31)[0]["text"]
    assert "Ayesha" in welcome and "Welcome" in welcome and "How can we help you?" in welcome
    assert [data for row in keyboard(k, 31) for _, data in row] == [
        "ss:menu:complaint",
        "ss:menu:order",
        "ss:menu:faq",
        "ss:menu:person",
    ]
    assert [label for row in keyboard(k, 31) for label, _ in row][3] == "Talk to a person"

    first = tap(k, "ss:menu:faq", 31, k.chat(31)[-1]).callback_id
    k.wait_chat(31, lambda t: t.startswith("Common questions"))
    eventually(lambda: first in answered_callbacks(k), what="the tap answered")
    questions = keyboard(k, 31, "Common questions")
    assert ("Delivery charges", "ss:faq:delivery_charges") in [b for row in questions for b in row]

    tap(k, "ss:faq:delivery_charges", 31, k.chat(31)[-1])
    answer = k.wait_chat(31, lambda t: "Rs. 3,000" in t)[0]["text"]
    assert "Did this answer your question?" in answer
    yes_no = keyboard(k, 31, "Rs. 3,000")[0]
    assert [label for label, _ in yes_no] == ["👍 Yes", "👎 No"] and yes_no[1][1].startswith("ss:fb:no:")
    assert Ticket.select().count() == 0

    tap(k, yes_no[1][1], 31, k.chat(31)[-1])
    ack = k.wait_chat(31, lambda t: "#1001" in t)[0]["text"]
    assert "30 minutes" in ack
    card = card_of(k, 1001)["text"]
    assert "Before this ticket, with the bot" in card
    assert "“/start” → menu shown" in card and "“Common questions” → common questions listed" in card
    assert "“Delivery charges” → answered: Delivery charges (delivery_charges" in card and "👎 not helpful" in card
    log = FaqLog.get()
    assert (log.answer_key, log.outcome, log.ticket_id) == ("delivery_charges", "unhelpful", Ticket.get().id)
    eventually(lambda: len(answered_callbacks(k)) == 3, what="every tap answered")
    assert Customer.get().dialog is None  # a fresh start after the handoff


def test_telegram_urdu_question_answered_in_urdu_and_marked_helpful(khidmat):
    k = khidmat
    k.tg_message(32, "ڈیلیوری کے چارجز کتنے ہیں؟", first_name="Bilal", language_code="ur")
    answer = k.wait_chat(32)[0]["text"]
    assert "3,000 روپے" in answer and "کیا اس سے آپ کے سوال کا جواب مل گیا؟" in answer
    yes = keyboard(k, 32)[0][0]
    assert yes[0] == "👍 جی ہاں"
    tap(k, yes[1], 32, k.chat(32)[-1], first_name="Bilal", language_code="ur")
    assert "خوشی ہوئی" in k.wait_chat(32, lambda t: "خوشی" in t)[0]["text"]
    eventually(lambda: FaqLog.get().outcome == "helpful", what="the answer marked helpful")
    k.tg_message(32, "شکریہ", first_name="Bilal", language_code="ur")  # thanks for the thanks: nothing more
    quiet(k)
    assert Ticket.select().count() == 0 and k.group() == [] and len(k.chat(32)) == 2


def test_telegram_menu_complaint_and_order_options(khidmat):
    k = khidmat
    k.tg_message(33, "menu")
    k.wait_chat(33, lambda t: "How can we help" in t)
    tap(k, "ss:menu:order", 33, k.chat(33)[-1])
    assert "order number" in k.wait_chat(33, lambda t: "order number" in t)[0]["text"]
    k.tg_message(33, "/menu@khidmat_bot")
    eventually(lambda: len([m for m in k.chat(33) if "How can we help" in (m["text"] or "")]) == 2)
    tap(k, "ss:menu:complaint", 33, k.chat(33)[-1])
    k.wait_chat(33, lambda t: "describe the problem" in t)
    k.tg_message(33, "the lid of my kettle")  # whatever they write now is the complaint
    assert "#1001" in k.wait_chat(33, lambda t: "#1001" in t)[0]["text"]
    assert "the lid of my kettle" in card_of(k, 1001)["text"] and "chose “File a complaint”" in card_of(k, 1001)["text"]


# ---- WhatsApp and SMS: numbers ----------------------------------------------------------------------------
def test_whatsapp_greeting_menu_by_number_answer_and_no_with_context(khidmat):
    k = khidmat
    k.whatsapp(WA, "Assalam o Alaikum", profile_name="Sana")
    menu = k.wait_twilio(f"whatsapp:{WA}")[0]["body"]
    assert "Sana" in menu and "1. File a complaint" in menu and "4. Talk to a person" in menu and "(1–4)" in menu
    assert Ticket.select().count() == 0
    k.whatsapp(WA, "3")
    listing = k.wait_twilio(f"whatsapp:{WA}", lambda b: b.startswith("Common questions"))[0]["body"]
    assert "1. Opening hours" in listing and "3. Delivery charges" in listing
    k.whatsapp(WA, "3")
    answer = k.wait_twilio(f"whatsapp:{WA}", lambda b: "Rs. 3,000" in b)[0]["body"]
    assert "Reply 1 for yes, 2 for no" in answer
    k.whatsapp(WA, "2")
    ack = k.wait_twilio(f"whatsapp:{WA}", lambda b: "#1001" in b)[0]["body"]
    assert "welcome" in ack
    card = card_of(k, 1001)["text"]
    assert "WhatsApp" in card and "“Assalam o Alaikum” → menu shown" in card and "“3” → common questions listed" in card
    assert "answered: Delivery charges (delivery_charges" in card and "“2” → 👎 not helpful" in card
    assert Message.select().where(Message.direction == "in").get().text == "Delivery charges"  # what they asked


def test_sms_urdu_menu_urdu_digit_talks_to_a_person(khidmat):
    k = khidmat
    k.sms(SMS_NO, "السلام علیکم")
    menu = k.wait_twilio(SMS_NO)[0]["body"]
    assert "ہم آپ کی کیا مدد کر سکتے ہیں؟" in menu and "4. کسی نمائندے سے بات کریں" in menu
    k.sms(SMS_NO, "۴")
    ack = k.wait_twilio(SMS_NO, lambda b: "#1001" in b)[0]["body"]
    assert "ٹکٹ نمبر" in ack
    card = card_of(k, 1001)["text"]
    assert "SMS" in card and "“۴” → asked for a person" in card and "(asked to talk to a person)" in card


def test_sms_faq_hit_in_english_and_a_miss_becomes_a_ticket(khidmat):
    k = khidmat
    k.sms(SMS_NO, "Do you deliver outside Pakistan?")
    answer = k.wait_twilio(SMS_NO)[0]["body"]
    assert "We do not ship outside Pakistan yet." in answer and "Reply 1 for yes" in answer
    k.sms(SMS_NO, "1")
    k.wait_twilio(SMS_NO, lambda b: "Glad to help" in b)
    k.sms(SMS_NO, "can I pay in installments?")
    assert "#1001" in k.wait_twilio(SMS_NO, lambda b: "#1001" in b)[0]["body"]
    card = card_of(k, 1001)["text"]
    assert "can I pay in installments?" in card and "answered: Where we deliver (delivery_areas" in card
    assert "“1” → 👍 helpful" in card
    miss = FaqLog.get(FaqLog.answer_key.is_null())
    assert (miss.outcome, miss.ticket_id, miss.question) == ("handoff", Ticket.get().id, "can I pay in installments?")


def test_whatsapp_urdu_digits_pick_questions_and_asking_again_goes_to_a_person(khidmat):
    k = khidmat
    k.whatsapp(WA, "مینو")
    k.wait_twilio(f"whatsapp:{WA}", lambda b: "1. شکایت درج کریں" in b)
    k.whatsapp(WA, "۳")
    k.wait_twilio(f"whatsapp:{WA}", lambda b: b.startswith("عام سوالات"))
    k.whatsapp(WA, "۲")
    answer = k.wait_twilio(f"whatsapp:{WA}", lambda b: "کاروباری دنوں" in b)[0]["body"]
    assert "ہاں کے لیے 1" in answer
    k.whatsapp(WA, "order kitne din mein pohanchta hai?")  # the same question again: a person takes it
    assert "#1001" in k.wait_twilio(f"whatsapp:{WA}", lambda b: "#1001" in b)[0]["body"]
    assert "asked again: delivery_time did not help" in card_of(k, 1001)["text"]
    assert FaqLog.get().outcome == "unhelpful"


# ---- a person, complaints, open tickets ------------------------------------------------------------------
def test_asking_for_a_person_at_any_point(khidmat):
    k = khidmat
    k.tg_message(34, "what are your timings?")
    k.wait_chat(34, lambda t: "Monday to Saturday" in t)
    k.tg_message(34, "insaan se baat karni hai")
    assert "#1001" in k.wait_chat(34, lambda t: "#1001" in t)[0]["text"]
    card = card_of(k, 1001)["text"]
    assert "insaan se baat karni hai" in card and "answered: Opening hours (opening_hours" in card
    assert FaqLog.get().outcome == "handoff"
    # with the ticket open: the menu on request, and "talk to a person" says the team has it
    k.tg_message(34, "menu")
    k.wait_chat(34, lambda t: "How can we help" in t)
    tap(k, "ss:menu:person", 34, k.chat(34)[-1])
    assert "#1001" in k.wait_chat(34, lambda t: "is open" in t)[0]["text"]
    k.wait_group(lambda t: "asked to talk to a person" in t)
    assert Ticket.select().count() == 1


def test_while_a_ticket_is_open_questions_join_it(khidmat):
    k = khidmat
    k.whatsapp(WA, "my parcel arrived damaged")
    k.wait_twilio(f"whatsapp:{WA}", lambda b: "#1001" in b)
    k.whatsapp(WA, "what are your delivery charges?")
    k.wait_group(lambda t: "what are your delivery charges?" in t)
    k.whatsapp(WA, "hi")
    k.wait_group(lambda t: t.endswith("hi"))
    quiet(k)
    assert len(k.twilio.sent(to=f"whatsapp:{WA}")) == 1 and FaqLog.select().count() == 0


def test_complaints_bypass_the_menu_even_after_a_greeting(khidmat):
    k = khidmat
    k.tg_message(35, "mera order abhi tak nahi aaya", language_code="ur")
    assert "ٹکٹ نمبر" in k.wait_chat(35)[0]["text"]  # no menu first
    k.whatsapp(WA, "hi")
    k.wait_twilio(f"whatsapp:{WA}", lambda b: "How can we help" in b)
    k.whatsapp(WA, "2")  # "track an order" …
    k.wait_twilio(f"whatsapp:{WA}", lambda b: "order number" in b)
    k.whatsapp(WA, "you sent the wrong colour, I want a refund")  # … but it is a complaint
    assert "#1002" in k.wait_twilio(f"whatsapp:{WA}", lambda b: "#1002" in b)[0]["body"]
    card = card_of(k, 1002)["text"]
    assert "“hi” → menu shown" in card and "chose “Track an order”" in card and "wrong colour" in card
    assert card.index("menu shown") < card.index("wrong colour")


def test_after_a_closed_ticket_menu_is_not_taken_as_the_rating(khidmat):
    k = khidmat
    k.tg_message(37, "my parcel arrived damaged")
    card = k.wait_group(lambda t: "damaged" in t)[0]
    k.agent_message("/close", reply_to=card["message_id"])
    k.wait_chat(37, lambda t: "rate" in t.lower())
    k.tg_message(37, "menu")
    k.wait_chat(37, lambda t: "How can we help" in t)
    k.tg_message(37, "5")
    eventually(lambda: Ticket.get().rating == 5, what="the rating")


def test_the_menu_expires(khidmat):
    k = khidmat
    k.sms(SMS_NO, "menu")
    k.wait_twilio(SMS_NO, lambda b: "How can we help" in b)
    clock.travel_to(clock.now() + dt.timedelta(minutes=31))
    k.sms(SMS_NO, "3")  # too late to be a choice: a message
    assert "#1001" in k.wait_twilio(SMS_NO, lambda b: "#1001" in b)[0]["body"]


# ---- outside business hours --------------------------------------------------------------------------------
def test_outside_hours_the_menu_says_when_a_person_is_back(khidmat):
    k = khidmat
    clock.travel_to(dt.datetime(2026, 11, 25, 16, 0))  # Wednesday 21:00 in Karachi
    k.tg_message(36, "/start")
    menu = k.wait_chat(36)[0]["text"]
    assert "will be available tomorrow at 10:00" in menu and "How can we help" in menu
    k.sms(SMS_NO, "سلام")
    urdu = k.wait_twilio(SMS_NO)[0]["body"]
    assert "کل 10:00 بجے دستیاب ہو گی" in urdu and "4. کسی نمائندے سے بات کریں" in urdu
    k.sms(SMS_NO, "ڈیلیوری کتنے دن میں ہوتی ہے؟")  # answers work day and night
    k.wait_twilio(SMS_NO, lambda b: "کاروباری دنوں" in b)


# ---- what the shop sees ----------------------------------------------------------------------------------
def test_stats_count_answers_helpful_and_what_went_to_a_person(khidmat):
    k = khidmat
    for user, question, verdict in (
        (41, "is cash on delivery available?", "yes"),
        (42, "warranty kitni hai?", "no"),
        (43, "do you gift wrap?", None),
        (44, "do you giftwrap??", None),
    ):
        k.tg_message(user, question)
        k.wait_chat(user)
        if verdict:
            tap(
                k,
                next(d for row in keyboard(k, user) for _, d in row if d.startswith(f"ss:fb:{verdict}")),
                user,
                k.chat(user)[-1],
            )
    eventually(lambda: FaqLog.select().where(FaqLog.outcome != "answered").count() == 4, what="every outcome")
    eventually(lambda: Ticket.select().count() == 3, what="the tickets of the three who went to a person")
    k.agent_message("/stats")
    stats = k.wait_group(lambda t: t.startswith("📊 Today"))[-1]["text"]
    assert "Self-service: 2 questions answered, 1 marked helpful, 1 not helpful, 3 went to a person" in stats
    assert "“do you gift wrap?” (2)" in stats


def test_faq_test_command(khidmat):
    run = khidmat.app.test_cli_runner()
    hit = run.invoke(args=["faq", "test", "delivery charjes kitne hain"], catch_exceptions=False).output
    assert "  1. delivery_charges" in hit and "Verdict: ANSWER delivery_charges" in hit and "3,000 روپے" in hit
    english = run.invoke(args=["faq", "test", "how long does delivery take?"], catch_exceptions=False).output
    assert "Verdict: ANSWER delivery_time" in english and "working days" in english
    miss = run.invoke(args=["faq", "test", "do you sell iphones"], catch_exceptions=False).output
    assert "Verdict: NO ANSWER" in miss and "a person answers" in miss
    complaint = run.invoke(args=["faq", "test", "my parcel is late"], catch_exceptions=False).output
    assert "Verdict: NO ANSWER — it reads as a complaint" in complaint
