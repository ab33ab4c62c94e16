"""Customers on WhatsApp and SMS through Twilio: tickets, acknowledgements, replies, media, status callbacks."""

from db.models import Customer, Ticket
from handlers.core import texts
from tests.helpers import eventually, quiet

NUMBER = "+923001234567"


def test_whatsapp_first_message_opens_ticket_and_acks(khidmat):
    r = khidmat.whatsapp(NUMBER, "Mera order 5531 abhi tak nahi aaya", profile_name="Ali")
    assert r.status_code == 200 and "<Response>" in r.text
    card = khidmat.wait_group(lambda t: "5531" in t)[0]["text"]
    assert "WhatsApp" in card and "+923001234567" in card and "Ali" in card and "#1001" in card
    ack = khidmat.wait_twilio(f"whatsapp:{NUMBER}")[0]
    assert ack["from"] == "whatsapp:+14155238886" and "#1001" in ack["body"] and "welcome" in ack["body"]


def test_sms_first_message_opens_ticket_and_acks(khidmat):
    khidmat.sms("+923331112222", "Parcel damaged")
    card = khidmat.wait_group(lambda t: "Parcel damaged" in t)[0]["text"]
    assert "SMS" in card and "+923331112222" in card
    ack = khidmat.wait_twilio("+923331112222")[0]
    assert ack["from"] == "+14155550100" and "#1001" in ack["body"]


def test_whatsapp_and_sms_from_one_number_are_one_customer(khidmat):
    khidmat.whatsapp(NUMBER, "first on whatsapp")
    khidmat.wait_group(lambda t: "first on whatsapp" in t)
    khidmat.sms(NUMBER, "then by sms")
    khidmat.wait_group(lambda t: "then by sms" in t)
    assert Customer.select().count() == 1 and Ticket.select().count() == 1
    # the reply goes where the customer wrote last
    card = khidmat.group()[0]
    khidmat.agent_message("Got both, thanks", reply_to=card["message_id"])
    khidmat.wait_twilio(NUMBER, lambda b: "Got both" in b)


def test_agent_reply_reaches_whatsapp_and_long_sms_is_split(khidmat):
    khidmat.sms("+923331112222", "where is my refund")
    card = khidmat.wait_group(lambda t: "refund" in t)[0]
    long_reply = " ".join(f"step{i}" for i in range(600))  # about 4,200 characters
    khidmat.agent_message(long_reply, reply_to=card["message_id"], first_name="Sara")
    parts = eventually(
        lambda: (
            [m for m in khidmat.twilio.sent(to="+923331112222") if "#1001" not in m["body"]]
            if len(khidmat.twilio.sent(to="+923331112222")) >= 4
            else None
        )
    )
    assert all(len(m["body"]) <= 1600 for m in parts)
    joined = "".join(m["body"] for m in parts)
    assert long_reply in joined and joined.rstrip().endswith("— Sara")


def test_urdu_whatsapp_conversation(khidmat):
    khidmat.whatsapp(NUMBER, "السلام علیکم، میرا پارسل ٹوٹا ہوا آیا ہے", profile_name="Sana")
    ack = khidmat.wait_twilio(f"whatsapp:{NUMBER}")[0]["body"]
    assert "ٹکٹ نمبر" in ack and "#1001" in ack
    card = khidmat.wait_group(lambda t: "پارسل" in t)[0]
    khidmat.agent_message("معذرت! ہم آج ہی نیا بھیج رہے ہیں۔", reply_to=card["message_id"], first_name="Sara")
    reply = khidmat.wait_twilio(f"whatsapp:{NUMBER}", lambda b: "معذرت" in b)[0]["body"]
    assert "Sara" in reply
    card = khidmat.group()[0]
    khidmat.agent_message("/close", reply_to=card["message_id"])
    assert khidmat.wait_twilio(f"whatsapp:{NUMBER}", lambda b: "بند کر دیا گیا" in b)


def test_whatsapp_photo_is_downloaded_and_uploaded_to_group(khidmat, twilio_api):
    url = twilio_api.add_media(b"\x89PNG fake image bytes" * 50, "image/jpeg")
    khidmat.whatsapp(NUMBER, "see the damage", media=[(url, "image/jpeg")])
    photo = eventually(lambda: [m for m in khidmat.group() if m["method"] == "sendPhoto"])[0]
    assert photo["upload_size"] == len(b"\x89PNG fake image bytes" * 50)
    assert "see the damage" in photo["caption"]


def test_voice_note_without_text(khidmat, twilio_api):
    url = twilio_api.add_media(b"OggS voice" * 20, "audio/ogg")
    khidmat.whatsapp(NUMBER, "", media=[(url, "audio/ogg")])
    voice = eventually(lambda: [m for m in khidmat.group() if m["method"] in ("sendVoice", "sendAudio")])[0]
    assert voice["upload_size"] == 200
    assert "#1001" in khidmat.group()[0]["text"]


def test_empty_sms_is_acknowledged_and_ignored(khidmat):
    r = khidmat.sms(NUMBER, "")
    assert r.status_code == 200
    quiet(khidmat)
    assert Ticket.select().count() == 0 and khidmat.twilio.sent() == []


def test_sms_stop_is_recorded_without_a_ticket_or_reply(khidmat):
    khidmat.sms(NUMBER, "STOP")
    quiet(khidmat)
    assert Customer.get().marketing_opt_out is True
    assert Ticket.select().count() == 0
    assert khidmat.twilio.sent() == []  # the carrier answers STOP itself


def test_sms_urdu_stop_and_start_are_ours_to_confirm(khidmat):
    """The carrier knows only its English keywords: «بند» and «شروع» are answered by the bot, in Urdu."""
    khidmat.sms(NUMBER, "بند")
    stopped = khidmat.wait_twilio(NUMBER)[0]["body"]
    assert stopped == texts.render("ur", "opted_out") and Customer.get().marketing_opt_out is True
    khidmat.sms(NUMBER, "شروع")
    started = khidmat.wait_twilio(NUMBER, lambda b: b != stopped)[0]["body"]
    assert started == texts.render("ur", "opted_in") and Customer.get().marketing_opt_out is False
    assert Ticket.select().count() == 0


def test_ten_thousand_characters_emoji_and_urdu(khidmat):
    text = ("مسئلہ 😡 problem " * 700)[:10000]
    assert khidmat.whatsapp(NUMBER, text).status_code == 200
    parts = eventually(lambda: khidmat.group() if text[1500:] in "".join(m["text"] for m in khidmat.group()) else None)
    assert text[:1500] in parts[0]["text"]
    assert len(parts) >= 3 and all(len(m["text"].encode("utf-16-le")) // 2 <= 4096 for m in parts)


def test_media_that_is_gone_does_not_block_the_group(khidmat, twilio_api):
    missing = "https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MMx/Media/MEgone"
    khidmat.whatsapp(NUMBER, "photo of the box", media=[(missing, "image/jpeg")])
    khidmat.wait_group(lambda t: "photo of the box" in t)
    note = khidmat.wait_group(lambda t: "could not be fetched" in t, timeout=8)[0]
    assert "photo" in note["text"] and "photo of the box" in note["text"]
    khidmat.sms("+923339998888", "someone else")
    khidmat.wait_group(lambda t: "someone else" in t, timeout=5)
