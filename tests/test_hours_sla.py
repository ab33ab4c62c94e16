"""Business hours and SLA: what the acknowledgement promises in and out of hours (English and Urdu), the
opening summary, business minutes, reminders and breaches in the group, recorded response times.

Time is moved with handlers.core.clock (it keeps ticking from where it was put; conftest resets it after each
test). The shop here keeps the default hours: Monday–Saturday 10:00–20:00 Pakistan time, Sunday closed.
23 and 30 November 2026 are Mondays; 28 November is a Saturday.
"""

import datetime as dt

import pytest

import config
from db.models import Agent, Ticket
from handlers.core import clock, hours
from handlers.features import sla
from tests.helpers import card_of, eventually, make_settings, quiet, scheduler_ran

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
SHOP = {**{f"hours.{day}": "10:00-20:00" for day in DAYS[:6]}, "hours.sunday": "", "hours.closed_dates": []}
SLA = {"sla.first_response_normal": 60, "sla.warn_at": 0.8}
OWNERS = [7001, 7002]
NUMBER = "+923001112233"


def pkt(day, hour, minute=0, second=0, month=11):
    """A Pakistan wall-clock moment in 2026 as the naive UTC the bot works in (PKT is UTC+5, no DST)."""
    return dt.datetime(2026, month, day, hour, minute, second) - dt.timedelta(hours=5)


@pytest.fixture
def shop(make_khidmat):
    def make(**overrides):
        return make_khidmat(**{**SHOP, **SLA, **overrides})

    return make


@pytest.fixture
def shop_settings():
    """Settings only (no app, no database) for the pure calculations."""
    before = config.current()

    def use(**overrides):
        return config.activate(make_settings("sqlite:///:memory:", **{**SHOP, **overrides}))

    use()
    yield use
    config.activate(before)


def ack_on_telegram(k, moment, user_id=21, text="my order has not arrived", **kw):
    clock.travel_to(moment)
    k.tg_message(user_id, text, **kw)
    return k.wait_chat(user_id, lambda t: "#10" in t)[0]["text"]


def ack_on_whatsapp(k, moment, text, number=NUMBER, **kw):
    clock.travel_to(moment)
    k.whatsapp(number, text, **kw)
    return k.wait_twilio(f"whatsapp:{number}", lambda b: "#10" in b)[0]["body"]


def group_with(k, words):
    return [m for m in k.group() if words in (m.get("text") or "")]


# -- the acknowledgement --------------------------------------------------------------------------------


def test_just_before_opening_the_customer_is_told_today_at_opening_time(shop):
    k = shop()
    ack = ack_on_telegram(k, pkt(23, 9, 59))
    assert "#1001" in ack and "closed right now" in ack and "today at 10:00" in ack
    assert "minutes" not in ack
    assert Ticket.get().opened_while_closed


def test_just_after_opening_the_customer_is_promised_minutes(shop):
    k = shop()
    ack = ack_on_telegram(k, pkt(23, 10, 0, 30))
    assert "#1001" in ack and "within 30 minutes" in ack and "closed" not in ack
    assert not Ticket.get().opened_while_closed


def test_urdu_customer_before_opening_reads_today_in_urdu(shop):
    k = shop()
    ack = ack_on_whatsapp(k, pkt(24, 9, 59), "میرا آرڈر ابھی تک نہیں پہنچا", profile_name="Ayesha")
    assert ack.startswith("السلام علیکم Ayesha") and "خوش آمدید" in ack  # first contact: welcome
    assert "#1001" in ack and "اس وقت ہماری ٹیم دستیاب نہیں ہے" in ack and "آج 10:00 بجے" in ack
    assert "منٹ" not in ack


def test_urdu_customer_just_after_opening_is_promised_minutes_in_urdu(shop):
    k = shop()
    ack = ack_on_telegram(k, pkt(24, 10, 0, 30), text="میرا آرڈر ابھی تک نہیں پہنچا", language_code="ur")
    assert "#1001" in ack and "30 منٹ کے اندر" in ack and "دستیاب نہیں" not in ack


