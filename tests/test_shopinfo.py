"""The FAQ's shop facts follow the settings, end to end on both databases and in both languages: a customer asking
for the opening hours reads them as [hours] says (split days, a day closed, the coming closed dates), the contact
and address answers carry [shop]'s phone, email and address; start-up warns while those are the shipped examples."""

from __future__ import annotations

import logging

import config
import runtime
from handlers.features import shopinfo
from tests.helpers import make_settings

WA = "+923001260001"
HOURS = {
    "hours.friday": "10:00-12:30,14:30-20:00",
    "hours.saturday": "11:00-18:00",
    "hours.closed_dates": ["2026-12-25", "2027-03-10", "2026-11-01"],
}
SHOP = {
    "shop.phone": "0321-7654321",
    "shop.email": "help@myshop.pk",
    "shop.address": "Shop 4, Anarkali Bazaar, Lahore",
    "shop.address_ur": "دکان 4، انارکلی بازار، لاہور",
}


def test_the_hours_answer_is_written_from_the_settings_in_english_and_urdu(make_khidmat):
    k = make_khidmat(**HOURS)
    k.tg_message(71, "What are your opening hours?", first_name="Ali", language_code="en")
    text = k.wait_chat(71, lambda t: "Our team is available" in t)[0]["text"]
    assert (
        "Monday to Thursday: 10:00–20:00\nFriday: 10:00–12:30, 14:30–20:00\nSaturday: 11:00–18:00\n"
        "Sunday: closed\nAlso closed on: 25 December" in text
    ), text
    assert "10 March" not in text and "1 November" not in text  # only the coming weeks' closed dates
    k.whatsapp(WA, "دکان کب کھلتی ہے؟", profile_name="Sana")
    body = k.wait_twilio(f"whatsapp:{WA}", lambda b: "ہماری ٹیم" in b)[0]["body"]
    assert "پیر سے جمعرات: 10:00 سے 20:00 تک" in body, body
    assert "جمعہ: 10:00 سے 12:30 تک, 14:30 سے 20:00 تک" in body and "اتوار: بند" in body
    assert "ان دنوں بھی بند: 25 دسمبر" in body


def test_the_shipped_hours_read_as_before(khidmat):
    khidmat.tg_message(72, "what are your timings?")
    text = khidmat.wait_chat(72, lambda t: "Our team is available" in t)[0]["text"]
    assert "Monday to Saturday: 10:00–20:00\nSunday: closed\n" in text, text


def test_a_shop_open_around_the_clock(make_khidmat):
    every_day = {f"hours.{day}": "" for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday")}
    k = make_khidmat(**every_day)
    k.tg_message(73, "What are your opening hours?", language_code="ur")
    assert "ہر روز، چوبیس گھنٹے" in k.wait_chat(73, lambda t: "ہماری ٹیم" in t)[0]["text"]


def test_contact_and_address_come_from_the_shop_settings(make_khidmat):
    k = make_khidmat(**SHOP)
    k.tg_message(74, "What is your phone number?", language_code="en")
    text = k.wait_chat(74, lambda t: "Call or WhatsApp" in t)[0]["text"]
    assert "Call or WhatsApp us at 0321-7654321 during our opening hours, or email help@myshop.pk." in text
    assert "1234567" not in text
    k.tg_message(75, "آپ کا فون نمبر کیا ہے؟", language_code="ur")
    text = k.wait_chat(75, lambda t: "ای میل" in t)[0]["text"]
    assert "0321-7654321" in text and "help@myshop.pk" in text
    k.tg_message(76, "What is your address?", language_code="en")
    text = k.wait_chat(76, lambda t: "Our shop is at" in t)[0]["text"]
    assert "Our shop is at Shop 4, Anarkali Bazaar, Lahore. Opening hours:\nMonday to Saturday: 10:00–20:00" in text
    k.whatsapp(WA, "آپ کی دکان کہاں ہے؟", profile_name="Sana")
    body = k.wait_twilio(f"whatsapp:{WA}", lambda b: "پتہ" in b)[0]["body"]
    assert "ہماری دکان کا پتہ: دکان 4، انارکلی بازار، لاہور۔" in body


def test_start_up_warns_while_the_shop_details_are_the_examples(db_url, caplog):
    shipped = config.load(environ={})
    for key, example in shopinfo.EXAMPLES.items():  # the examples the code knows are those settings.toml ships
        assert getattr(config.shop(shipped), key) == example, key
    with caplog.at_level(logging.WARNING, logger="runtime"):
        runtime.describe_channels(make_settings(db_url))
    warned = [r.getMessage() for r in caplog.records if "shop:" in r.getMessage()]
    assert len(warned) == 1 and "shop.phone, shop.email, shop.address, shop.address_ur still the example" in warned[0]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="runtime"):
        runtime.describe_channels(make_settings(db_url, **SHOP))
        runtime.describe_channels(make_settings(db_url, **{**SHOP, "shop.address_ur": ""}))  # optional
    assert not [r for r in caplog.records if "shop:" in r.getMessage()]
    assert shopinfo.placeholders(make_settings(db_url, **{**SHOP, "shop.email": ""})) == ["email"]
