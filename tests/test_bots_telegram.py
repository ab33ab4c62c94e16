"""bots/telegram.py: parse_update on real Bot API payload shapes, and TelegramBot.send against the stand-in."""

import asyncio
from dataclasses import replace

import pytest

from bots.base import BLOCKED, FAILED, GONE, INVALID_ADDRESS, RETRY, SENT, Media, Outbound
from bots.telegram import ALLOWED_UPDATES, TelegramBot, parse_update, verify_secret
from config import Settings
from tests.standins.telegram_api import TelegramStandin

CUSTOMER, GROUP = 5550001, -1001234567890
USER = {
    "id": CUSTOMER,
    "is_bot": False,
    "first_name": "Ayesha",
    "last_name": "Khan",
    "username": "ayesha_k",
    "language_code": "ur",
}
PRIVATE = {"id": CUSTOMER, "first_name": "Ayesha", "last_name": "Khan", "username": "ayesha_k", "type": "private"}
FORUM = {"id": GROUP, "title": "Khidmat agents", "type": "supergroup", "is_forum": True}
AGENT = {"id": 901, "is_bot": False, "first_name": "Bilal", "language_code": "en"}
BOT = {"id": 777000, "is_bot": True, "first_name": "Khidmat", "username": "khidmat_test_bot"}


def message(update_id=100, **fields):
    msg = {"message_id": 17, "from": USER, "chat": PRIVATE, "date": 1732350000}
    msg.update(fields)
    return {"update_id": update_id, "message": msg}


# ---- verify_secret -------------------------------------------------------------------------------------


def test_verify_secret():
    assert verify_secret("s3cret", "s3cret")
    assert not verify_secret("s3cret", "wrong") and not verify_secret("s3cret", None)
    assert not verify_secret("", "") and not verify_secret("", None)


# ---- parse_update --------------------------------------------------------------------------------------


def test_private_text():
    inbound = parse_update(message(text="Hello, where is my order?"))
    assert (inbound.channel, inbound.external_id, inbound.kind) == ("telegram", "100", "message")
    assert (inbound.chat_id, inbound.user_id, inbound.user_name) == (str(CUSTOMER), str(CUSTOMER), "Ayesha")
    assert (inbound.username, inbound.language_code, inbound.message_id) == ("ayesha_k", "ur", 17)
    assert inbound.text == "Hello, where is my order?" and not inbound.is_group
    assert inbound.thread_id is None and inbound.reply_to_message_id is None and inbound.media == []


def test_urdu_text_and_emoji_survive():
    text = "السلام علیکم! میرا آرڈر کہاں ہے؟ 📦🙏"
    assert parse_update(message(text=text)).text == text


def test_command():
    inbound = parse_update(message(text="/start ref_42", entities=[{"type": "bot_command", "offset": 0, "length": 6}]))
    assert inbound.kind == "command" and inbound.text == "/start ref_42"


def test_photo_with_caption_takes_the_largest_size():
    photo = [
        {"file_id": "small", "file_unique_id": "a", "width": 90, "height": 67, "file_size": 1200},
        {"file_id": "big", "file_unique_id": "b", "width": 1280, "height": 960, "file_size": 98000},
        {"file_id": "mid", "file_unique_id": "c", "width": 320, "height": 240, "file_size": 14000},
    ]
    inbound = parse_update(message(photo=photo, caption="damaged box"))
    assert inbound.kind == "message" and inbound.text == "damaged box"
    assert [(m.kind, m.file_id) for m in inbound.media] == [("photo", "big")]


