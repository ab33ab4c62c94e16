"""Greetings end to end: customers and agents set birthdays (Telegram, WhatsApp, SMS, a ticket), the daily job
greets each customer once per occasion and year (in their language, on the channel they last used), holidays,
coupons in greetings and marketing opt-out, WhatsApp's 24-hour window, the bulk backlog, 29 February."""

import datetime as dt
import json

import db
from db.models import Contact, Coupon, Customer, GreetingSent, Outbox, Ticket
from handlers.core import clock
from handlers.features import greetings
from runtime import scheduler
from tests.helpers import OPEN_HOURS, eventually, quiet

WA = "+923001230001"
SMS_NO = "+923001230002"
TODAY = "11-25"  # OPEN_HOURS: Wednesday 25 November 2026, 12:00 in Karachi
BEFORE_SEND_AT = dt.datetime(2026, 11, 25, 4, 0)  # 09:00 in Karachi; greetings.send_at is 10:00
EID = ["2026-11-25 eid_ul_fitr"]


# ---- helpers ------------------------------------------------------------------------------------------
def person(
    name,
    lang="en",
    *,
    tg=None,
    phone=None,
    channel=None,
    birthday=None,
    anniversary=None,
    wrote_ago=dt.timedelta(hours=1),
    opted_out=False,
    unreachable=None,
):
    """A customer straight into the database (a shop's existing list), with one contact when channel is given."""
    with db.write():
        customer = Customer.create(
            name=name,
            language=lang,
            telegram_user_id=tg,
            phone=phone,
            birthday=birthday,
            anniversary=anniversary,
            marketing_opt_out=opted_out,
        )
        if channel:
            address = {"telegram": str(tg), "whatsapp": f"whatsapp:{phone}", "sms": phone}[channel]
            Contact.create(
                customer=customer,
                channel=channel,
                address=address,
                unreachable=unreachable,
                last_inbound_at=clock.now() - wrote_ago if wrote_ago is not None else None,
            )
    return customer


def greeted(k, chat, words):
    return [m for m in k.chat(chat) if words in (m.get("text") or "")]


def twilio_greeted(k, to, words=""):
    return [
        m
        for m in k.twilio.sent(to=to)
        if words in (m.get("body") or "") or (words and words in (m.get("content_variables") or ""))
    ]


