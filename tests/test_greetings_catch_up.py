"""Greetings catch up the days the bot was down, end to end on both databases and in both languages: the
scheduler's greetings job after a gap greets yesterday's birthdays with the belated wording (and anniversaries of
up to greetings.catch_up_days back), today's on time, older ones not at all, and none of them twice — not when the
job runs again, not the next day, not by the command line."""

from __future__ import annotations

import datetime as dt

import db
from db.models import Contact, Coupon, Customer, GreetingSent, State
from handlers.core import clock
from handlers.features import greetings
from runtime import scheduler
from tests.helpers import OPEN_HOURS, quiet

NOON = dt.timedelta(hours=7)  # 12:00 in Karachi, after greetings.send_at (10:00)


def person(name, lang, tg, birthday=None, anniversary=None):
    with db.write():
        customer = Customer.create(
            name=name, language=lang, telegram_user_id=tg, birthday=birthday, anniversary=anniversary
        )
        Contact.create(customer=customer, channel="telegram", address=str(tg), last_inbound_at=clock.now())
    return customer


def on(day: dt.date) -> None:
    clock.travel_to(dt.datetime.combine(day, dt.time()) + NOON)


def said(k, chat, words):
    return [m["text"] for m in k.chat(chat) if words in (m.get("text") or "")]


def cli_run(k):
    result = k.app.test_cli_runner().invoke(args=["jobs", "run", "greetings"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_a_birthday_missed_while_the_bot_was_down_is_greeted_late_once(make_khidmat):
    k = make_khidmat(**{"greetings.birthday_coupon_percent": 10})
    today = OPEN_HOURS.date()  # Wednesday 25 November 2026
    person("Before", "en", 1101, birthday="11-19")
    # the bot's last good day: 20 November (a first run never greets earlier days)
    on(dt.date(2026, 11, 20))
    assert "birthday nothing new" in scheduler.run("greetings")
    assert State.get(State.key == greetings.DONE_THROUGH).value == "2026-11-20"
    # down from the 21st to the 24th; back on the 25th
    person("Old", "en", 1102, birthday="11-21")  # four days back: beyond catch_up_days (3)
    person("Ali", "en", 1103, birthday="11-24")
    person("Sana", "ur", 1104, birthday="11-24")
    person("Omar", "en", 1105, anniversary="11-22")
    person("Hina", "ur", 1106, birthday="11-25")
    on(today)
    summary = scheduler.run("greetings")
    assert "anniversary of 2026-11-22 (belated) sent 1" in summary, summary
    assert "birthday of 2026-11-24 (belated) sent 2" in summary and "birthday sent 1" in summary, summary
    assert "2026-11-21" not in summary and "2026-11-23" not in summary  # nobody to greet then
    ali = k.wait_chat(1103, lambda t: "belated" in t)[0]["text"]
    assert ali.startswith("🎂 A belated happy birthday, Ali! Sorry this comes a little late")
    assert Coupon.get(Coupon.customer == Customer.get(name="Ali")).code in ali and "10% off" in ali
    sana = k.wait_chat(1104, lambda t: "سالگرہ" in t)[0]["text"]
    assert "ذرا تاخیر سے سہی، سالگرہ مبارک" in sana and "دیر سے پہنچنے پر معذرت" in sana
    assert "A belated happy anniversary, Omar" in k.wait_chat(1105, lambda t: "anniversary" in t)[0]["text"]
    hina = k.wait_chat(1106, lambda t: "سالگرہ" in t)[0]["text"]
    assert "سالگرہ مبارک" in hina and "تاخیر" not in hina  # today's birthday: the usual wording
    # never twice: the job again, the command line, the next day
    assert "sent" not in scheduler.run("greetings")
    assert "sent" not in cli_run(k)
    on(today + dt.timedelta(days=1))
    assert "sent" not in scheduler.run("greetings")
    quiet(k)
    for chat in (1103, 1104, 1105, 1106):
        assert len(k.chat(chat)) == 1, (chat, k.chat(chat))
    assert k.chat(1101) == [] and k.chat(1102) == []
    rows = {(g.customer.name, g.occasion, g.year) for g in GreetingSent.select()}
    assert rows == {
        ("Ali", "birthday", 2026),
        ("Sana", "birthday", 2026),
        ("Omar", "anniversary", 2026),
        ("Hina", "birthday", 2026),
    }


def test_before_send_at_the_catch_up_waits_and_catch_up_days_zero_means_today_only(make_khidmat):
    k = make_khidmat(**{"greetings.catch_up_days": 0})
    on(dt.date(2026, 11, 23))
    scheduler.run("greetings")
    person("Ali", "en", 1201, birthday="11-24")
    person("Today", "en", 1202, birthday="11-25")
    clock.travel_to(dt.datetime(2026, 11, 25, 4, 0))  # 09:00 in Karachi: before send_at
    assert scheduler.run("greetings") is None
    on(OPEN_HOURS.date())
    summary = scheduler.run("greetings")
    assert "birthday sent 1" in summary and "belated" not in summary, summary
    k.wait_chat(1202, lambda t: "Happy birthday, Today" in t)
    quiet(k)
    assert k.chat(1201) == []