def test_voice_document_sticker_animation():
    voice = parse_update(
        message(
            voice={"file_id": "V1", "file_unique_id": "v", "duration": 4, "mime_type": "audio/ogg", "file_size": 9000}
        )
    )
    assert voice.kind == "message" and voice.text == ""
    assert (voice.media[0].kind, voice.media[0].file_id, voice.media[0].content_type) == ("voice", "V1", "audio/ogg")
    doc = parse_update(
        message(
            document={
                "file_id": "D1",
                "file_unique_id": "d",
                "file_name": "invoice.pdf",
                "mime_type": "application/pdf",
            },
            caption="my invoice",
        )
    )
    assert (doc.media[0].kind, doc.media[0].file_name, doc.media[0].content_type) == (
        "document",
        "invoice.pdf",
        "application/pdf",
    )
    sticker = parse_update(
        message(
            sticker={
                "file_id": "S1",
                "file_unique_id": "s",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
                "emoji": "👍",
            }
        )
    )
    assert sticker.kind == "message" and sticker.media[0].kind == "sticker"
    gif = {
        "file_id": "A1",
        "file_unique_id": "a",
        "width": 200,
        "height": 200,
        "duration": 2,
        "file_name": "x.mp4",
        "mime_type": "video/mp4",
    }
    animation = parse_update(message(animation=gif, document=dict(gif)))
    assert [m.kind for m in animation.media] == ["animation"]


def test_location_and_contact_are_read_as_places():
    loc = parse_update(message(location={"latitude": 31.52, "longitude": 74.35}))
    assert (loc.kind, loc.place) == ("message", ("location", {"latitude": 31.52, "longitude": 74.35}))
    contact = parse_update(message(contact={"phone_number": "+923001234567", "first_name": "Ali", "last_name": "Raza"}))
    assert (contact.kind, contact.place) == ("message", ("contact", {"name": "Ali Raza", "phone": "+923001234567"}))


def test_forum_topic_message_drops_the_topic_creation_reply():
    created = {
        "message_id": 40,
        "from": BOT,
        "chat": FORUM,
        "date": 1732350000,
        "message_thread_id": 40,
        "is_topic_message": True,
        "forum_topic_created": {"name": "Ayesha #12", "icon_color": 7322096},
    }
    inbound = parse_update(
        {
            "update_id": 7,
            "message": {
                "message_id": 44,
                "from": AGENT,
                "chat": FORUM,
                "date": 1732350100,
                "message_thread_id": 40,
                "is_topic_message": True,
                "reply_to_message": created,
                "text": "Your parcel ships today",
            },
        }
    )
    assert inbound.is_group and inbound.thread_id == 40 and inbound.reply_to_message_id is None
    assert (inbound.chat_id, inbound.user_id, inbound.text) == (str(GROUP), "901", "Your parcel ships today")


def test_reply_inside_a_topic_keeps_its_reply():
    relayed = {
        "message_id": 42,
        "from": BOT,
        "chat": FORUM,
        "date": 1732350000,
        "message_thread_id": 40,
        "is_topic_message": True,
        "text": "Ayesha: where is my order?",
    }
    inbound = parse_update(
        {
            "update_id": 8,
            "message": {
                "message_id": 45,
                "from": AGENT,
                "chat": FORUM,
                "date": 1732350100,
                "message_thread_id": 40,
                "is_topic_message": True,
                "reply_to_message": relayed,
                "text": "Tomorrow",
            },
        }
    )
    assert inbound.thread_id == 40 and inbound.reply_to_message_id == 42


def test_reply_to_a_bot_message_in_a_plain_group():
    group = {"id": -1009, "title": "agents", "type": "supergroup"}
    bot_msg = {"message_id": 300, "from": BOT, "chat": group, "date": 1732350000, "text": "New ticket #3"}
    inbound = parse_update(
        {
            "update_id": 9,
            "message": {
                "message_id": 301,
                "from": AGENT,
                "chat": group,
                "date": 1732350050,
                "reply_to_message": bot_msg,
                "text": "On it",
            },
        }
    )
    assert inbound.is_group and inbound.reply_to_message_id == 300 and inbound.thread_id is None


def test_edited_message():
    update = {
        "update_id": 11,
        "edited_message": {
            "message_id": 17,
            "from": USER,
            "chat": PRIVATE,
            "date": 1732350000,
            "edit_date": 1732350100,
            "text": "fixed typo",
        },
    }
    inbound = parse_update(update)
    assert (inbound.kind, inbound.text, inbound.message_id) == ("edited", "fixed typo", 17)