def test_after_closing_the_answer_comes_tomorrow_in_both_languages(shop):
    k = shop()
    assert "tomorrow at 10:00" in ack_on_telegram(k, pkt(23, 20, 0, 30), user_id=21)
    urdu = ack_on_telegram(k, pkt(23, 20, 1), user_id=22, text="میرا پارسل ابھی تک نہیں آیا", language_code="ur")
    assert "#1002" in urdu and "کل 10:00 بجے" in urdu
    assert all(t.opened_while_closed for t in Ticket.select())


def test_saturday_evening_promises_monday_when_sunday_is_closed(shop):
    k = shop()
    english = ack_on_telegram(k, pkt(28, 20, 15), user_id=21)
    assert "on Monday at 10:00" in english
    urdu = ack_on_whatsapp(k, pkt(28, 21, 0), "سلام، پارسل ابھی تک نہیں آیا")
    assert "پیر کو 10:00 بجے" in urdu
    clock.travel_to(pkt(29, 12, 0))  # a greeting alone gets the menu, which says when a person is back
    k.tg_message(23, "hello?")
    assert "tomorrow at 10:00" in k.wait_chat(23)[0]["text"]


def test_closed_dates_are_skipped(shop):
    k = shop(**{"hours.closed_dates": ["2026-11-30"]})
    assert "on Tuesday at 10:00" in ack_on_telegram(k, pkt(28, 20, 15), user_id=21)
    assert "tomorrow at 10:00" in ack_on_telegram(k, pkt(30, 11, 0), user_id=22)  # a closed Monday


def test_a_long_closure_names_the_date(shop):
    eid = [f"2026-{d:%m-%d}" for d in (dt.date(2026, 11, 30) + dt.timedelta(days=i) for i in range(9))]
    k = shop(**{"hours.closed_dates": eid})  # closed 30 November – 8 December
    assert "on Wednesday 9 December at 10:00" in ack_on_telegram(k, pkt(28, 20, 15), user_id=21)
    urdu = ack_on_telegram(k, pkt(28, 20, 20), user_id=22, text="کب کھلیں گے؟", language_code="ur")
    assert "بدھ، 9 دسمبر کو 10:00 بجے" in urdu


# -- the opening summary ----------------------------------------------------------------------------------


def test_opening_summary_lists_the_nights_tickets_once(shop):
    k = shop()
    clock.travel_to(pkt(28, 12, 0))  # Saturday, open: not in the summary
    k.tg_message(41, "order 5531 is missing a cup", first_name="Omar")
    card_of(k, "missing a cup")
    clock.travel_to(pkt(28, 20, 30))  # Saturday night
    k.tg_message(42, "the kettle leaks\nsince yesterday", first_name="Bilal")
    card_of(k, "the kettle leaks")
    clock.travel_to(pkt(29, 15, 0))  # Sunday
    k.whatsapp(NUMBER, "rang galat hai", profile_name="Ayesha")
    card_of(k, "rang galat hai")
    k.tg_message(43, "wrong size", first_name="Zara")  # answered and closed on Sunday: not listed
    k.agent_message("/close", reply_to=card_of(k, "wrong size")["message_id"])
    eventually(lambda: Ticket.get_by_id(4).status == "closed")

    clock.travel_to(pkt(30, 9, 59))
    hours.post_opening_summary()  # still closed: nothing
    clock.travel_to(pkt(30, 10, 0, 30))
    hours.post_opening_summary()
    hours.post_opening_summary()  # the job runs again (or on another host)
    summary = k.wait_group(lambda t: t.startswith("🔔 We are open"))[0]["text"]
    assert summary.splitlines() == [
        "🔔 We are open. Tickets that came in while we were closed (2):",
        "#1002 · Bilal · Telegram · the kettle leaks",
        "#1003 · Ayesha · WhatsApp · rang galat hai",
    ]
    clock.travel_to(pkt(30, 12, 0))
    hours.post_opening_summary()
    quiet(k)
    assert len(group_with(k, "We are open")) == 1

    clock.travel_to(pkt(30, 21, 0))  # Monday night: the next opening lists only this one
    k.tg_message(44, "where is my refund", first_name="Hina")
    card_of(k, "where is my refund")
    clock.travel_to(pkt(1, 10, 1, month=12))
    hours.post_opening_summary()
    eventually(lambda: len(group_with(k, "We are open")) == 2)
    assert group_with(k, "We are open")[1]["text"].splitlines()[1:] == ["#1005 · Hina · Telegram · where is my refund"]


