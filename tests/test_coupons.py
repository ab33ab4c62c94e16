"""Coupons at the till, end to end on both databases: an agent issues a coupon with /discount, the shop's till
redeems it through POST /api/coupons/<code>/redeem (200 once, 404 unknown, 409 again or expired; 401/403 without the
token), two tills at the same moment get one 200 between them; agents look it up with /coupon, see it in the
ticket's /history, and the owners count it on the dashboard."""

from __future__ import annotations

import datetime as dt
import html
import re
import threading

import requests

import db
from db.models import Coupon, Customer, Message, Ticket
from handlers.core import clock
from handlers.features import loyalty
from tests.dashboard_shop import log_in_browser
from tests.helpers import OPEN_HOURS, answer, eventually, open_ticket

TOKEN = "till-api-token-0123456789"
OWNER = 4242


def redeem(k, code, token=TOKEN, body=None, session=None):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return (session or k.http).post(f"{k.url}/api/coupons/{code}/redeem", json=body, headers=headers, timeout=10)


def discount(k, card, args="10 late delivery", first_name="Sara"):
    """An agent's /discount in the ticket: the coupon it made."""
    before = Coupon.select().count()
    k.agent_message(f"/discount {args}", reply_to=card["message_id"], first_name=first_name)
    eventually(lambda: Coupon.select().count() > before, what="a new coupon")
    return Coupon.select().order_by(Coupon.id.desc()).get()


def test_a_till_redeems_a_coupon_once(make_khidmat):
    k = make_khidmat(**{"api.token": TOKEN})
    card = open_ticket(k, first_name="Ali")
    coupon = discount(k, card)
    ok = redeem(k, coupon.code.lower(), body={"till": "Till 2"})  # as typed at a till: any case
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body["outcome"] == "redeemed"
    assert body["coupon"]["code"] == coupon.code and body["coupon"]["kind"] == "percent"
    assert body["coupon"]["value"] == "10.00" and body["coupon"]["value_words"] == "10%"
    assert body["coupon"]["expires_on"] == "2026-12-25" and body["coupon"]["redeemed_by"] == "Till 2"
    again = redeem(k, coupon.code)
    assert again.status_code == 409 and again.json()["outcome"] == "already_redeemed"
    assert again.json()["coupon"]["redeemed_at"] == body["coupon"]["redeemed_at"]  # the first one stands
    unknown = redeem(k, "NOSUCH22")
    assert unknown.status_code == 404 and unknown.json()["outcome"] == "unknown"
    assert redeem(k, coupon.code, token="wrong").status_code == 401
    assert redeem(k, coupon.code, token=None).status_code == 401
    assert redeem(k, coupon.code, body={"till": 5}).status_code == 400
    row = Coupon.get_by_id(coupon.id)
    assert row.redeemed_by == "Till 2" and row.redeemed_at is not None
    # the ticket it was issued in has it in its conversation
    notes = [m.text for m in Message.select().where((Message.ticket == Ticket.get()) & (Message.direction == "note"))]
    assert any(f"Coupon {coupon.code} (10% off) was redeemed at Till 2" in n for n in notes), notes


def test_the_api_is_off_without_a_token(khidmat):
    assert redeem(khidmat, "ABCD2345").status_code == 403


def test_an_expired_coupon_is_refused(make_khidmat):
    k = make_khidmat(**{"api.token": TOKEN, "coupons.valid_days": 2})
    card = open_ticket(k)
    coupon = discount(k, card, "Rs500 sorry")
    clock.travel_to(OPEN_HOURS + dt.timedelta(days=2))  # the last day it is valid (27 November, shop's day)
    ok = redeem(k, coupon.code)
    assert ok.status_code == 200 and ok.json()["coupon"]["value_words"] == "Rs 500"
    later = discount(k, card, "5")
    clock.travel_to(OPEN_HOURS + dt.timedelta(days=5))
    expired = redeem(k, later.code)
    assert expired.status_code == 409 and expired.json()["outcome"] == "expired"
    assert Coupon.get_by_id(later.id).redeemed_at is None