def test_callback_query():
    button_msg = {
        "message_id": 50,
        "from": BOT,
        "chat": PRIVATE,
        "date": 1732350000,
        "text": "Rate us",
        "reply_markup": {"inline_keyboard": [[{"text": "5", "callback_data": "rate:5"}]]},
    }
    inbound = parse_update(
        {
            "update_id": 12,
            "callback_query": {
                "id": "4382bfdwdsb323b2d9",
                "from": USER,
                "message": button_msg,
                "chat_instance": "-77",
                "data": "rate:5",
            },
        }
    )
    assert (inbound.kind, inbound.callback_id, inbound.callback_data) == ("callback", "4382bfdwdsb323b2d9", "rate:5")
    assert (inbound.chat_id, inbound.message_id, inbound.user_id) == (str(CUSTOMER), 50, str(CUSTOMER))


def test_my_chat_member_kicked():
    inbound = parse_update(
        {
            "update_id": 13,
            "my_chat_member": {
                "chat": PRIVATE,
                "from": USER,
                "date": 1732350000,
                "old_chat_member": {"user": BOT, "status": "member"},
                "new_chat_member": {"user": BOT, "status": "kicked", "until_date": 0},
            },
        }
    )
    assert (inbound.kind, inbound.text, inbound.chat_id) == ("member", "kicked", str(CUSTOMER))


def test_group_migrated_to_supergroup():
    group = {"id": -4001, "title": "agents", "type": "group", "all_members_are_administrators": True}
    inbound = parse_update(
        {
            "update_id": 14,
            "message": {
                "message_id": 9,
                "from": AGENT,
                "chat": group,
                "date": 1732350000,
                "migrate_to_chat_id": -1004001,
            },
        }
    )
    assert (inbound.kind, inbound.chat_id, inbound.migrate_to_chat_id) == ("member", "-4001", -1004001)


def test_poll_and_dice_are_unsupported_service_messages_ignored():
    option = {"persistent_id": "o1", "text": "a", "voter_count": 0}
    poll = parse_update(
        message(
            poll={
                "id": "1",
                "question": "?",
                "options": [option],
                "total_voter_count": 0,
                "is_closed": False,
                "is_anonymous": True,
                "type": "regular",
                "allows_multiple_answers": False,
            }
        )
    )
    assert (poll.kind, poll.unsupported_kind) == ("unsupported", "poll")
    dice = parse_update(message(dice={"emoji": "🎲", "value": 4}))
    assert (dice.kind, dice.unsupported_kind) == ("unsupported", "dice")
    joined = parse_update(
        {
            "update_id": 15,
            "message": {"message_id": 2, "from": AGENT, "chat": FORUM, "date": 1732350000, "new_chat_members": [BOT]},
        }
    )
    assert joined.kind == "ignored"
    future = parse_update(message(brand_new_kind={"x": 1}))
    assert (future.kind, future.unsupported_kind) == ("unsupported", "brand_new_kind")
    # a shape python-telegram-bot refuses (older poll without persistent_id) is still reported, not dropped
    old_poll = parse_update(message(poll={"id": "1", "question": "?", "options": [{"text": "a", "voter_count": 0}]}))
    assert (old_poll.kind, old_poll.unsupported_kind, old_poll.chat_id) == ("unsupported", "poll", str(CUSTOMER))


def test_odd_but_well_formed_updates_do_not_raise():
    assert parse_update(message(text="")).kind == "message"
    anonymous = parse_update(
        {
            "update_id": 16,
            "message": {
                "message_id": 3,
                "chat": FORUM,
                "date": 1732350000,
                "sender_chat": FORUM,
                "text": "from the group itself",
            },
        }
    )
    assert anonymous.user_id is None and anonymous.user_name == "Khidmat agents"
    assert (
        parse_update({"update_id": 17, "inline_query": {"id": "1", "from": USER, "query": "", "offset": ""}}).kind
        == "ignored"
    )
    assert parse_update({"update_id": 18}).kind == "ignored"


