"""Coupons and loyalty end to end: /discount in a ticket within the agent's limit (owners unlimited), the code
reaching the customer in their language on their channel; points from delivered orders (once per order), tiers,
customers asking for their points, and the tier on the ticket card."""

import decimal

import db
from db.models import Coupon, Customer, Message, Order, Ticket
from handlers.features import loyalty
from tests.helpers import answer, eventually, open_ticket, quiet

OWNER = 900
WA = "+923001240001"


def order(customer, ref, amount, status="pending"):
    with db.write():
        row = Order.create(ref=ref, customer=customer, amount=decimal.Decimal(amount), status=status)
        loyalty.on_order_saved(row)
    return row


def deliver(row):
    with db.write():
        row.status = "delivered"
        row.save()
        loyalty.on_order_saved(row)


# ---- /discount ----------------------------------------------------------------------------------------
def test_discount_within_the_limit_reaches_the_customer_and_is_recorded(khidmat):
    card = open_ticket(khidmat, first_name="Ali")
    khidmat.agent_message("/discount 10 late delivery", reply_to=card["message_id"], first_name="Sara")
    coupon = eventually(lambda: Coupon.get_or_none(), what="a coupon")
    sent = khidmat.wait_chat(21, lambda t: coupon.code in t)[0]["text"]
    assert "10% off" in sent and "Ali" in sent and "25 December 2026" in sent  # coupons.valid_days = 30
    note = answer(khidmat, lambda t: t.startswith("🎁 Coupon"))
    assert coupon.code in note and "by Sara — late delivery" in note
    ticket = Ticket.get()
    assert (coupon.kind, coupon.value, coupon.issued_by, coupon.reason) == ("percent", 10, "Sara", "late delivery")
    assert coupon.customer_id == ticket.customer_id and coupon.ticket_id == ticket.id
    assert Message.select().where((Message.direction == "note") & Message.text.contains(coupon.code)).count() == 1


def test_discount_as_an_amount_in_urdu_on_whatsapp(khidmat):
    khidmat.whatsapp(WA, "میرا پارسل ٹوٹا ہوا آیا ہے", profile_name="Sana")
    card = khidmat.wait_group(lambda t: "پارسل" in t)[0]
    khidmat.agent_message("/discount Rs500", reply_to=card["message_id"])
    coupon = eventually(lambda: Coupon.get_or_none(), what="a coupon")
    body = khidmat.wait_twilio(f"whatsapp:{WA}", lambda b: coupon.code in b)[0]["body"]
    assert "500 روپے" in body and "رعایت" in body
    assert (coupon.kind, coupon.value) == ("amount", 500)
    answer(khidmat, lambda t: "Rs 500 off" in t)


def test_discount_above_the_agents_limit_is_refused(khidmat):
    card = open_ticket(khidmat)
    khidmat.agent_message("/discount 20 very sorry", reply_to=card["message_id"])
    assert "limit of 15%" in answer(khidmat, lambda t: t.startswith("Not issued"))
    khidmat.agent_message("/discount Rs5000", reply_to=card["message_id"])
    assert "Rs 5,000 is above the agents' limit of Rs 1,000" in answer(khidmat, lambda t: "Rs 5,000" in t)
    assert Coupon.select().count() == 0
    assert not [m for m in khidmat.chat(21) if "code" in (m.get("text") or "")]


def test_owners_have_no_limit(make_khidmat):
    k = make_khidmat(**{"telegram.owner_ids": [OWNER]})
    card = open_ticket(k)
    k.agent_message("/discount 50 loyal customer", reply_to=card["message_id"], agent_id=OWNER, first_name="Owner")
    coupon = eventually(lambda: Coupon.get_or_none(), what="a coupon")
    assert "50% off" in k.wait_chat(21, lambda t: coupon.code in t)[0]["text"]
    k.agent_message("/discount Rs3000", reply_to=card["message_id"], agent_id=OWNER, first_name="Owner")
    eventually(lambda: Coupon.select().count() == 2)


def test_discount_usage_and_outside_a_ticket(khidmat):
    card = open_ticket(khidmat)
    for wrong in ("/discount", "/discount abc", "/discount 150", "/discount 0 nothing"):
        khidmat.agent_message(wrong, reply_to=card["message_id"])
    eventually(
        lambda: len([t for t in khidmat.group_texts() if t.startswith("Usage: /discount 10 [reason]")]) == 4,
        what="four usage lines",
    )
    assert "up to 15% or Rs 1,000" in answer(khidmat, lambda t: t.startswith("Usage: /discount"))
    khidmat.agent_message("/discount 10")
    answer(khidmat, lambda t: "/discount works inside a ticket" in t)
    assert Coupon.select().count() == 0


