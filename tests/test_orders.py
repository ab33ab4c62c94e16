"""Orders end to end: CSV import (CLI), the API over HTTP, "where is my order" on every channel, delay
notices (CLI, API, /delay) in both languages, the WhatsApp template path, the overdue job, and answers
to a notice becoming a ticket that carries the order."""

import datetime as dt
import json
import subprocess
import sys

import db
from db.models import Contact, Coupon, Customer, CustomerTag, Order, Ticket
from handlers.core import clock
from tests.helpers import ORDER_HEADER, eventually, import_orders, order_rows, quiet

API_TOKEN = "shop-api-token-0123456789"
ALI = "+923001234567"
GOOD_AND_BAD = f"""{ORDER_HEADER}
5531,Ali Raza,0300-1234567,,2 kurtas,"4,500",shipped,2026-11-28,1990-08-14,,ur,"vip, lahore"
5532,Sara Khan,,777001,Lawn suit,3200,Pending,2026-11-30,08-14,2015-03-01,en,eid
5533,Bad Phone,12345,,Shoes,1000,pending,2026-11-30,,,,
5534,Bad Date,03001112222,,Shoes,1000,pending,2026-13-01,,,,
,No Ref,03001112223,,Shoes,1000,pending,2026-11-30,,,,
5535,Bad Status,03001112224,,Shoes,1000,lost,2026-11-30,,,,
5536,Ali,+92 300 1234567,,Old order,999,DELIVERED,2026-11-01,,,,
"""
SUMMARY = """orders.csv: 3 created, 0 updated, 0 unchanged, 4 rejected
line 4: bad phone "12345"
line 5: unknown date "2026-13-01" (use YYYY-MM-DD)
line 6: missing order_ref
line 7: unknown status "lost" (one of pending, confirmed, processing, packed, shipped, out_for_delivery, delivered, \
cancelled, returned)"""


# ---- helpers ------------------------------------------------------------------------------------------------
def cli(k, *args):
    return k.app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)