def cli_run(k):
    result = k.app.test_cli_runner().invoke(args=["jobs", "run", "greetings"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def outcomes(occasion):
    return {(g.customer.name, g.outcome) for g in GreetingSent.select().where(GreetingSent.occasion == occasion)}


# ---- customers and agents set the day -----------------------------------------------------------------
def test_birthday_on_telegram_is_saved_and_confirmed_in_the_customers_language(khidmat):
    khidmat.tg_message(301, "/birthday 14-08", first_name="Ali", language_code="en")
    sent = khidmat.wait_chat(301, lambda t: "birthday" in t)[0]["text"]
    assert "14 August" in sent and "Ali" in sent
    khidmat.tg_message(302, "/birthday ۲۹/۰۲", first_name="Sana", language_code="ur")
    assert "29 فروری" in khidmat.wait_chat(302, lambda t: "سالگرہ" in t)[0]["text"]
    assert Customer.get(telegram_user_id=301).birthday == "08-14"
    assert Customer.get(telegram_user_id=302).birthday == "02-29"
    khidmat.tg_message(301, "/birthday 31-02")
    wrong = khidmat.wait_chat(301, lambda t: "could not read" in t)[0]["text"]
    assert "/birthday 14-08" in wrong
    khidmat.tg_message(301, "/birthday 1-12-1990")
    khidmat.wait_chat(301, lambda t: "1 December" in t)
    ali = Customer.get(telegram_user_id=301)
    assert (ali.birthday, ali.birth_year) == ("12-01", 1990)
    quiet(khidmat)
    assert Ticket.select().count() == 0 and khidmat.group() == []


def test_birthday_words_on_whatsapp_and_sms(khidmat):
    khidmat.whatsapp(WA, "birthday 14/08", profile_name="Bilal")
    assert "14 August" in khidmat.wait_twilio(f"whatsapp:{WA}", lambda b: "birthday" in b)[0]["body"]
    khidmat.sms(SMS_NO, "سالگرہ ۱۴-۰۸")
    assert "14 اگست" in khidmat.wait_twilio(SMS_NO, lambda b: "سالگرہ" in b)[0]["body"]
    khidmat.sms(SMS_NO, "سالگرہ 45-08")
    wrong = khidmat.wait_twilio(SMS_NO, lambda b: "معذرت" in b)[0]["body"]
    assert "سالگرہ 14-08" in wrong
    khidmat.whatsapp(WA, "my anniversary 3 March")
    khidmat.wait_twilio(f"whatsapp:{WA}", lambda b: "anniversary" in b and "3 March" in b)
    assert Customer.get(phone=WA).birthday == "08-14" and Customer.get(phone=WA).anniversary == "03-03"
    assert Customer.get(phone=SMS_NO).birthday == "08-14"
    assert Ticket.select().count() == 0
    # the word alone, or followed by anything but a date, is a message for the agents
    khidmat.whatsapp(WA, "birthday gift not received, very upset")
    khidmat.wait_group(lambda t: "birthday gift" in t)
    assert Ticket.select().count() == 1 and Customer.get(phone=WA).birthday == "08-14"


def test_customer_setting_a_birthday_during_a_ticket_is_noted_there(khidmat):
    khidmat.tg_message(303, "my parcel is late")
    khidmat.wait_group(lambda t: "my parcel is late" in t)
    khidmat.tg_message(303, "/birthday 5-6")
    khidmat.wait_chat(303, lambda t: "5 June" in t)
    khidmat.wait_group(lambda t: "told the bot their birthday: 5 June" in t)


def test_agents_set_birthday_and_anniversary_in_a_ticket(khidmat):
    khidmat.tg_message(304, "hello, a question about my order", first_name="Ali")
    card = khidmat.wait_group(lambda t: "a question about my order" in t)[0]
    khidmat.agent_message("/setbirthday 14-08", reply_to=card["message_id"])
    khidmat.wait_group(lambda t: "Birthday of Ali: 14 August" in t)
    khidmat.agent_message("/setanniversary ۰۱/۱۲", reply_to=card["message_id"])
    khidmat.wait_group(lambda t: "Anniversary of Ali: 1 December" in t)
    customer = Customer.get(telegram_user_id=304)
    assert (customer.birthday, customer.anniversary) == ("08-14", "12-01")
    for wrong in ("/setbirthday", "/setbirthday tomorrow", "/setbirthday 31-04"):
        khidmat.agent_message(wrong, reply_to=card["message_id"])
    eventually(
        lambda: len([t for t in khidmat.group_texts() if t.startswith("Usage: /setbirthday DD-MM")]) == 3,
        what="three usage lines",
    )
    khidmat.agent_message("/setbirthday 14-08")  # not in a ticket
    khidmat.wait_group(lambda t: "/setbirthday works inside a ticket" in t)
    khidmat.agent_message("/setbirthday -", reply_to=card["message_id"])
    khidmat.wait_group(lambda t: "Birthday of Ali cleared" in t)
    assert Customer.get(telegram_user_id=304).birthday is None
    quiet(khidmat)
    assert not [m for m in khidmat.chat(304) if "August" in (m.get("text") or "")]  # agents' business only


# ---- the daily job ------------------------------------------------------------------------------------
def test_the_scheduler_has_the_greetings_job():
    assert scheduler.JOBS["greetings"][0] is greetings.tick
    assert scheduler.ON_DEMAND["greetings"] is greetings.run_now


def test_greetings_run_twice_a_day_greet_each_customer_once_and_again_next_year(khidmat):
    person("Ali", "en", tg=401, channel="telegram", birthday=TODAY)
    person("Sana", "ur", tg=402, channel="telegram", birthday=TODAY)
    person("Bilal", "en", phone=WA, channel="whatsapp", birthday=TODAY)
    person("Hina", "ur", phone=SMS_NO, channel="sms", birthday=TODAY)
    person("Omar", "en", tg=403, channel="telegram", birthday="11-26", anniversary=TODAY)
    # before send_at the scheduled job waits; the command line does not
    clock.travel_to(BEFORE_SEND_AT)
    assert scheduler.run("greetings") is None
    assert GreetingSent.select().count() == 0
    summary = cli_run(khidmat)
    assert "birthday sent 4" in summary and "anniversary sent 1" in summary, summary
    clock.travel_to(OPEN_HOURS)
    assert "sent" not in scheduler.run("greetings")
    scheduler.run("greetings")
    assert "birthday nothing new; anniversary nothing new" in cli_run(khidmat)
    khidmat.wait_chat(401, lambda t: "Happy birthday, Ali" in t)
    assert "سالگرہ مبارک" in khidmat.wait_chat(402, lambda t: "مبارک" in t)[0]["text"]
    khidmat.wait_twilio(f"whatsapp:{WA}", lambda b: "Happy birthday, Bilal" in b)
    khidmat.wait_twilio(SMS_NO, lambda b: "سالگرہ مبارک" in b)
    khidmat.wait_chat(403, lambda t: "Happy anniversary, Omar" in t)
    quiet(khidmat)
    assert len(greeted(khidmat, 401, "Happy birthday")) == 1 and len(greeted(khidmat, 402, "سالگرہ مبارک")) == 1
    assert len(twilio_greeted(khidmat, f"whatsapp:{WA}", "Happy birthday")) == 1
    assert len(twilio_greeted(khidmat, SMS_NO, "سالگرہ مبارک")) == 1
    assert greeted(khidmat, 403, "Happy birthday") == []
    assert GreetingSent.select().count() == 5
    rows = Outbox.select().where(Outbox.purpose == "greeting")
    assert rows.count() == 5 and all(r.priority == 9 and r.idempotency_key.startswith("g:") for r in rows)
    # a year later: again, once (Bilal's WhatsApp window has long closed and no template is set)
    clock.travel_to(OPEN_HOURS.replace(year=2027))
    summary = cli_run(khidmat)
    assert "birthday no_template 1, sent 3" in summary, summary
    scheduler.run("greetings")
    khidmat.wait_chat(401, lambda t: len(greeted(khidmat, 401, "Happy birthday")) == 2)
    quiet(khidmat)
    assert len(greeted(khidmat, 401, "Happy birthday")) == 2 and len(greeted(khidmat, 402, "سالگرہ مبارک")) == 2
    assert len(twilio_greeted(khidmat, f"whatsapp:{WA}", "Happy birthday")) == 1
    assert GreetingSent.select().where(GreetingSent.year == 2027).count() == 5


def test_holiday_greeting_in_urdu_and_english_to_everyone(make_khidmat):
    k = make_khidmat(**{"greetings.holidays": [*EID, "2026-12-25 new_year_typo", "not a holiday"]})
    person("Ali", "en", tg=501, channel="telegram")
    person("Sana", "ur", tg=502, channel="telegram")
    person("Hina", "ur", phone=SMS_NO, channel="sms", birthday=TODAY)
    summary = cli_run(k)
    assert "eid_ul_fitr sent 3" in summary and "birthday sent 1" in summary
    assert "Eid Mubarak, Ali" in k.wait_chat(501, lambda t: "Eid" in t)[0]["text"]
    assert "عید الفطر مبارک" in k.wait_chat(502, lambda t: "عید" in t)[0]["text"]
    sms = [m["body"] for m in k.wait_twilio(SMS_NO, lambda b: "مبارک" in b, what="Eid and birthday")]
    eventually(lambda: len(twilio_greeted(k, SMS_NO, "مبارک")) == 2, what="both greetings by SMS")
    assert any("عید الفطر" in b for b in [m["body"] for m in twilio_greeted(k, SMS_NO, "مبارک")]), sms
    scheduler.run("greetings")
    quiet(k)
    assert len(greeted(k, 501, "Eid Mubarak")) == 1 and len(greeted(k, 502, "عید الفطر")) == 1
    assert greetings.holidays() == [(dt.date(2026, 11, 25), "eid_ul_fitr")]  # bad entries left out (and logged)


def test_holidays_wait_for_room_in_the_bulk_backlog_and_continue_after_a_restart(make_khidmat):
    k = make_khidmat(start_sender=False, **{"greetings.holidays": EID, "broadcasts.backlog": 2, "broadcasts.chunk": 1})
    for i in range(5):
        person(f"C{i}", "en", tg=600 + i, channel="telegram")
    summary = cli_run(k)
    assert "eid_ul_fitr sent 2" in summary and "the next run continues" in summary
    assert "sent" not in cli_run(k)  # still full: nothing more
    k.close()
    k = make_khidmat(**{"greetings.holidays": EID, "broadcasts.backlog": 2, "broadcasts.chunk": 1})
    for _ in range(6):
        quiet(k)
        scheduler.run("greetings")
    quiet(k)
    for i in range(5):
        assert len(greeted(k, 600 + i, "Eid Mubarak")) == 1
    assert GreetingSent.select().count() == 5


def test_a_coupon_greeting_respects_opt_out_and_plain_wishes_follow_the_setting(make_khidmat):
    k = make_khidmat(**{"greetings.birthday_coupon_percent": 10})
    person("Ali", "en", tg=701, channel="telegram", birthday=TODAY)
    person("Stopped", "en", tg=702, channel="telegram", birthday=TODAY, anniversary=TODAY, opted_out=True)
    person("Sana", "ur", tg=703, channel="telegram", anniversary=TODAY)
    assert "birthday opted_out 1, sent 1" in cli_run(k)
    text = k.wait_chat(701, lambda t: "Happy birthday" in t)[0]["text"]
    coupon = Coupon.get(Coupon.customer == Customer.get(telegram_user_id=701))
    assert coupon.code in text and "10% off" in text and "Reply STOP" in text
    assert (coupon.kind, int(coupon.value), coupon.issued_by) == ("percent", 10, "greetings")
    assert str(coupon.expires_on) == "2026-12-09"  # coupon_valid_days = 14
    quiet(k)
    assert k.chat(702) == [] and Coupon.select().count() == 1  # no plain wish either (the default)
    assert ("Stopped", "opted_out") in outcomes("anniversary")
    assert k.wait_chat(703, lambda t: "شادی کی سالگرہ" in t)  # no coupon for anniversaries
    k.close()
    # a shop that sends plain wishes to everyone: the opted-out customer gets the wish, never a coupon
    k = make_khidmat(**{"greetings.birthday_coupon_percent": 10, "greetings.plain_wishes_ignore_opt_out": True})
    person("Stopped too", "en", tg=704, channel="telegram", birthday=TODAY, opted_out=True)
    assert "birthday sent 1" in cli_run(k)
    text = k.wait_chat(704, lambda t: "Happy birthday" in t)[0]["text"]
    assert "code" not in text and "STOP" not in text and Coupon.select().count() == 1
    assert k.chat(702) == []  # already decided for this year


def test_whatsapp_outside_the_window_needs_a_template(make_khidmat):
    k = make_khidmat(**{"greetings.birthday_coupon_percent": 5})
    person("Bilal", "en", phone=WA, channel="whatsapp", birthday=TODAY, wrote_ago=dt.timedelta(days=3))
    person("Imported", "ur", phone="+923001230003", birthday=TODAY)  # from an import: no contact yet
    person("Blocked", "en", tg=801, channel="telegram", birthday=TODAY, unreachable="blocked")
    person("Nowhere", "en", birthday=TODAY)
    summary = cli_run(k)
    assert "birthday no_contact 1, no_template 2, unreachable 1" in summary, summary
    quiet(k)
    assert twilio_greeted(k, f"whatsapp:{WA}") == [] and k.chat(801) == [] and Coupon.select().count() == 0
    k.close()
    # next year, with the shop's approved templates
    k = make_khidmat(
        **{
            "greetings.birthday_coupon_percent": 5,
            "greetings.whatsapp_templates": ["birthday en HX" + "b" * 32, "birthday ur HX" + "c" * 32],
        }
    )
    clock.travel_to(OPEN_HOURS.replace(year=2027))
    assert "sent 2" in cli_run(k)
    sent = k.wait_twilio(f"whatsapp:{WA}", lambda b: True)[0]
    variables = json.loads(sent["content_variables"])
    assert sent["content_sid"] == "HX" + "b" * 32 and not sent["body"]
    assert variables["1"] == "Bilal" and variables["3"] == Coupon.get(Coupon.customer == Customer.get(phone=WA)).code
    imported = k.wait_twilio("whatsapp:+923001230003", lambda b: True)[0]
    assert imported["content_sid"] == "HX" + "c" * 32 and imported["from"] == "whatsapp:+14155238886"
    assert Contact.get(Contact.address == "whatsapp:+923001230003").channel == "whatsapp"


def test_greetings_go_where_the_customer_last_wrote_or_by_sms_without_a_whatsapp_sender(make_khidmat):
    k = make_khidmat(**{"twilio.whatsapp_from": ""})
    both = person(
        "Both", "en", tg=1001, phone=SMS_NO, channel="telegram", birthday=TODAY, wrote_ago=dt.timedelta(days=2)
    )
    with db.write():
        Contact.create(
            customer=both, channel="sms", address=SMS_NO, last_inbound_at=clock.now() - dt.timedelta(hours=2)
        )
    person("Imported", "ur", phone="+923001230004", birthday=TODAY)
    assert "birthday sent 2" in cli_run(k)
    k.wait_twilio(SMS_NO, lambda b: "Happy birthday, Both" in b)
    k.wait_twilio("+923001230004", lambda b: "سالگرہ مبارک" in b)
    quiet(k)
    assert k.chat(1001) == []
    assert Contact.get(Contact.address == "+923001230004").channel == "sms"


def test_29_february_birthdays_are_greeted_on_28_february_in_other_years(khidmat):
    person("Leap", "en", tg=901, channel="telegram", birthday="02-29")
    person("Ordinary", "en", tg=902, channel="telegram", birthday="02-28")
    clock.travel_to(dt.datetime(2027, 2, 28, 7, 0))
    assert "birthday sent 2" in cli_run(khidmat)
    khidmat.wait_chat(901, lambda t: "Happy birthday" in t)
    khidmat.wait_chat(902, lambda t: "Happy birthday" in t)
    clock.travel_to(dt.datetime(2028, 2, 28, 7, 0))  # a leap year: on the day itself
    assert "birthday sent 1" in cli_run(khidmat)
    clock.travel_to(dt.datetime(2028, 2, 29, 7, 0))
    assert "birthday sent 1" in cli_run(khidmat)
    quiet(khidmat)
    assert len(greeted(khidmat, 901, "Happy birthday")) == 2 and len(greeted(khidmat, 902, "Happy birthday")) == 2


def test_parse_day_accepts_what_people_write():
    assert greetings.parse_day("14-08") == ("08-14", None)
    assert greetings.parse_day("14/8") == ("08-14", None)
    assert greetings.parse_day("۱۴-۰۸") == ("08-14", None)
    assert greetings.parse_day("14 اگست") == ("08-14", None)
    assert greetings.parse_day("14 Aug 1990") == ("08-14", 1990)
    assert greetings.parse_day("29-02") == ("02-29", None)
    for wrong in ("29-02-2001", "31-04", "00-01", "14-13", "14-08-2999", "tomorrow", ""):
        assert greetings.parse_day(wrong) is None, wrong
