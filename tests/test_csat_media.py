"""Satisfaction questions after /close (both languages, any channel, the answer window) and agents' media
reaching WhatsApp (signed /media/ links Twilio fetches), SMS (a link in the text) and Telegram (copied)."""

import datetime as dt
import re
import time
from urllib.parse import urlsplit

import pytest
import requests

from db.models import Ticket
from handlers.core import media
from handlers.features import csat
from tests.helpers import eventually, open_ticket, quiet

NUMBER = "+923001234567"
WA = f"whatsapp:{NUMBER}"
SMS_NUMBER = "+923331112222"


def close_ticket(k, card):
    k.agent_message("/close", reply_to=card["message_id"], first_name="Sara")


def closed_telegram_ticket(k, user_id=21, **kw):
    card = open_ticket(k, user_id, **kw)
    close_ticket(k, card)
    question = k.wait_chat(user_id, lambda t: "rate our help" in t, what="the rating question")[0]["text"]
    return card, question


# ---- satisfaction ---------------------------------------------------------------------------------


def test_telegram_customer_rates_in_english_then_writes_a_new_ticket(khidmat):
    card, question = closed_telegram_ticket(khidmat)
    assert "#1001" in question and "1 to 5" in question
    assert Ticket.get().csat_asked_at is not None
    khidmat.tg_message(21, "5")
    assert "Ali" in khidmat.wait_chat(21, lambda t: "Thank you for your feedback" in t)[0]["text"]
    note = khidmat.wait_group(lambda t: "rated ticket #1001: 5/5" in t)[0]
    assert note["reply_to"] == card["message_id"]  # in the ticket's thread
    ticket = Ticket.get()
    assert (ticket.rating, ticket.rating_comment) == (5, None)
    # only the first message after the question is the answer: the next one is a new matter
    khidmat.tg_message(21, "4 more things: the lid is missing too")
    khidmat.wait_group(lambda t: "#1002" in t and "the lid is missing" in t)
    quiet(khidmat)
    assert Ticket.get_by_id(ticket.id).rating == 5
    assert not [t for t in khidmat.group_texts() if "Low rating" in t]


def test_whatsapp_customer_rates_in_urdu_digits(khidmat):
    khidmat.whatsapp(NUMBER, "السلام علیکم، میرا پارسل ٹوٹا ہوا آیا ہے", profile_name="Sana")
    card = khidmat.wait_group(lambda t: "پارسل" in t)[0]
    close_ticket(khidmat, card)
    question = khidmat.wait_twilio(WA, lambda b: "درجہ دیں" in b, what="the Urdu rating question")[0]["body"]
    assert "#1001" in question and "۱ سے ۵" in question
    khidmat.whatsapp(NUMBER, "۴")
    thanks = khidmat.wait_twilio(WA, lambda b: "رائے کا شکریہ" in b)[0]["body"]
    assert "Sana" in thanks
    khidmat.wait_group(lambda t: "Sana rated ticket #1001: 4/5" in t)
    assert Ticket.get().rating == 4 and Ticket.select().count() == 1


def test_the_answer_may_come_on_another_channel(khidmat):
    khidmat.whatsapp(NUMBER, "parcel damaged", profile_name="Ali")
    card = khidmat.wait_group(lambda t: "parcel damaged" in t)[0]
    close_ticket(khidmat, card)
    khidmat.wait_twilio(WA, lambda b: "rate our help" in b)
    khidmat.sms(NUMBER, "5")  # by SMS from the same number
    khidmat.wait_twilio(NUMBER, lambda b: "Thank you for your feedback" in b)
    assert Ticket.get().rating == 5 and Ticket.select().count() == 1


@pytest.mark.parametrize(
    "answer, rating, comment, agents_read",
    [
        ("⭐⭐", 2, None, ["⚠️ Low rating on ticket #1001: Ali gave 2/5", "follow up"]),
        ("2 very slow", 2, "very slow", ["⚠️ Low rating on ticket #1001: Ali gave 2/5", "“very slow”"]),
        ("5 thanks!", 5, "thanks!", ["⭐ Ali rated ticket #1001: 5/5", "“thanks!”"]),
        (
            "very helpful, thanks",
            None,
            "very helpful, thanks",
            ["Ali answered the rating question for ticket #1001 in words", "“very helpful, thanks”"],
        ),
    ],
)
def test_answers_become_rating_comment_and_a_note_for_the_agents(khidmat, answer, rating, comment, agents_read):
    card, _ = closed_telegram_ticket(khidmat)
    khidmat.tg_message(21, answer)
    khidmat.wait_chat(21, lambda t: "Thank you for your feedback" in t)
    note = khidmat.wait_group(lambda t: agents_read[0] in t)[0]
    assert all(words in note["text"] for words in agents_read)
    assert note["reply_to"] == card["message_id"]
    quiet(khidmat)
    ticket = Ticket.get()
    assert (ticket.rating, ticket.rating_comment) == (rating, comment)
    assert Ticket.select().count() == 1  # the answer opened no ticket
    if rating and rating > 2:
        assert not [t for t in khidmat.group_texts() if "Low rating" in t]


