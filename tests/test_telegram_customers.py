"""A customer on Telegram: greeting, complaint, acknowledgement, follow-ups, media, language."""

from db.models import Message, Ticket
from tests.helpers import eventually, quiet


def test_start_greets_by_name_in_their_language(khidmat):
    khidmat.tg_message(11, "/start", first_name="Ayesha", language_code="en")
    khidmat.tg_message(12, "/start", first_name="Bilal", language_code="ur")
    en = khidmat.wait_chat(11)[0]["text"]
    ur = khidmat.wait_chat(12)[0]["text"]
    assert "Ayesha" in en and "Welcome" in en
    assert "Bilal" in ur and "خوش آمدید" in ur
    assert Ticket.select().count() == 0  # a greeting is not a complaint


def test_complaint_gets_ack_and_reaches_group_with_details(khidmat):
    r = khidmat.tg_message(21, "My order 5531 is late", first_name="Ali", username="ali_k")
    assert r.status_code == 200
    ack = khidmat.wait_chat(21)[0]["text"]
    assert "#1001" in ack and "30 minutes" in ack
    card = khidmat.wait_group(lambda t: "My order 5531 is late" in t)[0]["text"]
    assert "#1001" in card and "Ali" in card and "@ali_k" in card and "Telegram" in card
    assert "Earlier tickets: 0" in card


def test_follow_ups_join_the_ticket_without_second_ack(khidmat):
    khidmat.tg_message(31, "first complaint")
    khidmat.wait_group(lambda t: "first complaint" in t)
    khidmat.tg_message(31, "more details")
    khidmat.tg_message(31, "and a photo later")
    khidmat.wait_group(lambda t: "and a photo later" in t)
    quiet(khidmat)
    acks = [m for m in khidmat.chat(31) if "#1001" in (m["text"] or "")]
    assert len(acks) == 1
    assert Ticket.select().count() == 1
    assert Message.select().where(Message.direction == "in").count() == 3
    # follow-ups are threaded under the ticket's first group message
    root = khidmat.group()[0]["message_id"]
    later = next(m for m in khidmat.group() if "more details" in (m["text"] or ""))
    assert later["reply_to"] == root


def test_burst_is_merged_into_few_group_messages(make_khidmat):
    k = make_khidmat(**{"telegram.rate_chat_per_s": 1, "telegram.rate_group_per_min": 20})
    k.tg_message(41, "hi")
    for text in ("my order", "is late", "5531"):
        k.tg_message(41, text)
    k.wait_group(lambda t: "5531" in t, timeout=8)
    texts = [t for t in k.group_texts() if "#1001" in t]
    joined = "\n".join(texts)
    assert joined.index("hi") < joined.index("my order") < joined.index("is late") < joined.index("5531")
    assert len(texts) <= 3, texts  # not a wall of four separate messages