# ---- points ---------------------------------------------------------------------------------------------
def test_points_from_delivered_orders_once_each_and_tiers(make_khidmat):
    k = make_khidmat(**{"loyalty.tiers": ["Silver:20", "Gold:100"]})
    k.tg_message(31, "/start", first_name="Ali")
    k.wait_chat(31)
    ali = Customer.get(telegram_user_id=31)
    first = order(ali, "A-1", "2550.00")
    assert Customer.get_by_id(ali.id).points == 0  # not delivered yet
    deliver(first)
    deliver(first)  # saved again: no second award
    order(ali, "A-2", "99", status="delivered")  # under 100: no point, but counted
    second = Customer.get_by_id(ali.id)
    assert (second.points, second.tier) == (25, "Silver")
    assert Order.get(Order.ref == "A-2").points_awarded
    order(ali, "A-3", "8000", status="Delivered")
    assert (Customer.get_by_id(ali.id).points, Customer.get_by_id(ali.id).tier) == (105, "Gold")

    k.tg_message(31, "points")
    sent = k.wait_chat(31, lambda t: "loyalty points" in t)[0]["text"]
    assert "105 loyalty points" in sent and "Your tier: Gold" in sent and "top tier" in sent
    assert Ticket.select().count() == 0


def test_customers_ask_for_points_in_urdu_and_english(make_khidmat):
    k = make_khidmat(**{"loyalty.tiers": ["Silver:500", "Gold:2000"]})
    k.tg_message(41, "/start", first_name="Sana", language_code="ur")
    k.wait_chat(41)
    with db.write():
        loyalty.add_points(Customer.get(telegram_user_id=41).id, 1840)
    k.tg_message(41, "پوائنٹس", language_code="ur")
    sent = k.wait_chat(41, lambda t: "لائلٹی پوائنٹس" in t)[0]["text"]
    assert "1,840" in sent and "آپ کا درجہ: سلور" in sent and "گولڈ درجے تک پہنچنے کے لیے مزید 160 پوائنٹس" in sent
    k.whatsapp(WA, "points kitne hain?", profile_name="Bilal")
    body = k.wait_twilio(f"whatsapp:{WA}", lambda b: "points" in b)[0]["body"]
    assert "0 loyalty points" in body and "500 more points to reach Silver" in body
    k.sms("+923001240002", "/points")
    assert "loyalty points" in k.wait_twilio("+923001240002", lambda b: "points" in b)[0]["body"]
    k.tg_message(42, "how many points do I have?", first_name="Omar")
    k.wait_chat(42, lambda t: "0 loyalty points" in t)
    assert Ticket.select().count() == 0


def test_with_an_open_ticket_a_points_question_is_answered_and_the_agents_see_it(khidmat):
    open_ticket(khidmat, 51, "the box came damaged")
    khidmat.tg_message(51, "points kitne hain")  # answered, and joins the ticket
    reply = khidmat.wait_chat(51, lambda t: "loyalty points" in t)[0]["text"]
    khidmat.wait_group(lambda t: "points kitne hain" in t)
    seen = khidmat.wait_group(lambda t: "The bot answered the customer" in t)[0]["text"]
    assert reply.splitlines()[0] in seen
    khidmat.tg_message(51, "points not added for my last purchase")  # a complaint: joins the ticket only
    khidmat.wait_group(lambda t: "points not added" in t)
    quiet(khidmat)
    assert len([m for m in khidmat.chat(51) if "loyalty points" in (m.get("text") or "")]) == 1
    khidmat.tg_message(51, "/points")
    eventually(lambda: len([m for m in khidmat.chat(51) if "loyalty points" in (m.get("text") or "")]) == 2)
    assert Ticket.select().count() == 1


def test_the_tier_shows_on_the_ticket_card(khidmat):
    khidmat.tg_message(61, "/start", first_name="Gul")
    khidmat.wait_chat(61)
    with db.write():
        loyalty.add_points(Customer.get(telegram_user_id=61).id, 2340)
    card = open_ticket(khidmat, 61, "the lid is missing from the box")["text"]
    assert "⭐ Gold · 2,340 points" in card
    # a customer without points has no such line
    plain = open_ticket(khidmat, 62, "another question")["text"]
    assert "points" not in plain