@pytest.mark.parametrize(
    "words",
    [
        "My other order 7777 also never came, please check",
        "The courier was rude to my mother",
        "why is my refund not here after 2 weeks?",
    ],
)
def test_a_new_matter_after_the_rating_question_is_a_new_ticket_not_a_comment(khidmat, words):
    closed_telegram_ticket(khidmat)
    khidmat.tg_message(21, words)
    ack = khidmat.wait_chat(21, lambda t: "#1002" in t, what="the new ticket's acknowledgement")[0]["text"]
    assert "Thank you for your feedback" not in ack
    card = khidmat.wait_group(lambda t: words in t and "#1002" in t, what="the new ticket's card")[0]
    assert "#1002" in card["text"]
    quiet(khidmat)
    first = Ticket.get_by_id(1)
    assert (first.rating, first.rating_comment) == (None, None)  # the question still waits for a rating
    assert not [m for m in khidmat.chat(21) if "Thank you for your feedback" in (m.get("text") or "")]


def test_an_answer_after_the_window_opens_a_new_ticket(khidmat):
    closed_telegram_ticket(khidmat)
    ticket = Ticket.get()
    Ticket.update(csat_asked_at=ticket.csat_asked_at - dt.timedelta(hours=49)).execute()  # two days pass
    khidmat.tg_message(21, "5")
    khidmat.wait_group(lambda t: "#1002" in t)
    quiet(khidmat)
    assert Ticket.get_by_id(1).rating is None
    assert not [m for m in khidmat.chat(21) if "Thank you for your feedback" in (m["text"] or "")]


def test_no_question_when_csat_is_disabled(make_khidmat):
    k = make_khidmat(**{"csat.enabled": False})
    card = open_ticket(k)
    close_ticket(k, card)
    k.wait_chat(21, lambda t: "has been closed" in t)
    quiet(k)
    assert not [m for m in k.chat(21) if "rate our help" in (m["text"] or "")]
    assert Ticket.get().csat_asked_at is None
    k.tg_message(21, "5")
    k.wait_group(lambda t: "#1002" in t)


def test_summary_averages_the_ratings(khidmat):
    for user_id, answer in ((21, "5"), (22, "⭐⭐")):
        closed_telegram_ticket(khidmat, user_id, text=f"problem of {user_id}")
        khidmat.tg_message(user_id, answer)
        khidmat.wait_chat(user_id, lambda t: "Thank you for your feedback" in t)
    an_hour_ago = Ticket.get_by_id(1).csat_asked_at - dt.timedelta(hours=1)
    assert csat.summary(an_hour_ago) == {"average": 3.5, "count": 2}
    assert csat.summary(an_hour_ago + dt.timedelta(days=1)) == {"average": None, "count": 0}


@pytest.mark.parametrize(
    "text, rating, comment",
    [
        ("5", 5, None),
        ("۳", 3, None),
        ("١", 1, None),
        ("⭐⭐⭐⭐", 4, None),
        ("⭐️⭐️⭐️ ok", 3, "ok"),
        ("4/5", 4, None),
        ("5. Great service", 5, "Great service"),
        ("5531 is still late", None, "5531 is still late"),
        ("10", None, "10"),
        ("bohat acha", None, "bohat acha"),
    ],
)
def test_parse_answer(text, rating, comment):
    assert csat.parse_answer(text) == (rating, comment)


# ---- agents' media ----------------------------------------------------------------------------------


def local(k, url: str) -> str:
    """The public media URL, asked of the test server (same path)."""
    return k.url + urlsplit(url).path