def api(k, method, path, body=None, token=API_TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return k.http.request(method, f"{k.url}/api{path}", json=body, headers=headers, timeout=10)


def texts_to(k, to):
    return [m["body"] for m in k.twilio.sent(to=to)]


# ---- import ---------------------------------------------------------------------------------------------------
def test_import_good_and_bad_rows_then_again_changes_nothing(khidmat, tmp_path):
    assert import_orders(khidmat, tmp_path, GOOD_AND_BAD) == SUMMARY
    assert Order.select().count() == 3 and Customer.select().count() == 2  # rejected rows left nothing behind
    ali = Customer.get(Customer.phone == ALI)
    assert (ali.name, ali.language, ali.birthday, ali.birth_year) == ("Ali Raza", "ur", "08-14", 1990)
    assert {t.tag for t in CustomerTag.select().where(CustomerTag.customer == ali)} == {"vip", "lahore"}
    assert [(o.ref, o.is_open) for o in ali.orders.order_by(Order.ref)] == [("5531", True), ("5536", False)]
    assert str(Order.get(Order.ref == "5531").amount) in ("4500", "4500.00")
    sara = Customer.get(Customer.telegram_user_id == 777001)
    assert (sara.birthday, sara.birth_year, sara.anniversary, sara.language) == ("08-14", None, "03-01", "en")
    assert Order.get(Order.ref == "5532").status == "pending"

    again = import_orders(khidmat, tmp_path, GOOD_AND_BAD)
    assert again.splitlines()[0] == "orders.csv: 0 created, 0 updated, 3 unchanged, 4 rejected"
    assert Order.select().count() == 3 and Customer.select().count() == 2 and CustomerTag.select().count() == 3

    changed = GOOD_AND_BAD.replace('2 kurtas,"4,500",shipped', '2 kurtas,"4,500",delivered')
    assert (
        import_orders(khidmat, tmp_path, changed).splitlines()[0]
        == "orders.csv: 0 created, 1 updated, 2 unchanged, 4 rejected"
    )
    assert Order.get(Order.ref == "5531").is_open is False


def test_import_file_problems_are_explained(khidmat, tmp_path):
    path = tmp_path / "nohead.csv"
    path.write_text("ref,phone\n1,03001234567\n")
    result = khidmat.app.test_cli_runner().invoke(args=["orders", "import", str(path)])
    assert result.exit_code == 1 and "no order_ref column" in result.output
    assert import_orders(
        khidmat,
        tmp_path,
        order_rows(
            "7001,A,03001234567,,x,1,pending,,,,,", "7001,B,03001234567,,y,1,pending,,,,,", "7002,C,,,z,1,pending,,,,,"
        ),
    ) == (
        "orders.csv: 1 created, 0 updated, 0 unchanged, 2 rejected\n"
        "line 3: order_ref 7001 repeats line 2\n"
        "line 4: phone or telegram_id is required"
    )


def test_phone_written_locally_is_the_whatsapp_customer(khidmat, tmp_path):
    khidmat.whatsapp(ALI, "the stitching on my kurta came apart", profile_name="Ali")
    khidmat.wait_group(lambda t: "stitching" in t)
    import_orders(khidmat, tmp_path, order_rows("5531,Ali Raza,0300-1234567,,2 kurtas,4500,shipped,2026-11-28,,,,"))
    assert Customer.select().count() == 1
    assert Order.get().customer_id == Customer.get(Customer.phone == ALI).id
    # with that ticket open, a clear question about their own order is answered and joins the ticket
    khidmat.whatsapp(ALI, "where is my order 5531?")
    answer = khidmat.wait_twilio(f"whatsapp:{ALI}", lambda b: "5531" in b)[0]["body"]
    assert "on its way" in answer and "Saturday 28 November 2026" in answer and "2 kurtas" in answer
    khidmat.wait_group(lambda t: "where is my order 5531?" in t)
    note = khidmat.wait_group(lambda t: "bot answered" in t)[0]
    assert "on its way" in note["text"] and note["reply_to"] == khidmat.group()[0]["message_id"]
    assert Ticket.select().count() == 1 and Ticket.get().order_ref == "5531"


def test_the_real_command_line(db_url, tmp_path):
    """`flask --app webhook orders import` as a shop runs it."""
    from tests.helpers import ROOT, base_env

    path = tmp_path / "orders.csv"
    path.write_text(GOOD_AND_BAD, encoding="utf-8")
    env = base_env(db_url)
    out = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "webhook", "orders", "import", str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == SUMMARY.replace("orders.csv", str(path))
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "webhook",
            "orders",
            "delay",
            "5531",
            "--until",
            "2020-01-01",
            "--reason",
            "x",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 1 and "is in the past" in out.stderr


# ---- the API --------------------------------------------------------------------------------------------------
def test_api_token_validation_create_update_patch_delay(make_khidmat):
    off = make_khidmat()
    assert api(off, "POST", "/orders", {"order_ref": "1"}).status_code == 403  # api.token empty: the API is off
    off.close()
    k = make_khidmat(**{"api.token": API_TOKEN, "twilio.whatsapp_from": ""})  # a shop that writes by SMS only
    body = {
        "order_ref": "W-900",
        "customer_name": "Hina",
        "phone": "0321 5550001",
        "items": "Shawl",
        "amount": 2500,
        "status": "confirmed",
        "promised_date": "2026-11-29",
        "language": "ur",
    }
    for token in (None, "wrong-token", API_TOKEN + "x", ""):
        r = api(k, "POST", "/orders", body, token=token)
        assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
    assert Order.select().count() == 0 and Customer.select().count() == 0

    r = api(k, "POST", "/orders", {**body, "phone": "123", "promised_date": "soon", "colour": "red"})
    assert r.status_code == 400
    assert r.json()["errors"] == {
        "phone": 'bad phone "123"',
        "promised_date": 'unknown date "soon" (use YYYY-MM-DD)',
        "colour": "unknown field",
    }
    assert api(k, "POST", "/orders", "not an object").status_code == 400
    assert Order.select().count() == 0

    r = api(k, "POST", "/orders", body)
    assert r.status_code == 201 and r.json()["outcome"] == "created"
    assert r.json()["order"]["customer"]["phone"] == "+923215550001" and r.json()["order"]["amount"] == "2500.00"
    r = api(k, "POST", "/orders", body)
    assert r.status_code == 200 and r.json()["outcome"] == "unchanged"
    r = api(k, "POST", "/orders", {**body, "status": "Shipped"})
    assert r.status_code == 200 and r.json()["outcome"] == "updated" and Order.get().status == "shipped"

    r = api(k, "PATCH", "/orders/W-900", {"status": "out for delivery", "promised_date": "2026-11-26"})
    assert r.status_code == 200 and r.json()["order"]["status"] == "out_for_delivery"
    assert Order.get().promised_date == dt.date(2026, 11, 26) and Order.get().items == "Shawl"
    assert api(k, "PATCH", "/orders/W-900", {"amount": "lots"}).json() == {"errors": {"amount": 'bad amount "lots"'}}
    assert api(k, "PATCH", "/orders/NOPE-1", {"status": "shipped"}).status_code == 404
    assert api(k, "GET", "/orders/W-900").json()["order"]["items"] == "Shawl"

    assert api(k, "POST", "/orders/W-900/delay", {"until": "2026-12-02"}).json() == {
        "errors": {"reason": "missing reason"}
    }
    assert api(k, "POST", "/orders/NOPE-1/delay", {"until": "2026-12-02", "reason": "x"}).status_code == 404
    r = api(k, "POST", "/orders/W-900/delay", {"until": "2026-12-02", "reason": "کوریئر کی ہڑتال"})
    assert r.status_code == 200 and r.json()["notice"] == "sent" and r.json()["channel"] == "sms"
    # Hina never wrote: the notice goes to her phone by SMS (the shop has no WhatsApp sender), in Urdu
    notice = khidmat_wait_sms(k, "+923215550001", "W-900")
    assert "تاخیر" in notice and "کوریئر کی ہڑتال" in notice and "2 دسمبر 2026" in notice
    assert Contact.get().channel == "sms" and Contact.get().last_inbound_at is None


def khidmat_wait_sms(k, number, words):
    return k.wait_twilio(number, lambda b: words in b)[0]["body"]


# ---- customers asking -------------------------------------------------------------------------------------------
ORDERS_FOR_QUESTIONS = order_rows(
    "A-100,Bilal,,4242,Blue kurta,3000,shipped,2026-11-28,,,en,",
    "5531,Ali Raza,0300-1234567,,2 kurtas,4500,shipped,2026-11-28,,,ur,",
    "5532,Sana,03331112222,,Lawn suit,3200,processing,2026-11-20,,,en,",
    "9999,Someone Else,03009998888,,Watch,9000,pending,2026-11-30,,,en,",
)


def test_order_questions_on_telegram(khidmat, tmp_path):
    import_orders(khidmat, tmp_path, ORDERS_FOR_QUESTIONS)
    khidmat.tg_message(4242, "where is my order A-100?", first_name="Bilal", language_code="en")
    answer = khidmat.wait_chat(4242, lambda t: "A-100" in t)[0]["text"]
    assert "Blue kurta" in answer and "on its way" in answer and "Saturday 28 November 2026" in answer
    khidmat.tg_message(4242, "where is my order?", first_name="Bilal", language_code="en")
    eventually(lambda: len(khidmat.wait_chat(4242, lambda t: "A-100" in t)) == 2, what="the open orders listed")
    khidmat.tg_message(4242, "order 9999 kab aye ga", first_name="Bilal", language_code="en")
    refused = khidmat.wait_chat(4242, lambda t: "9999" in t)[0]["text"]
    assert "couldn't find order 9999" in refused and "Watch" not in refused
    khidmat.tg_message(4242, "میرا آرڈر a-100 کہاں ہے؟", first_name="Bilal", language_code="en")
    urdu = khidmat.wait_chat(4242, lambda t: "آرڈر" in t)[0]["text"]
    assert "روانہ ہو چکا ہے" in urdu and "28 نومبر 2026" in urdu
    quiet(khidmat)
    assert Ticket.select().count() == 0 and khidmat.group() == []  # nothing for the agents


def test_order_questions_on_whatsapp_in_urdu_and_a_bare_number(khidmat, tmp_path):
    import_orders(khidmat, tmp_path, ORDERS_FOR_QUESTIONS)
    khidmat.whatsapp(ALI, "میرا آرڈر ۵۵۳۱ کہاں ہے")
    urdu = khidmat.wait_twilio(f"whatsapp:{ALI}", lambda b: "5531" in b)[0]["body"]
    assert "روانہ ہو چکا ہے" in urdu and "ہفتہ، 28 نومبر 2026" in urdu and "2 kurtas" in urdu
    khidmat.whatsapp(ALI, "9999")
    assert "نہیں ملا" in khidmat.wait_twilio(f"whatsapp:{ALI}", lambda b: "9999" in b)[0]["body"]
    quiet(khidmat)
    assert Ticket.select().count() == 0
    # a phone number is not an order number: "where is my order" without one lists their open orders
    khidmat.whatsapp(ALI, "Mera order kahan hai? 03001234567")
    eventually(
        lambda: len([m for m in khidmat.twilio.sent(to=f"whatsapp:{ALI}") if "روانہ" in m["body"]]) == 2,
        what="the second answer about 5531",
    )
    # a photo with words is for the agents
    photo = khidmat.twilio.add_media(b"\xff\xd8jpeg", "image/jpeg")
    khidmat.whatsapp(ALI, "where is my order 5531? see the box", media=[(photo, "image/jpeg")])
    khidmat.wait_group(lambda t: "see the box" in t)
    quiet(khidmat)
    sent = khidmat.twilio.sent(to=f"whatsapp:{ALI}")
    assert len([m for m in sent if "روانہ" in m["body"]]) == 2 and not [m for m in sent if "03001234567" in m["body"]]


def test_order_questions_on_sms_and_a_complaint_carries_the_order(khidmat, tmp_path):
    import_orders(khidmat, tmp_path, ORDERS_FOR_QUESTIONS)
    khidmat.sms("+923331112222", "status of my order 5532 please")
    answer = khidmat.wait_twilio("+923331112222", lambda b: "5532" in b)[0]["body"]
    # promised for the 20th, so it is late: the answer says so and apologises
    assert "Friday 20 November 2026" in answer and "running late" in answer
    khidmat.sms("+923331112222", "where is order 5531")  # Ali's order, not Sana's
    assert "couldn't find order 5531" in khidmat.wait_twilio("+923331112222", lambda b: "5531" in b)[0]["body"]
    khidmat.sms("+923331112222", "My order 5532 arrived torn!")  # not a question: a complaint → ticket
    card = khidmat.wait_group(lambda t: "arrived torn" in t)[0]["text"]
    assert "📦 Order 5532: Lawn suit · 3,200 · processing · promised Fri 20 Nov 2026" in card
    assert Ticket.get().order_ref == "5532"


def test_with_an_open_ticket_a_bare_number_joins_the_ticket(khidmat, tmp_path):
    import_orders(khidmat, tmp_path, ORDERS_FOR_QUESTIONS)
    khidmat.tg_message(4242, "the kurta colour is wrong", first_name="Bilal")
    khidmat.wait_group(lambda t: "colour is wrong" in t)
    for text in ("my order", "is late", "A-100"):
        khidmat.tg_message(4242, text, first_name="Bilal")
    khidmat.wait_group(lambda t: "A-100" in t)
    quiet(khidmat)
    assert not [m for m in khidmat.chat(4242) if "on its way" in (m["text"] or "")]


# ---- delay notices ------------------------------------------------------------------------------------------------
def test_delay_notices_on_every_channel_in_both_languages(khidmat, tmp_path):
    """Six customers: Telegram, WhatsApp and SMS, each in English and Urdu; delayed by the CLI, the API and /delay."""
    k = khidmat
    k.tg_message(61, "hello", first_name="Tariq", language_code="en")
    k.tg_message(62, "السلام علیکم", first_name="Nadia", language_code="ur")
    k.whatsapp("+923000000063", "hi", profile_name="Omar")
    k.whatsapp("+923000000064", "سلام", profile_name="Zara")
    k.sms("+923000000065", "hello")
    k.sms("+923000000066", "سلام")
    quiet(k)
    import_orders(
        k,
        tmp_path,
        order_rows(
            "D-61,Tariq,,61,Red scarf,1500,shipped,2026-11-27,,,,",
            "D-62,Nadia,,62,Sandals,2500,packed,2026-11-27,,,,",
            "D-63,Omar,03000000063,,Perfume,5000,shipped,2026-11-27,,,,",
            "D-64,Zara,03000000064,,Handbag,4000,shipped,2026-11-27,,,,",
            "D-65,Usman,03000000065,,Wallet,1200,confirmed,2026-11-27,,,,",
            "D-66,Hira,03000000066,,Dupatta,1800,confirmed,2026-11-27,,,,",
        ),
    )
    k.tg.clear()
    k.twilio.messages.clear()
    out = cli(k, "orders", "delay", "D-61", "--until", "2026-12-03", "--reason", "courier strike")
    assert out.output.strip() == "order D-61 delayed until 2026-12-03: customer told on telegram"
    cli(k, "orders", "delay", "D-62", "--until", "2026-12-03", "--reason", "کوریئر کی ہڑتال")
    k.agent_message("/delay D-63 2026-12-03 courier strike")
    k.agent_message("/delay D-64 2026-12-03 کوریئر کی ہڑتال")
    k.agent_message("/delay D-65 2026-12-03 courier strike")
    k.agent_message("/delay D-66 2026-12-03 کوریئر کی ہڑتال")
    english = [
        k.wait_chat(61, lambda t: "D-61" in t)[0]["text"],
        k.wait_twilio("whatsapp:+923000000063", lambda b: "D-63" in b)[0]["body"],
        k.wait_twilio("+923000000065", lambda b: "D-65" in b)[0]["body"],
    ]
    urdu = [
        k.wait_chat(62, lambda t: "D-62" in t)[0]["text"],
        k.wait_twilio("whatsapp:+923000000064", lambda b: "D-64" in b)[0]["body"],
        k.wait_twilio("+923000000066", lambda b: "D-66" in b)[0]["body"],
    ]
    for text, items in zip(english, ("Red scarf", "Perfume", "Wallet"), strict=False):
        assert items in text and "is delayed" in text and "Thursday 3 December 2026" in text
        assert "Reason: courier strike" in text and "apologies" in text
    for text, items in zip(urdu, ("Sandals", "Handbag", "Dupatta"), strict=False):
        assert items in text and "تاخیر" in text and "جمعرات، 3 دسمبر 2026" in text
        assert "وجہ: کوریئر کی ہڑتال" in text and "معذرت" in text
    confirmations = k.wait_group(lambda t: "delayed until" in t, what="the /delay answers")
    eventually(lambda: len([t for t in k.group_texts() if "delayed until" in t]) == 4)
    assert any(
        "📦 Order D-64 (Zara) delayed until Thu 03 Dec 2026: customer told on WhatsApp." in m["text"] for m in k.group()
    ), confirmations
    # once per order and date: the same delay again tells nobody twice
    again = cli(k, "orders", "delay", "D-61", "--until", "2026-12-03", "--reason", "courier strike")
    assert "already told" in again.output
    quiet(k)
    assert len([m for m in k.chat(61) if "D-61" in (m["text"] or "")]) == 1


def test_delay_with_coupon_on_whatsapp_outside_the_window_uses_the_template(make_khidmat, tmp_path):
    template = "HX" + "d" * 32
    k = make_khidmat(**{"orders.whatsapp_delay_template_en": template, "orders.delay_coupon_percent": 10})
    k.whatsapp("+923000000071", "hi", profile_name="Kamran")
    quiet(k)
    with db.write():  # Kamran last wrote two days ago: the 24-hour window is closed
        Contact.update(last_inbound_at=clock.now() - dt.timedelta(days=2)).execute()
    k.twilio.close_window("+923000000071")
    import_orders(k, tmp_path, order_rows("T-71,Kamran,03000000071,,Sofa cover,7000,shipped,2026-11-27,,,en,"))
    k.twilio.messages.clear()
    k.agent_message("/delay T-71 2026-12-04 warehouse flooding")
    sent = k.wait_twilio("whatsapp:+923000000071", lambda b: True, what="the template message")
    coupon = Coupon.get()
    assert len(sent) == 1 and sent[0]["content_sid"] == template and not sent[0]["body"]
    assert json.loads(sent[0]["content_variables"]) == {
        "1": "T-71",
        "2": "Friday 4 December 2026",
        "3": "warehouse flooding",
        "4": coupon.code,
    }
    assert coupon.customer.name == "Kamran" and coupon.value == 10 and coupon.order.ref == "T-71"
    assert k.wait_group(lambda t: "T-71" in t and "told on WhatsApp" in t and coupon.code in t)
    # inside the window the notice is text, with the coupon in words; one coupon per order however often it is late
    k.sms("+923000000073", "kab aye ga mera saman?")
    quiet(k)
    import_orders(
        k, tmp_path, order_rows("T-73,Nida,03000000073,,Pillow,700,shipped,2026-11-27,,,en,"), name="more.csv"
    )
    cli(k, "orders", "delay", "T-73", "--until", "2026-12-04", "--reason", "late stock")
    cli(k, "orders", "delay", "T-73", "--until", "2026-12-06", "--reason", "late stock again")
    first, second = eventually(
        lambda: (
            [b for b in texts_to(k, "+923000000073") if "T-73" in b]
            if len([b for b in texts_to(k, "+923000000073") if "T-73" in b]) == 2
            else None
        )
    )
    code = Coupon.get(Coupon.order == Order.get(Order.ref == "T-73")).code
    assert "10% off your next order: code " + code in first and code in second
    assert "valid until Friday 25 December 2026" in first
    assert Coupon.select().count() == 2


def test_whatsapp_outside_the_window_without_a_template_tells_the_agents(khidmat, tmp_path):
    k = khidmat
    k.whatsapp("+923000000072", "hi", profile_name="Faisal")
    quiet(k)
    with db.write():
        Contact.update(last_inbound_at=clock.now() - dt.timedelta(days=2)).execute()
    import_orders(k, tmp_path, order_rows("T-72,Faisal,03000000072,,Rug,9000,shipped,2026-11-27,,,ur,"))
    k.twilio.messages.clear()
    out = cli(k, "orders", "delay", "T-72", "--until", "2026-12-04", "--reason", "late stock")
    assert "NOT told" in out.output
    told = k.wait_group(lambda t: "T-72" in t and "not sent" in t)[0]["text"]
    assert "Faisal" in told and "whatsapp_delay_template_ur" in told
    quiet(k)
    assert k.twilio.sent(to="whatsapp:+923000000072") == [] and Order.get().delayed_until == dt.date(2026, 12, 4)


def test_delay_command_usage_and_mistakes(khidmat, tmp_path):
    import_orders(khidmat, tmp_path, ORDERS_FOR_QUESTIONS + "5540,Gul,03001231231,,Cap,500,delivered,2026-11-01,,,,\n")
    usage = "Usage: /delay ORDER YYYY-MM-DD reason"
    for text, expected in (
        ("/delay", usage),
        ("/delay 5531 2026-12-01", usage),
        ("/delay 5531 tomorrow courier", 'unknown date "tomorrow"'),
        ("/delay 5531 2026-11-01 courier", "2026-11-01 is in the past"),
        ("/delay 0000 2026-12-01 courier", "No order 0000."),
        ("/delay 5540 2026-12-01 courier", "Cannot delay: order 5540 is delivered"),
    ):
        khidmat.agent_message(text)
        assert khidmat.wait_group(lambda t, expected=expected: expected in t, what=expected)
    assert Order.select().where(Order.delayed_until.is_null(False)).count() == 0


# ---- the overdue job ------------------------------------------------------------------------------------------------
def test_overdue_job_twice_notifies_each_once_and_lists_them_once(khidmat, tmp_path):
    k = khidmat
    k.tg_message(81, "hello", first_name="Asad", language_code="en")
    k.sms("+923000000082", "سلام")
    quiet(k)
    import_orders(
        k,
        tmp_path,
        order_rows(
            "L-1,Asad,,81,Books,800,shipped,2026-11-20,,,en,",  # late
            "L-2,Rabia,03000000082,,Toys,1300,pending,2026-11-22,,,ur,",  # late
            "L-3,Asad,,81,Pens,100,delivered,2026-11-20,,,en,",  # late but delivered
            "L-4,Asad,,81,Ink,100,shipped,2026-11-30,,,en,",  # not yet due
            "L-5,Rabia,03000000082,,Kite,300,shipped,2026-11-21,,,ur,",  # late, but delayed below
            "L-6,Imran,03000000083,,Clock,900,shipped,2026-11-23,,,en,",
        ),
    )  # late; never wrote: WhatsApp, no template
    cli(k, "orders", "delay", "L-5", "--until", "2026-12-01", "--reason", "stock")
    k.wait_twilio("+923000000082", lambda b: "L-5" in b)  # the delay notice
    k.tg.clear()
    k.twilio.messages.clear()
    for _ in range(2):
        assert "job overdue done" in cli(k, "jobs", "run", "overdue").output
    asad = k.wait_chat(81, lambda t: "L-1" in t)
    rabia = k.wait_twilio("+923000000082", lambda b: "L-2" in b)
    listing = k.wait_group(lambda t: "Late orders" in t)
    not_sent = k.wait_group(lambda t: "could not be sent" in t)
    quiet(k)
    assert (
        len(not_sent) == 1
        and "L-6 · Imran" in not_sent[0]["text"]
        and "whatsapp_overdue_template_en" in not_sent[0]["text"]
        and k.twilio.sent(to="whatsapp:+923000000083") == []
    )
    assert len(asad) == 1 and "was due on Friday 20 November 2026" in asad[0]["text"]
    assert len(rabia) == 1 and "22 نومبر 2026" in rabia[0]["body"]
    assert not [m for m in k.chat(81) if "L-3" in (m["text"] or "") or "L-4" in (m["text"] or "")]
    assert not [b for b in texts_to(k, "+923000000082") if "L-5" in b]
    assert len(listing) == 1
    text = listing[0]["text"]
    assert "Late orders on Wed 25 Nov 2026: 3" in text and "L-1 · Asad · due Fri 20 Nov 2026 (5 d late)" in text
    assert "L-2 · Rabia" in text and "customer told" in text and "L-3" not in text and "L-5" not in text
    assert "L-6 · Imran · due Mon 23 Nov 2026 (2 d late) · shipped · ⚠️ not told" in text

    # the delayed order's new date passes: its customer hears once more, once
    clock.travel_to(dt.datetime(2026, 12, 2, 7, 0))
    for _ in range(2):
        cli(k, "jobs", "run", "overdue")
    late_again = k.wait_twilio("+923000000082", lambda b: "L-5" in b)
    quiet(k)
    assert len(late_again) == 1 and "1 دسمبر 2026" in late_again[0]["body"] and "ابھی تک" in late_again[0]["body"]
    assert len([b for b in texts_to(k, "+923000000082") if "L-2" in b]) == 1


def test_scheduler_has_the_overdue_job():
    from runtime import scheduler

    assert scheduler.JOBS["overdue"][1] == {"hours": 1}


# ---- answering a notice ----------------------------------------------------------------------------------------------
def test_answer_to_a_delay_notice_opens_a_ticket_with_the_order_on_its_card(khidmat, tmp_path):
    k = khidmat
    k.tg_message(91, "/start", first_name="Junaid", language_code="en")
    quiet(k)
    import_orders(k, tmp_path, order_rows("N-91,Junaid,,91,Cricket bat,6500,shipped,2026-11-26,,,en,"))
    cli(k, "orders", "delay", "N-91", "--until", "2026-12-01", "--reason", "road closures")
    k.wait_chat(91, lambda t: "N-91" in t)
    k.tg_message(91, "this is the third time!", first_name="Junaid")
    card = k.wait_group(lambda t: "this is the third time!" in t)[0]["text"]
    assert "#1001" in card
    assert (
        "📦 Order N-91: Cricket bat · 6,500 · shipped · promised Thu 26 Nov 2026 → delayed until "
        "Tue 01 Dec 2026 (road closures)"
    ) in card
    assert Ticket.get().order_ref == "N-91"
    assert "#1001" in k.wait_chat(91, lambda t: "#1001" in t)[0]["text"]  # acknowledged like any ticket


def test_delay_used_in_the_customers_ticket_puts_the_order_on_its_card(khidmat, tmp_path):
    k = khidmat
    k.tg_message(92, "my bat has not come", first_name="Waqar", language_code="en")
    card = k.wait_group(lambda t: "my bat has not come" in t)[0]
    import_orders(k, tmp_path, order_rows("N-92,Waqar,,92,Cricket bat,6500,shipped,2026-11-26,,,en,"))
    k.agent_message("/delay N-92 2026-12-01 road closures", reply_to=card["message_id"])
    assert "road closures" in k.wait_chat(92, lambda t: "N-92" in t)[0]["text"]
    k.wait_group(lambda t: "N-92 (Waqar) delayed until Tue 01 Dec 2026: customer told on Telegram." in t)
    edits = eventually(
        lambda: [
            c
            for c in k.tg.calls
            if c["method"] == "editMessageText"
            and c["status"] == 200
            and "📦 Order N-92" in str(c["params"].get("text"))
        ],
        what="the card's edit",
    )
    assert int(edits[-1]["params"]["message_id"]) == card["message_id"]


def test_overdue_notice_as_template_and_to_a_telegram_id_from_the_import(make_khidmat, tmp_path):
    template = "HX" + "a" * 32
    k = make_khidmat(**{"orders.whatsapp_overdue_template_ur": template})
    k.whatsapp("+923000000095", "میرا پارسل", profile_name="Saima")
    k.wait_twilio("whatsapp:+923000000095", lambda b: "#1001" in b, what="the acknowledgement")  # before clearing
    quiet(k)
    with db.write():  # Saima last wrote three days ago
        Contact.update(last_inbound_at=clock.now() - dt.timedelta(days=3)).execute()
    import_orders(
        k,
        tmp_path,
        order_rows(
            "O-95,Saima,03000000095,,Lamp,2000,shipped,2026-11-24,,,,",
            "O-96,Kashif,,960096,Mug,300,packed,2026-11-23,,,en,",
        ),
    )  # never wrote: Telegram
    k.twilio.messages.clear()
    cli(k, "jobs", "run", "overdue")
    sent = k.wait_twilio("whatsapp:+923000000095", what="the overdue template")
    assert sent[0]["content_sid"] == template and not sent[0]["body"]
    assert json.loads(sent[0]["content_variables"]) == {"1": "O-95", "2": "منگل، 24 نومبر 2026"}
    told = k.wait_chat(960096, lambda t: "O-96" in t)[0]["text"]
    assert "Mug" in told and "Monday 23 November 2026" in told
    assert Contact.get(Contact.address == "960096").last_inbound_at is None