def test_no_summary_when_nothing_came_in_while_closed(shop):
    k = shop()
    ack_on_telegram(k, pkt(23, 11, 0))
    clock.travel_to(pkt(24, 10, 0, 30))
    hours.post_opening_summary()
    quiet(k)
    assert not group_with(k, "We are open")


# -- business minutes ----------------------------------------------------------------------------------


def test_business_minutes_count_only_opening_hours(shop_settings):
    minutes = hours.business_minutes
    assert minutes(pkt(23, 10, 0), pkt(23, 11, 30)) == 90  # inside one day
    assert minutes(pkt(23, 8, 0), pkt(23, 10, 15)) == 15  # before opening
    assert minutes(pkt(23, 19, 0), pkt(24, 11, 0)) == 120  # across a night
    assert minutes(pkt(28, 19, 30), pkt(30, 10, 15)) == 45  # across Sunday
    assert minutes(pkt(29, 9, 0), pkt(29, 18, 0)) == 0  # all of it on Sunday
    assert minutes(pkt(23, 10, 0), pkt(30, 10, 0)) == 6 * 600  # a whole week
    assert minutes(pkt(23, 12, 0), pkt(23, 11, 0)) == 0  # backwards
    shop_settings(**{"hours.closed_dates": ["2026-11-30"]})
    assert minutes(pkt(28, 19, 30), pkt(1, 10, 15, month=12)) == 45  # a closed Monday too


def test_business_minutes_with_a_lunch_break_and_always_open(shop_settings):
    shop_settings(**{"hours.monday": "09:00-13:00,14:00-18:00"})
    assert hours.business_minutes(pkt(23, 12, 30), pkt(23, 14, 30)) == 60
    assert hours.is_open(pkt(23, 12, 59)) and not hours.is_open(pkt(23, 13, 30))
    shop_settings(**{f"hours.{day}": "" for day in DAYS})  # no hours set: always open
    assert hours.business_minutes(pkt(29, 0, 0), pkt(30, 0, 0)) == 24 * 60


def test_bad_opening_hours_are_reported_by_name(shop_settings):
    shop_settings(**{"hours.friday": "10-20"})
    with pytest.raises(ValueError, match="hours.friday"):
        hours.business_minutes(pkt(23, 10, 0), pkt(30, 10, 0))


def test_targets_per_priority(shop_settings):
    shop_settings(**{"sla.first_response_urgent": 10, "sla.resolution_urgent": 100})
    assert sla.targets("urgent") == (10, 100)
    assert sla.targets("whatever") == sla.targets("normal")


# -- SLA reminders and breaches ----------------------------------------------------------------------------


def test_reminder_near_the_first_response_target_fires_once_in_the_tickets_thread(shop):
    k = shop()
    clock.travel_to(pkt(23, 10, 0))
    k.tg_message(51, "my parcel is late", first_name="Kamran")
    card = card_of(k, "my parcel is late")
    clock.travel_to(pkt(23, 10, 47))
    sla.remind()  # 47 of 60 minutes: not yet
    clock.travel_to(pkt(23, 10, 48, 30))
    sla.remind()
    sla.remind()
    reminder = k.wait_group(lambda t: "still waiting for a first answer" in t)[0]
    assert reminder["text"].startswith("⏰ #1001 · Kamran is still waiting for a first answer: 48 of the 60 minutes")
    assert reminder["reply_to"] == card["message_id"]  # in the ticket's thread
    clock.travel_to(pkt(23, 10, 55))
    sla.remind()
    quiet(k)
    assert len(group_with(k, "still waiting")) == 1
    assert Ticket.get().sla_warned_at is not None and Ticket.get().sla_breached_at is None