@pytest.mark.parametrize(
    "bad",
    [
        None,
        [],
        "x",
        {},
        {"update_id": "5"},
        {"update_id": True},
        {"update_id": 5, "message": {"text": "no chat or id"}},
    ],
)
def test_malformed_is_value_error(bad):
    with pytest.raises(ValueError):
        parse_update(bad)


# ---- TelegramBot.send against the stand-in --------------------------------------------------------------


@pytest.fixture(scope="module")
def server():
    standin = TelegramStandin().start()
    yield standin
    standin.stop()


@pytest.fixture
def tg(server):
    server.reset()
    return server


def settings_for(tg, timeout_s=5):
    return Settings({"telegram": {"token": tg.token, "api_base_url": tg.base_url, "timeout_s": timeout_s}})


def run(tg, scenario, timeout_s=5):
    """`await scenario(bot)` with a TelegramBot made (and closed) inside this event loop."""

    async def main():
        bot = TelegramBot(settings_for(tg, timeout_s))
        try:
            return await scenario(bot)
        finally:
            await bot.close()

    return asyncio.run(main())


def send(tg, out, timeout_s=5, **kw):
    return run(tg, lambda bot: bot.send(out, **kw), timeout_s)


def test_unconfigured_bot():
    bot = TelegramBot(Settings({"telegram": {"token": "", "api_base_url": "http://127.0.0.1:9", "timeout_s": 1}}))
    assert not bot.configured
    result = asyncio.run(bot.send(Outbound("telegram", "1", text="hi")))
    assert (result.status, result.reason) == (FAILED, "unauthorized")


def test_plain_text_is_sent_plain(tg):
    text = "<b>not bold</b> *nor this* _x_ [link](http://x)"
    result = send(tg, Outbound("telegram", str(CUSTOMER), text=text))
    assert (result.status, result.message_ids, result.parts_sent) == (SENT, ["1"], 1)
    assert tg.sent()[0]["text"] == text and "parse_mode" not in tg.calls[0]["params"]


def test_long_text_is_split_in_order(tg):
    text = "".join(f"سطر {i}: آپ کا آرڈر راستے میں ہے۔ line {i}\n" for i in range(400))[:9000]
    assert len(text) == 9000
    result = send(tg, Outbound("telegram", str(CUSTOMER), text=text, reply_to_message_id=None))
    parts = [m["text"] for m in tg.sent(CUSTOMER)]
    assert len(parts) == 3 and all(len(p) <= 4096 for p in parts) and "".join(parts) == text
    assert result.message_ids == ["1", "2", "3"] and result.parts_sent == 3


def test_long_reply_replies_with_its_first_part_only(tg):
    customer_msg = tg.incoming(CUSTOMER, "question")["message"]["message_id"]
    send(tg, Outbound("telegram", str(CUSTOMER), text="x " * 3000, reply_to_message_id=customer_msg))
    assert [m["reply_to"] for m in tg.sent()] == [customer_msg, None]


def test_failure_midway_reports_parts_and_a_retry_continues(tg):
    out = Outbound("telegram", str(CUSTOMER), text="a" * 4096 + "b" * 4096 + "c" * 100)

    async def scenario(bot):
        first = await bot.send(replace(out, text="a" * 4096))  # part 1 of `out`, as an earlier attempt sent it
        tg.fail_next("sendMessage", retry_after=2)
        failed = await bot.send(out, skip_parts=1)
        resumed = await bot.send(out, skip_parts=failed.parts_sent)
        return first, failed, resumed

    _first, failed, resumed = run(tg, scenario)
    assert (failed.status, failed.retry_after, failed.parts_sent, failed.message_ids) == (RETRY, 2, 1, [])
    assert (resumed.status, resumed.parts_sent, resumed.message_ids) == (SENT, 3, ["2", "3"])
    assert "".join(m["text"] for m in tg.sent(CUSTOMER)) == out.text


