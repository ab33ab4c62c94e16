"""Loyalty's promises end to end, on both databases and in both languages: the shop's system pushes orders through
/api/orders; a delivered order's points lift a customer into a new tier and they are told in their language (once
per step up, never on the way down); an order cancelled or returned after delivery gives its points back, never
below zero, each change in the points ledger; the customers' /help lists /points and /birthday."""

from __future__ import annotations

import db
from db.models import Customer, PointsChange
from handlers.features import loyalty
from tests.helpers import eventually, quiet

TOKEN = "shop-api-token-0123456789"
TIERS = {"api.token": TOKEN, "loyalty.tiers": ["Silver:20", "Gold:100"]}
WA = "+923001250001"


def api(k, method, path, body=None):
    return k.http.request(
        method, f"{k.url}/api{path}", json=body, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )


def told(k, chat, words):
    return [m["text"] for m in k.chat(chat) if words in (m.get("text") or "")]


def ledger(customer_id):
    return [
        (row.change, row.balance, row.reason, row.order.ref if row.order_id else None)
        for row in PointsChange.select().where(PointsChange.customer == customer_id).order_by(PointsChange.id)
    ]


def test_a_customer_who_reaches_a_tier_is_told_in_their_language(make_khidmat):
    k = make_khidmat(**TIERS)
    k.tg_message(31, "/start", first_name="Ali", language_code="en")
    k.wait_chat(31)
    r = api(k, "POST", "/orders", {"order_ref": "A-1", "telegram_id": 31, "amount": "2550", "status": "shipped"})
    assert r.status_code == 201
    quiet(k)
    assert told(k, 31, "Congratulations") == []  # not delivered yet: no points
    assert api(k, "PATCH", "/orders/A-1", {"status": "delivered"}).status_code == 200
    text = k.wait_chat(31, lambda t: "Congratulations" in t)[0]["text"]
    assert "Congratulations, Ali! With 25 points you are now a Silver customer of Khidmat Shop" in text
    api(k, "POST", "/orders", {"order_ref": "A-2", "telegram_id": 31, "amount": "3000", "status": "delivered"})
    quiet(k)
    assert len(told(k, 31, "Congratulations")) == 1  # still Silver (55): nothing new to say
    api(k, "POST", "/orders", {"order_ref": "A-3", "telegram_id": 31, "amount": "5000", "status": "delivered"})
    eventually(lambda: told(k, 31, "now a Gold customer"), what="the Gold message")
    assert "105 points" in told(k, 31, "now a Gold customer")[0]
    # an Urdu customer on WhatsApp, known from their first message
    k.whatsapp(WA, "السلام علیکم، میرا آرڈر", profile_name="Sana")
    k.wait_group(lambda t: "میرا آرڈر" in t)
    api(k, "POST", "/orders", {"order_ref": "S-1", "phone": WA, "amount": "2000", "status": "delivered"})
    body = k.wait_twilio(f"whatsapp:{WA}", lambda b: "مبارک ہو" in b)[0]["body"]
    assert "20 پوائنٹس کے ساتھ اب آپ Khidmat Shop کے سلور درجے کے گاہک ہیں" in body
    assert (Customer.get(phone=WA).points, Customer.get(phone=WA).tier) == (20, "Silver")


def test_a_cancelled_or_returned_order_gives_its_points_back_never_below_zero(make_khidmat):
    k = make_khidmat(**TIERS)
    k.tg_message(41, "/start", first_name="Omar", language_code="en")
    k.wait_chat(41)
    for ref, amount in (("C-1", "2500"), ("C-2", "1000")):
        api(k, "POST", "/orders", {"order_ref": ref, "telegram_id": 41, "amount": amount, "status": "delivered"})
    omar = Customer.get(telegram_user_id=41)
    assert (omar.points, omar.tier) == (35, "Silver")
    # C-1 is cancelled after delivery: its 25 points go back, and the tier with them (not told)
    r = api(k, "PATCH", "/orders/C-1", {"status": "cancelled"})
    assert r.status_code == 200 and r.json()["order"]["status"] == "cancelled"
    omar = Customer.get(telegram_user_id=41)
    assert (omar.points, omar.tier) == (10, None)
    api(k, "PATCH", "/orders/C-1", {"status": "cancelled", "items": "again"})  # saved again: nothing twice
    assert Customer.get(telegram_user_id=41).points == 10
    # the customer spent points meanwhile (an adjustment); returning C-2 would take 10 of the 4 left: 0, not −6
    with db.write():
        loyalty.add_points(omar.id, -6)
    api(k, "PATCH", "/orders/C-2", {"status": "returned"})
    assert Customer.get(telegram_user_id=41).points == 0
    assert ledger(omar.id) == [
        (25, 25, "awarded", "C-1"),
        (10, 35, "awarded", "C-2"),
        (-25, 10, "cancelled", "C-1"),
        (-6, 4, "adjusted", None),
        (-4, 0, "returned", "C-2"),
    ]
    k.tg_message(41, "/points")
    assert "0 loyalty points" in k.wait_chat(41, lambda t: "loyalty points" in t)[0]["text"]
    # delivered again after all (the return was a mistake): the points come back, once
    api(k, "PATCH", "/orders/C-2", {"status": "delivered"})
    assert Customer.get(telegram_user_id=41).points == 10
    quiet(k)
    assert len(told(k, 41, "Congratulations")) == 1  # the first Silver only


def test_a_cancelled_order_in_urdu_by_sms_keeps_the_customer_at_zero(make_khidmat):
    k = make_khidmat(**TIERS, **{"twilio.whatsapp_from": ""})
    body = {"order_ref": "U-1", "phone": "+923001250002", "amount": "1500", "status": "delivered", "language": "ur"}
    api(k, "POST", "/orders", body)
    hina = Customer.get(phone="+923001250002")
    assert hina.points == 15
    api(k, "PATCH", "/orders/U-1", {"status": "returned"})
    assert Customer.get_by_id(hina.id).points == 0
    k.sms("+923001250002", "پوائنٹس")
    reply = k.wait_twilio("+923001250002", lambda b: "لائلٹی پوائنٹس" in b)[0]["body"]
    assert "0 لائلٹی پوائنٹس" in reply, reply
    assert ledger(hina.id) == [(15, 15, "awarded", "U-1"), (-15, 0, "returned", "U-1")]


def test_help_lists_points_and_birthday_in_both_languages(khidmat):
    khidmat.tg_message(51, "/help", first_name="Ali", language_code="en")
    text = khidmat.wait_chat(51, lambda t: "/points" in t)[0]["text"]
    assert "/points — your loyalty points" in text and "/birthday 14-08 — tell us your birthday" in text
    khidmat.tg_message(52, "/help", first_name="Sana", language_code="ur")
    text = khidmat.wait_chat(52, lambda t: "/points" in t)[0]["text"]
    assert "/points — آپ کے لائلٹی پوائنٹس" in text and "/birthday 14-08 — اپنی سالگرہ" in text
