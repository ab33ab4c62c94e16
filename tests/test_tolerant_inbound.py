"""Reading what arrives, tolerantly: updates in older Bot API shapes (no `is_bot` on the sender, no
`file_unique_id` on photos, documents and voice notes) are read for what they have; a Twilio post with only
`SmsSid` (no MessageSid) is accepted, and so is a status callback with only `SmsSid` and `SmsStatus`. All through
the webhooks, on both databases."""

from __future__ import annotations

import time

from db.models import InboundEvent, Message, Outbox, State, Ticket
from tests.helpers import AGENTS, SMS_FROM, eventually, quiet


def old_update(k, update_id, user_id, **message):
    """A private-chat update as an older Bot API shaped it: the sender without is_bot."""
    return k.post_update(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": int(time.time()),
                "chat": {"id": user_id, "type": "private", "first_name": "Nadia"},
                "from": {"id": user_id, "first_name": "Nadia", "language_code": "en"},
                **message,
            },
        }
    )


def test_a_plain_text_without_is_bot_is_a_complaint_with_its_answer(khidmat):
    assert old_update(khidmat, 7001, 81, text="my parcel came broken").status_code == 200
    ack = khidmat.wait_chat(81, lambda t: "#1001" in t)[0]["text"]
    assert "cannot read" not in ack
    card = khidmat.wait_group(lambda t: "my parcel came broken" in t)[0]["text"]
    assert "#1001" in card and "Nadia" in card
    quiet(khidmat)
    assert not [m for m in khidmat.chat(81) if "cannot read" in (m["text"] or "")]
    assert Ticket.get().customer.name == "Nadia"


def test_start_without_is_bot_gets_the_welcome(khidmat):
    old_update(khidmat, 7002, 82, text="/start")
    welcome = khidmat.wait_chat(82)[0]["text"]
    assert "Welcome" in welcome and "Nadia" in welcome
    quiet(khidmat)
    assert not [m for m in khidmat.chat(82) if "cannot read" in (m["text"] or "")]
    assert Ticket.select().count() == 0


def test_photo_document_and_voice_without_file_unique_id_reach_the_group(khidmat):
    old_update(
        khidmat,
        7003,
        83,
        photo=[
            {"file_id": "OLD-SMALL", "width": 90, "height": 90},
            {"file_id": "OLD-BIG", "width": 800, "height": 600},
        ],
        caption="the box was open",
    )
    photo = khidmat.wait_group(lambda t: "the box was open" in t)
    eventually(lambda: [m for m in khidmat.group() if m["method"] == "sendPhoto"])
    assert any("#1001" in (m["text"] or "") for m in photo)
    old_update(khidmat, 7004, 83, document={"file_id": "OLD-DOC", "file_name": "bill.pdf"})
    old_update(khidmat, 7005, 83, voice={"file_id": "OLD-VOICE", "duration": 4})
    sent = eventually(
        lambda: (
            found
            if len(found := [m for m in khidmat.group() if m["method"] in ("sendPhoto", "sendDocument", "sendVoice")])
            == 3
            else None
        )
    )
    assert {m["file_id"] for m in sent} == {"OLD-BIG", "OLD-DOC", "OLD-VOICE"}
    quiet(khidmat)
    assert not [m for m in khidmat.chat(83) if "cannot read" in (m["text"] or "")]
    assert Message.select().where(Message.direction == "in").count() == 3


def test_an_agent_without_is_bot_answers_the_customer(khidmat):
    khidmat.tg_message(84, "the zip of my bag is broken")
    card = khidmat.wait_group(lambda t: "the zip of my bag is broken" in t)[0]
    update = khidmat.tg.incoming(
        khidmat.settings["telegram"]["agents_chat_id"], "it left today", user_id=5001, reply_to=card["message_id"]
    )
    del update["message"]["from"]["is_bot"]
    khidmat.post_update(update)
    khidmat.wait_chat(84, lambda t: "it left today" in t)


def test_a_twilio_post_with_only_smssid_is_accepted(khidmat):
    sid = khidmat.sid()
    form = {
        "SmsSid": sid,
        "AccountSid": khidmat.settings["twilio"]["account_sid"],
        "From": "+923004445556",
        "To": SMS_FROM,
        "Body": "my order is late",
        "NumMedia": "0",
    }
    assert khidmat.post_twilio(form).status_code == 200
    ack = khidmat.wait_twilio("+923004445556", lambda b: "#1001" in b)[0]["body"]
    assert "#1001" in ack
    assert InboundEvent.get().external_id == sid
    assert khidmat.post_twilio(form).status_code == 200  # redelivered: acknowledged, not a second ticket
    quiet(khidmat)
    assert InboundEvent.select().count() == 1 and Ticket.select().count() == 1


def test_an_audio_that_cannot_be_read_is_an_audio_to_the_agents(khidmat):
    """An audio without even its file id cannot be relayed: the agents read "an audio", not "a audio"."""
    old_update(khidmat, 7006, 85, audio={"duration": 12, "title": "voice memo"})
    note = khidmat.wait_group(lambda t: "cannot relay" in t)[0]["text"]
    assert "The customer sent an audio, which the bot cannot relay" in note and "a audio" not in note
    khidmat.wait_chat(85, lambda t: "cannot read" in t)


def test_a_status_callback_with_only_smssid_and_smsstatus_is_read(khidmat):
    khidmat.sms("+923004445557", "the charger does not work")
    card = khidmat.wait_group(lambda t: "the charger does not work" in t)[0]
    khidmat.wait_twilio("+923004445557")
    khidmat.agent_message("Please send a photo", reply_to=card["message_id"])
    sent = khidmat.wait_twilio("+923004445557", lambda b: "Please send a photo" in b)[0]
    eventually(lambda: Outbox.get(Outbox.purpose == "reply").status == "sent")
    form = {"SmsSid": sent["sid"], "SmsStatus": "undelivered", "ErrorCode": "21610", "To": "+923004445557"}
    assert khidmat.post_twilio(form, path="/twilio/status").status_code == 204
    notice = khidmat.wait_group(lambda t: "Could not deliver" in t)[0]["text"]
    assert "unsubscribed" in notice and "Please send a photo" in notice
    assert Outbox.get(Outbox.purpose == "reply").delivery == "undelivered"


def test_a_migration_notice_with_a_malformed_new_id_changes_nothing(khidmat):
    """Seen by the fuzz test: an update from the agents' group whose migrate_to_chat_id was not a number was kept
    as the group's new id, and from then on every card failed. Now it is read as the plain message it also is,
    and the group's id stays."""
    for update_id, junk in ((7101, {"x": 5.0e16}), (7102, "-100abc"), (7103, True)):
        r = khidmat.post_update(
            {
                "update_id": update_id,
                "message": {
                    "message_id": update_id,
                    "date": int(time.time()),
                    "chat": {"id": AGENTS, "type": "group", "title": "Agents"},
                    "from": {"id": 501, "is_bot": False, "first_name": "Sana"},
                    "migrate_to_chat_id": junk,
                },
            }
        )
        assert r.status_code == 200
    quiet(khidmat)
    assert State.read(f"migrated:{AGENTS}") is None
    khidmat.tg_message(84, "my order never came")
    card = khidmat.wait_group(lambda t: "my order never came" in t)[0]
    assert str(card["chat_id"]) == str(AGENTS)