def test_part_failure_after_first_part(tg):
    tg.enforce_rate(chat_per_s=1)  # the second part, sent at once, is refused with 429
    result = send(tg, Outbound("telegram", str(CUSTOMER), text="x" * 5000))
    assert (result.status, result.parts_sent, result.message_ids, result.retry_after) == (RETRY, 1, ["1"], 1)


def test_caption_overflow_sends_media_then_text(tg):
    long_text = "تفصیل " * 300  # 2100 characters: too long for a caption
    result = send(tg, Outbound("telegram", str(CUSTOMER), text=long_text, media=[Media("photo", file_id="PH1")]))
    sent = tg.sent()
    assert [m["method"] for m in sent] == ["sendPhoto", "sendMessage"]
    assert sent[0]["caption"] is None and sent[1]["text"] == long_text and len(result.message_ids) == 2


def test_short_caption_and_uploaded_bytes(tg):
    media = [Media("document", data=b"%PDF-1.4 fake", file_name="invoice.pdf"), Media("voice", file_id="VO1")]
    result = send(tg, Outbound("telegram", str(CUSTOMER), text="your invoice", media=media))
    sent = tg.sent()
    assert [(m["method"], m["caption"]) for m in sent] == [("sendDocument", "your invoice"), ("sendVoice", None)]
    assert (sent[0]["upload_size"], sent[0]["file_name"], sent[1]["file_id"]) == (13, "invoice.pdf", "VO1")
    assert result.status == SENT and len(result.message_ids) == 2


def test_sticker_text_goes_after_it(tg):
    send(tg, Outbound("telegram", str(CUSTOMER), text="thanks!", media=[Media("sticker", file_id="ST")]))
    assert [(m["method"], m["text"]) for m in tg.sent()] == [("sendSticker", None), ("sendMessage", "thanks!")]


def test_copy(tg):
    source = tg.incoming(CUSTOMER, "photo of the receipt")["message"]["message_id"]
    tg.set_forum(GROUP)
    thread = tg.add_topic(GROUP, "Ayesha")
    result = send(
        tg,
        Outbound(
            "telegram",
            str(GROUP),
            method="copy",
            copy_from_chat_id=str(CUSTOMER),
            copy_message_id=source,
            thread_id=thread,
        ),
    )
    assert result.status == SENT and tg.sent(GROUP, thread_id=thread)[0]["text"] == "photo of the receipt"


def test_rate_limited_is_retry_with_retry_after(tg):
    tg.fail_next("sendMessage", retry_after=7)
    result = send(tg, Outbound("telegram", str(CUSTOMER), text="hi"))
    assert (result.status, result.retry_after) == (RETRY, 7) and tg.too_many == 1


def test_blocked_is_gone(tg):
    tg.block_chat(CUSTOMER)
    result = send(tg, Outbound("telegram", str(CUSTOMER), text="hi"))
    assert (result.status, result.reason) == (GONE, BLOCKED) and "blocked" in result.detail


def test_chat_not_found_is_gone_invalid(tg):
    tg.unknown_chat(CUSTOMER)
    result = send(tg, Outbound("telegram", str(CUSTOMER), text="hi"))
    assert (result.status, result.reason) == (GONE, INVALID_ADDRESS)


def test_migrated_group(tg):
    tg.migrate_chat(-4001, -1004001)
    result = send(tg, Outbound("telegram", "-4001", text="hi"))
    assert (result.status, result.migrate_to_chat_id, result.retry_after) == (RETRY, -1004001, 0)


def test_missing_reply_target_is_delivered_without_reply(tg):
    result = send(tg, Outbound("telegram", str(CUSTOMER), text="answer", reply_to_message_id=999))
    assert result.status == SENT
    assert [(m["text"], m["reply_to"]) for m in tg.sent()] == [("answer", None)]