def test_agent_photo_reaches_whatsapp_customer_through_a_signed_link(khidmat, tg_api):
    picture = b"\xff\xd8\xff\xe0 a blue kettle " * 64
    tg_api.add_file("AGENT-PHOTO-BIG", picture, "photos/file_7.jpg")
    khidmat.whatsapp(NUMBER, "which colour did you send?")
    card = khidmat.wait_group(lambda t: "which colour" in t)[0]
    sizes = [
        {"file_id": "AGENT-PHOTO-SMALL", "file_unique_id": "s", "width": 90, "height": 90},
        {"file_id": "AGENT-PHOTO-BIG", "file_unique_id": "b", "width": 1280, "height": 960},
    ]
    khidmat.agent_message(
        None, reply_to=card["message_id"], caption="This one, the blue.", first_name="Sara", photo=sizes
    )
    sent = khidmat.wait_twilio(WA, lambda b: "the blue" in b)[0]
    assert sent["body"].startswith("This one, the blue.") and sent["body"].rstrip().endswith("— Sara")
    (url,) = sent["media_urls"]
    assert url.startswith("https://shop.example.com/media/")
    got = requests.get(local(khidmat, url), timeout=10)
    assert got.status_code == 200 and got.content == picture
    assert got.headers["Content-Type"] == "image/jpeg"

    token = urlsplit(url).path.rsplit("/", 1)[1]
    payload, mac = token.split(".")
    other = media._b64(b'["AGENT-PHOTO-SMALL",9999999999,"image/jpeg",null]')
    for forged in (
        f"{other}.{mac}",
        f"{payload}.{mac[:-2]}{'A' if mac[-2] != 'A' else 'B'}{mac[-1]}",
        "nonsense",
        f"{payload}.",
    ):
        assert requests.get(f"{khidmat.url}/media/{forged}", timeout=10).status_code == 403
    key = media.signing_key(khidmat.settings)
    expired = media.sign(key, media.MediaToken("AGENT-PHOTO-BIG", "image/jpeg", None, int(time.time()) - 1))
    assert requests.get(f"{khidmat.url}/media/{expired}", timeout=10).status_code == 403
    fresh = media.sign(key, media.MediaToken("AGENT-PHOTO-BIG", "image/jpeg", None, int(time.time()) + 60))
    assert requests.get(f"{khidmat.url}/media/{fresh}", timeout=10).content == picture


def test_agent_document_reaches_sms_customer_as_a_link_in_their_language(khidmat, tg_api):
    pdf = b"%PDF-1.4 bill for order 5531 " * 40
    tg_api.add_file("AGENT-DOC", pdf, "documents/file_3.pdf")
    khidmat.sms(SMS_NUMBER, "میرا بل کہاں ہے؟")
    card = khidmat.wait_group(lambda t: "میرا بل" in t)[0]
    khidmat.agent_message(
        None,
        reply_to=card["message_id"],
        first_name="Sara",
        document={
            "file_id": "AGENT-DOC",
            "file_unique_id": "d",
            "file_name": "bill-1001.pdf",
            "mime_type": "application/pdf",
        },
    )
    body = khidmat.wait_twilio(SMS_NUMBER, lambda b: "/media/" in b)[0]["body"]
    assert "فائل یہاں کھولیں" in body and body.rstrip().endswith("— Sara")
    url = re.search(r"https://shop\.example\.com/media/\S+", body).group(0)
    got = requests.get(local(khidmat, url), timeout=10)
    assert got.status_code == 200 and got.content == pdf
    assert got.headers["Content-Type"] == "application/pdf"
    assert "bill-1001.pdf" in got.headers["Content-Disposition"]


def test_agent_voice_note_is_copied_to_telegram_customer(khidmat):
    card = open_ticket(khidmat)
    voice = {"file_id": "AGENT-VOICE", "file_unique_id": "v", "duration": 4, "mime_type": "audio/ogg"}
    khidmat.agent_message(None, reply_to=card["message_id"], voice=voice)
    copied = eventually(lambda: [m for m in khidmat.chat(21) if m["method"] == "copyMessage"])[0]
    assert copied["kind"] == "voice" and copied["file_id"] == "AGENT-VOICE"


def test_a_sticker_cannot_go_to_whatsapp_and_the_agents_are_told(khidmat):
    khidmat.whatsapp(NUMBER, "thanks for the help")
    card = khidmat.wait_group(lambda t: "thanks for the help" in t)[0]
    khidmat.agent_message(
        None,
        reply_to=card["message_id"],
        sticker={
            "file_id": "STICKER",
            "file_unique_id": "st",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
        },
    )
    khidmat.wait_group(lambda t: "cannot send a sticker to the customer" in t)
    quiet(khidmat)
    assert len(khidmat.twilio.sent(to=WA)) == 1  # only the acknowledgement


def test_agent_voice_note_to_whatsapp_comes_with_the_words_after_it(khidmat, tg_api):
    tg_api.add_file("AGENT-VOICE", b"OggS agent voice" * 30, "voice/file_9.oga")
    khidmat.whatsapp(NUMBER, "how do I set it up?")
    card = khidmat.wait_group(lambda t: "set it up" in t)[0]
    voice = {"file_id": "AGENT-VOICE", "file_unique_id": "v", "duration": 4, "mime_type": "audio/ogg"}
    khidmat.agent_message(None, reply_to=card["message_id"], caption="Listen to this, step by step.", voice=voice)
    words = khidmat.wait_twilio(WA, lambda b: "step by step" in b)[0]
    note = next(m for m in khidmat.twilio.sent(to=WA) if m["media_urls"])  # WhatsApp has no caption for audio
    assert note["body"] == "" and words["media_urls"] == []
    assert khidmat.twilio.sent(to=WA).index(note) < khidmat.twilio.sent(to=WA).index(words)
    got = requests.get(local(khidmat, note["media_urls"][0]), timeout=10)
    assert got.headers["Content-Type"] == "audio/ogg" and got.content == b"OggS agent voice" * 30