def test_nights_do_not_count_towards_the_target(shop):
    k = shop()
    clock.travel_to(pkt(23, 19, 40))
    k.tg_message(52, "the blender is broken", first_name="Sana")
    card_of(k, "the blender is broken")
    clock.travel_to(pkt(24, 9, 59))
    sla.remind()  # 20 business minutes after 14 hours
    clock.travel_to(pkt(24, 10, 28, 30))
    sla.remind()  # 48.5 business minutes
    k.wait_group(lambda t: "48 of the 60 minutes" in t)
    assert len(group_with(k, "still waiting")) == 1


def test_breach_calls_the_owners_by_name_once(shop):
    k = shop(**{"telegram.owner_ids": OWNERS})
    Agent.create(telegram_user_id=OWNERS[0], first_name="Bilal")  # has written in the group before
    clock.travel_to(pkt(23, 10, 0))
    k.tg_message(53, "wrong colour delivered", first_name="Nadia")
    card = card_of(k, "wrong colour delivered")
    clock.travel_to(pkt(23, 11, 0, 30))  # the job missed the warning: only the breach is told
    sla.remind()
    sla.remind()
    breach = k.wait_group(lambda t: t.startswith("🚨"))[0]
    assert breach["text"] == (
        "🚨 #1001 · Nadia has had no answer for 60 minutes — past the 60-minute target "
        "(opening hours only).\nBilal, Owner: please make sure someone answers."
    )
    assert breach["reply_to"] == card["message_id"]
    (call,) = [c for c in k.tg.calls if c["method"] == "sendMessage" and "🚨" in str(c["params"].get("text"))]
    entities = call["params"]["entities"]
    assert [(e["type"], e["user"]["id"]) for e in entities] == [("text_mention", 7001), ("text_mention", 7002)]
    utf16 = breach["text"].encode("utf-16-le")
    named = [utf16[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le") for e in entities]
    assert named == ["Bilal", "Owner"]
    clock.travel_to(pkt(23, 12, 0))
    sla.remind()
    quiet(k)
    assert len(group_with(k, "🚨")) == 1 and not group_with(k, "still waiting")
    ticket = Ticket.get()
    assert ticket.sla_breached_at is not None and sla.is_overdue(ticket, clock.now())


def test_answered_tickets_get_no_reminder(shop):
    k = shop()
    clock.travel_to(pkt(23, 10, 0))
    k.tg_message(54, "can I change my address", first_name="Faisal")
    card = card_of(k, "change my address")
    clock.travel_to(pkt(23, 10, 20))
    k.agent_message("Yes, send it here.", reply_to=card["message_id"])
    eventually(lambda: Ticket.get().first_response_at is not None)
    clock.travel_to(pkt(23, 11, 30))
    sla.remind()
    quiet(k)
    assert not group_with(k, "still waiting") and not group_with(k, "🚨")
    assert not sla.is_overdue(Ticket.get(), clock.now())


def test_response_and_resolution_times_count_business_minutes(shop):
    k = shop()
    clock.travel_to(pkt(23, 19, 30))  # Monday evening, 30 minutes before closing
    k.tg_message(55, "the lid does not fit", first_name="Usman")
    card = card_of(k, "the lid does not fit")
    clock.travel_to(pkt(24, 10, 15))  # Tuesday morning
    k.agent_message("A new lid is on its way.", reply_to=card["message_id"])
    k.wait_chat(55, lambda t: "new lid" in t)
    ticket = eventually(lambda: Ticket.get(Ticket.first_response_minutes.is_null(False)))
    assert ticket.first_response_minutes == pytest.approx(45, abs=0.5)
    clock.travel_to(pkt(24, 11, 0))
    k.agent_message("/close", reply_to=card["message_id"])
    ticket = eventually(lambda: Ticket.get_or_none(Ticket.resolution_minutes.is_null(False)))
    assert ticket.resolution_minutes == pytest.approx(90, abs=0.5)


# -- the scheduler runs them by itself ------------------------------------------------------------------------

EVERY_SECOND = {"scheduler.enabled": True, "scheduler.sla_every_s": 1, "scheduler.opening_every_s": 1}


def test_the_scheduler_reminds_and_calls_the_owners_by_itself(shop):
    clock.travel_to(pkt(30, 10, 0))
    k = shop(**EVERY_SECOND, **{"telegram.owner_ids": OWNERS[:1]})
    assert k.scheduler.get_job("sla").trigger.interval == dt.timedelta(seconds=1)
    k.tg_message(51, "my parcel is late", first_name="Kamran")
    card = card_of(k, "my parcel is late")
    clock.travel_to(pkt(30, 10, 48, 30))  # 48 of the 60 minutes gone: the next run reminds
    reminder = k.wait_group(lambda t: "still waiting for a first answer" in t)[0]
    assert reminder["text"].startswith("⏰ #1001 · Kamran is still waiting for a first answer: 48 of the 60 minutes")
    assert reminder["reply_to"] == card["message_id"]
    clock.travel_to(pkt(30, 11, 0, 30))  # past the target: the owners are called
    breach = k.wait_group(lambda t: t.startswith("🚨"))[0]
    assert breach["text"] == (
        "🚨 #1001 · Kamran has had no answer for 60 minutes — past the 60-minute target "
        "(opening hours only).\nOwner: please make sure someone answers."
    )
    assert breach["reply_to"] == card["message_id"]
    scheduler_ran(k, "sla", times=2)  # more runs: each is told once
    quiet(k)
    assert len(group_with(k, "still waiting")) == 1 and len(group_with(k, "🚨")) == 1


def test_the_scheduler_posts_the_opening_summary_by_itself(shop):
    clock.travel_to(pkt(28, 20, 30))  # Saturday night: closed
    k = shop(**EVERY_SECOND)
    assert k.scheduler.get_job("opening").trigger.interval == dt.timedelta(seconds=1)
    k.tg_message(42, "the kettle leaks", first_name="Bilal")
    card_of(k, "the kettle leaks")
    clock.travel_to(pkt(30, 9, 59, 57))  # Monday, three seconds before opening: nothing yet
    scheduler_ran(k, "opening")
    quiet(k)
    assert not group_with(k, "We are open")
    summary = k.wait_group(lambda t: t.startswith("🔔 We are open"), timeout=6)[0]["text"]
    assert summary.splitlines() == [
        "🔔 We are open. Tickets that came in while we were closed (1):",
        "#1001 · Bilal · Telegram · the kettle leaks",
    ]
    scheduler_ran(k, "opening", times=2)  # more runs: posted once
    quiet(k)
    assert len(group_with(k, "We are open")) == 1


def test_tickets_overdue_lists_only_the_unanswered_past_their_target(shop):
    k = shop()
    clock.travel_to(pkt(30, 10, 0))
    k.tg_message(61, "my parcel is late", first_name="Kamran")
    card_of(k, "my parcel is late")
    k.tg_message(62, "wrong colour delivered", first_name="Nadia")
    answered = card_of(k, "wrong colour delivered")
    clock.travel_to(pkt(30, 10, 5))
    k.agent_message("Sorry! The right colour ships today.", reply_to=answered["message_id"])
    k.wait_chat(62, lambda t: "ships today" in t)
    clock.travel_to(pkt(30, 10, 30))
    k.tg_message(63, "the lid does not fit", first_name="Usman")  # within its target
    card_of(k, "the lid does not fit")
    clock.travel_to(pkt(30, 11, 0, 30))  # Kamran has waited 60 of 60 minutes
    k.agent_message("/tickets overdue")
    overdue = k.wait_group(lambda t: t.startswith("Open tickets"))[-1]["text"]
    assert overdue.splitlines() == [
        "Open tickets (1), most pressing first:",
        "#1001 · Kamran · 1h00m · normal · unassigned",
    ]
    k.agent_message("/tickets")
    everything = k.wait_group(lambda t: t.startswith("Open tickets (3)"))[-1]["text"]
    assert "Nadia" in everything and "Usman" in everything
    clock.travel_to(pkt(30, 11, 10))
    k.agent_message("On its way, sorry for the wait.", reply_to=card_of(k, "my parcel is late")["message_id"])
    k.wait_chat(61, lambda t: "On its way" in t)
    k.agent_message("/tickets overdue")
    k.wait_group(lambda t: t == "No open tickets here. 🎉")