def test_photo_voice_and_document_reach_the_group(khidmat):
    khidmat.tg_message(
        51,
        None,
        photo=[
            {"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90},
            {"file_id": "PHOTO-BIG", "file_unique_id": "b", "width": 800, "height": 800},
        ],
        caption="broken on arrival",
    )
    card, photo = eventually(
        lambda: (
            [m for m in khidmat.group() if "broken on arrival" in (m["text"] or m["caption"] or "")]
            if len([m for m in khidmat.group() if "broken on arrival" in (m["text"] or m["caption"] or "")]) == 2
            else None
        )
    )
    assert "#1001" in card["text"]  # the ticket card, quoting the caption
    assert (
        photo["method"] == "sendPhoto" and photo["file_id"] == "PHOTO-BIG" and photo["caption"] == "broken on arrival"
    )
    assert photo["reply_to"] == card["message_id"]  # threaded under the card
    khidmat.tg_message(51, None, voice={"file_id": "VOICE-1", "file_unique_id": "v", "duration": 3})
    khidmat.tg_message(51, None, document={"file_id": "DOC-1", "file_unique_id": "d", "file_name": "bill.pdf"})
    sent = eventually(
        lambda: (
            [m for m in khidmat.group() if m["method"] in ("sendVoice", "sendDocument")]
            if len([m for m in khidmat.group() if m["method"] in ("sendVoice", "sendDocument")]) == 2
            else None
        )
    )
    assert {m["file_id"] for m in sent} == {"VOICE-1", "DOC-1"}


def test_unsupported_kind_is_said_not_dropped(khidmat):
    khidmat.tg_message(52, None, dice={"emoji": "🎲", "value": 3})
    group = khidmat.wait_group(lambda t: "dice" in t)[0]["text"]
    assert "cannot relay" in group
    reply = khidmat.wait_chat(52, lambda t: "cannot read" in t)
    assert reply


def test_urdu_writer_is_answered_in_urdu(khidmat):
    khidmat.tg_message(61, "میرا آرڈر ابھی تک نہیں پہنچا", language_code="en")
    ack = khidmat.wait_chat(61)[0]["text"]
    assert "ٹکٹ نمبر" in ack and "#1001" in ack
    khidmat.wait_group(lambda t: "میرا آرڈر" in t)


def test_telegram_language_ur_gets_urdu_even_in_latin(khidmat):
    khidmat.tg_message(62, "parcel toota hua aaya hai", language_code="ur")
    assert "ٹکٹ نمبر" in khidmat.wait_chat(62)[0]["text"]
    khidmat.tg_message(64, "order kab aye ga?", language_code="ur")  # a common question: the bot answers, in Urdu
    assert "کاروباری دنوں" in khidmat.wait_chat(64)[0]["text"]


def test_default_language_applies_to_others(make_khidmat):
    k = make_khidmat(**{"app.default_language": "ur"})
    k.tg_message(63, "hello, problem", language_code="de")
    assert "ٹکٹ نمبر" in k.wait_chat(63)[0]["text"]


def test_long_complaint_is_split_not_cut(khidmat):
    text = " ".join(f"word{i}" for i in range(1500))  # about 12,000 characters
    khidmat.tg_message(71, text)
    # the card quotes the start; the rest follows in order, split at 4096, nothing cut
    parts = eventually(
        lambda: khidmat.group() if text[1500:] in "".join(m["text"] for m in khidmat.group()[1:]) else None,
        what="the whole complaint",
    )
    assert text[:1500] in parts[0]["text"]
    assert "".join(m["text"] for m in parts[1:] if "cannot have a topic" not in m["text"]) == text[1500:]
    assert len(parts) >= 3 and all(len(m["text"]) <= 4096 for m in parts)
    assert Message.get().text == text


def test_emoji_empty_and_rtl_are_handled(khidmat):
    assert khidmat.tg_message(81, "😡😡😡").status_code == 200
    khidmat.wait_group(lambda t: "😡😡😡" in t)
    assert khidmat.tg_message(82, "").status_code == 200  # empty text: nothing to relay
    assert khidmat.tg_message(83, "\u202eکیا حال ہے\u202c").status_code == 200
    khidmat.wait_group(lambda t: "کیا حال ہے" in t)
    assert Ticket.select().count() == 2


def test_customer_typing_agent_commands_does_not_act(khidmat):
    khidmat.tg_message(91, "my parcel is damaged")
    khidmat.wait_group(lambda t: "damaged" in t)
    khidmat.tg_message(91, "/close")
    khidmat.tg_message(91, "/note secret")
    khidmat.wait_group(lambda t: "/note secret" in t)
    assert Ticket.get().status == "open"
    assert not [m for m in khidmat.chat(91) if "closed" in (m["text"] or "")]


def test_stop_opts_out_without_opening_a_ticket(khidmat):
    khidmat.tg_message(95, "STOP")
    assert "no longer receive offers" in khidmat.wait_chat(95)[0]["text"]
    assert Ticket.select().count() == 0
    from db.models import Customer

    assert Customer.get().marketing_opt_out is True