def test_two_tills_at_the_same_moment_redeem_one_code_once(make_khidmat):
    k = make_khidmat(**{"api.token": TOKEN})
    card = open_ticket(k)
    coupon = discount(k, card, "15 broken lid")
    tills = 8
    start = threading.Barrier(tills)
    answers: list[requests.Response] = []
    lock = threading.Lock()

    def till(n):
        with requests.Session() as session:  # a connection of its own: the requests really run side by side
            start.wait()
            r = redeem(k, coupon.code, body={"till": f"Till {n}"}, session=session)
        with lock:
            answers.append(r)

    threads = [threading.Thread(target=till, args=(n,)) for n in range(tills)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    codes = sorted(r.status_code for r in answers)
    assert codes == [200] + [409] * (tills - 1), [r.text for r in answers]
    winner = next(r for r in answers if r.status_code == 200).json()["coupon"]["redeemed_by"]
    assert all(r.json()["coupon"]["redeemed_by"] == winner for r in answers)
    assert Coupon.get_by_id(coupon.id).redeemed_by == winner
    notes = Message.select().where((Message.direction == "note") & Message.text.contains("was redeemed"))
    assert notes.count() == 1


def test_agents_look_a_coupon_up_and_see_it_in_the_tickets_history(make_khidmat):
    k = make_khidmat(**{"api.token": TOKEN})
    card = open_ticket(k, first_name="Ali")
    coupon = discount(k, card, "10 late delivery", first_name="Sara")
    k.agent_message(f"/coupon {coupon.code.lower()}")  # anywhere in the group
    shown = answer(k, lambda t: t.startswith(f"🎟 Coupon {coupon.code}:"))
    assert "10% off, for Ali (ticket #1001)" in shown
    assert "Issued by Sara on 2026-11-25 12:0" in shown and "— late delivery" in shown
    assert "Valid until 25 December 2026" in shown and "🟢 Not redeemed yet" in shown
    clock.travel_to(OPEN_HOURS + dt.timedelta(hours=3))
    assert redeem(k, coupon.code, body={"till": "Till 1"}).status_code == 200
    k.agent_message(f"/coupon {coupon.code}")
    shown = answer(k, lambda t: t.startswith(f"🎟 Coupon {coupon.code}:") and "Redeemed" in t)
    assert "✅ Redeemed 2026-11-25 15:0" in shown and "at Till 1" in shown
    k.agent_message("/history", reply_to=card["message_id"])
    history = answer(k, lambda t: "🎟 Coupons:" in t)
    assert f"{coupon.code} · 10% · 2026-11-25 by Sara · ✅ Redeemed 2026-11-25 15:0" in history
    for wrong in ("/coupon", "/coupon a b c"):
        k.agent_message(wrong)
    eventually(lambda: len([t for t in k.group_texts() if t.startswith("Usage: /coupon CODE")]) == 2)
    k.agent_message("/coupon ZZZZ9999")
    answer(k, lambda t: t == "No coupon ZZZZ9999.")
    # an expired one, issued by a greeting to nobody's ticket
    with db.write():
        old = loyalty.issue_coupon(
            Customer.get(telegram_user_id=21), kind="percent", value=5, issued_by="greetings", valid_days=1
        )
    clock.travel_to(OPEN_HOURS + dt.timedelta(days=3))
    k.agent_message(f"/coupon {old.code}")
    shown = answer(k, lambda t: t.startswith(f"🎟 Coupon {old.code}:"))
    assert "for Ali\n" in shown and "⌛ Expired, not redeemed" in shown
    k.agent_message("/help")
    assert "/coupon CODE" in answer(k, lambda t: t.startswith("In a ticket"))


def test_agents_in_urdu_read_the_coupon_in_urdu(make_khidmat):
    k = make_khidmat(**{"api.token": TOKEN, "app.agent_language": "ur"})
    card = open_ticket(k, first_name="Ali")
    coupon = discount(k, card, "10")
    k.agent_message(f"/coupon {coupon.code}")
    shown = answer(k, lambda t: t.startswith(f"🎟 کوپن {coupon.code}"))
    assert "ابھی استعمال نہیں ہوا" in shown and "Ali" in shown


def _figure(page: str, key: str) -> str:
    block = page.split(f'id="fig-{key}">', 1)[1]
    value = re.search(r'class="value">(.*?)</div>', block, re.S).group(1)
    return html.unescape(re.sub(r"<[^>]+>", "", value)).strip()


def test_the_owners_count_redeemed_coupons(make_khidmat):
    k = make_khidmat(**{"api.token": TOKEN, "telegram.owner_ids": [OWNER], "app.public_url": "http://shop.example.com"})
    card = open_ticket(k)
    first, second, third = (discount(k, card, f"{n}") for n in (5, 6, 7))
    assert redeem(k, first.code).status_code == 200
    assert redeem(k, second.code).status_code == 200
    browser = log_in_browser(k, OWNER)
    page = browser.get(f"{k.url}/dashboard/proactive?range=7", timeout=10)
    assert page.status_code == 200
    assert "Coupons redeemed at the tills" in page.text and _figure(page.text, "coupons_redeemed") == "2"
    k.agent_message("/stats")
    assert "🎟 Coupons: 3 issued, 2 redeemed at the tills" in answer(k, lambda t: t.startswith("📊 Today"))
    assert third.redeemed_at is None