def test_topics(tg):
    result = send(tg, Outbound("telegram", str(GROUP), method="create_topic", topic_name="x"))
    assert (result.status, result.reason) == (FAILED, "no_topics")
    tg.set_forum(GROUP, can_manage_topics=False)
    result = send(tg, Outbound("telegram", str(GROUP), method="create_topic", topic_name="x"))
    assert (result.status, result.reason) == (FAILED, "no_topics") and "rights" in result.detail
    tg.set_forum(GROUP)
    created = send(tg, Outbound("telegram", str(GROUP), method="create_topic", topic_name="Ayesha " + "x" * 200))
    assert created.status == SENT and created.thread_id and created.message_ids == []
    assert tg.topics(GROUP)[created.thread_id]["name"] == ("Ayesha " + "x" * 200)[:128]
    for method in ("edit_topic", "close_topic", "reopen_topic"):
        done = send(
            tg, Outbound("telegram", str(GROUP), method=method, thread_id=created.thread_id, topic_name="Ayesha ✅")
        )
        assert done.status == SENT, done
    assert tg.topics(GROUP)[created.thread_id]["name"] == "Ayesha ✅"
    tg.delete_topic(GROUP, created.thread_id)
    gone = send(tg, Outbound("telegram", str(GROUP), text="hi", thread_id=created.thread_id))
    assert (gone.status, gone.reason) == (FAILED, "thread_gone")


def test_other_bad_request(tg):
    result = send(tg, Outbound("telegram", str(CUSTOMER), text="   "))
    assert (result.status, result.reason) == (FAILED, "bad_request") and "empty" in result.detail.lower()


def test_server_errors_and_timeouts_are_retry(tg):
    tg.set_down(502)
    result = send(tg, Outbound("telegram", str(CUSTOMER), text="hi"))
    assert (result.status, result.retry_after) == (RETRY, None)
    tg.set_up()
    tg.set_delay(0.5)
    slow = send(tg, Outbound("telegram", str(CUSTOMER), text="slow"), timeout_s=0.1)
    tg.set_delay(0)
    assert (slow.status, slow.retry_after) == (RETRY, None)
    tg.wait_for(1)  # the stand-in finishes the abandoned call before the next test


def test_wrong_token_is_unauthorized(tg):
    async def scenario(bot):
        return await bot.send(Outbound("telegram", str(CUSTOMER), text="hi"))

    bot_settings = Settings({"telegram": {"token": "1:WRONG", "api_base_url": tg.base_url, "timeout_s": 5}})

    async def main():
        bot = TelegramBot(bot_settings)
        try:
            return await scenario(bot)
        finally:
            await bot.close()

    result = asyncio.run(main())
    assert (result.status, result.reason) == (FAILED, "unauthorized")


def test_helpers(tg):
    tg.read_all_group_messages = False
    tg.set_forum(GROUP)
    tg.add_file("F1", b"hello bytes", "documents/f1.txt")

    async def scenario(bot):
        me = await bot.get_me()
        chat = await bot.get_chat(str(GROUP))
        hooked = await bot.set_webhook("https://shop.example/tg", "s3cret")
        data = await bot.download_file("F1")
        answered = await bot.answer_callback("cbq-1", "Thanks")
        return me, chat, hooked, data, answered

    me, chat, hooked, data, answered = run(tg, scenario)
    tg.read_all_group_messages = True
    assert me == {
        "id": tg.bot_id,
        "username": "khidmat_test_bot",
        "first_name": "Khidmat",
        "can_join_groups": True,
        "can_read_all_group_messages": False,
    }
    assert chat["id"] == GROUP and chat["type"] == "supergroup" and chat["is_forum"] is True
    assert hooked and tg.webhook == {
        "url": "https://shop.example/tg",
        "secret_token": "s3cret",
        "allowed_updates": ALLOWED_UPDATES,
    }
    assert data == b"hello bytes" and answered is True
