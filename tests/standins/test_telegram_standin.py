"""The Telegram stand-in answers like the Bot API: python-telegram-bot parses its results and raises the
exceptions real Telegram would cause."""

import asyncio
import warnings
from datetime import timedelta

import httpx
import pytest
import telegram
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from tests.standins.telegram_api import TelegramStandin

CUSTOMER, GROUP = 5550001, -1001234567890


@pytest.fixture(scope="module")
def server():
    standin = TelegramStandin().start()
    yield standin
    standin.stop()


@pytest.fixture
def tg(server):
    server.reset()
    server.read_all_group_messages = True
    return server


def run(tg, scenario, timeout=5.0):
    """Run `await scenario(bot)` against the stand-in with a fresh PTB Bot."""

    async def main():
        request = HTTPXRequest(read_timeout=timeout, connect_timeout=timeout, write_timeout=timeout)
        bot = telegram.Bot(
            tg.token, base_url=f"{tg.base_url}/bot", base_file_url=f"{tg.base_url}/file/bot", request=request
        )
        try:
            return await scenario(bot)
        finally:
            await request.shutdown()

    return asyncio.run(main())


def seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else value


def test_get_me_and_privacy_flag(tg):
    tg.read_all_group_messages = False
    me = run(tg, lambda bot: bot.get_me())
    assert (me.id, me.username, me.is_bot) == (tg.bot_id, "khidmat_test_bot", True)
    assert me.can_read_all_group_messages is False


def test_send_message_ids_count_per_chat_and_are_recorded(tg):
    async def scenario(bot):
        first = await bot.send_message(CUSTOMER, "123")
        second = await bot.send_message(str(CUSTOMER), "سلام، آپ کا آرڈر", reply_to_message_id=first.message_id)
        other = await bot.send_message(42, "hi")
        return first, second, other

    first, second, other = run(tg, scenario)
    assert (first.message_id, second.message_id, other.message_id) == (1, 2, 1)
    assert first.text == "123" and first.chat.type == "private" and first.from_user.id == tg.bot_id
    assert second.reply_to_message.message_id == 1
    sent = tg.sent(CUSTOMER)
    assert [m["text"] for m in sent] == ["123", "سلام، آپ کا آرڈر"]
    assert sent[1]["reply_to"] == 1 and sent[0]["chat_id"] == str(CUSTOMER)
    assert [c["method"] for c in tg.calls] == ["sendMessage"] * 3


def test_uploads_and_downloads(tg):
    data = b"%PDF\r\n--not-a-boundary\r\n\r\n\x00\xff" * 100
    tg.add_file("KNOWN", b"voice bytes", "voice/file_9.oga")

    async def scenario(bot):
        doc = await bot.send_document(CUSTOMER, data, filename="invoice.pdf", caption="your invoice")
        file = await bot.get_file(doc.document.file_id)
        known = await (await bot.get_file("KNOWN")).download_as_bytearray()
        return doc, bytes(await file.download_as_bytearray()), bytes(known)

    doc, downloaded, known = run(tg, scenario)
    assert doc.caption == "your invoice" and doc.document.file_name == "invoice.pdf"
    assert downloaded == data and known == b"voice bytes"
    sent = tg.sent()[0]
    assert (sent["method"], sent["upload_size"], sent["file_name"]) == ("sendDocument", len(data), "invoice.pdf")


def test_every_media_kind_parses(tg):
    async def scenario(bot):
        results = {}
        for kind in ("photo", "video", "voice", "audio", "document", "sticker", "animation", "video_note"):
            message = await getattr(bot, "send_" + kind)(CUSTOMER, **{kind: "FILE-" + kind})
            results[kind] = getattr(message, kind)
        album = await bot.send_media_group(
            CUSTOMER,
            [telegram.InputMediaPhoto("A", caption="two"), telegram.InputMediaPhoto(b"jpeg", filename="b.jpg")],
        )
        return results, album

    results, album = run(tg, scenario)
    assert all(results.values())
    assert results["photo"][-1].file_id == "FILE-photo"
    assert [m.message_id for m in album] == [9, 10] and album[0].media_group_id == album[1].media_group_id
    assert tg.sent()[-1]["upload_size"] == 4


def test_copy_and_forward_known_messages_only(tg):
    update = tg.incoming(CUSTOMER, "my parcel is late")
    source = update["message"]["message_id"]

    async def scenario(bot):
        copied = await bot.copy_message(GROUP, CUSTOMER, source)
        forwarded = await bot.forward_message(GROUP, CUSTOMER, source)
        with pytest.raises(BadRequest, match="not found"):
            await bot.copy_message(GROUP, CUSTOMER, 999)
        return copied, forwarded

    copied, forwarded = run(tg, scenario)
    assert copied.message_id == 1 and forwarded.text == "my parcel is late"
    assert [m["text"] for m in tg.sent(GROUP)] == ["my parcel is late"] * 2


def test_validation_errors(tg):
    async def scenario(bot):
        with pytest.raises(BadRequest, match="(?i)message text is empty"):
            await bot.send_message(CUSTOMER, "   ")
        with pytest.raises(BadRequest, match="(?i)message is too long"):
            await bot.send_message(CUSTOMER, "x" * 4097)
        await bot.send_message(CUSTOMER, "x" * 4096)
        with pytest.raises(BadRequest, match="(?i)caption is too long"):
            await bot.send_photo(CUSTOMER, "P", caption="c" * 1025)
        with pytest.raises(BadRequest, match="(?i)message to be replied not found"):
            await bot.send_message(CUSTOMER, "hi", reply_to_message_id=77)
        ok = await bot.send_message(CUSTOMER, "hi", reply_to_message_id=77, allow_sending_without_reply=True)
        assert ok.reply_to_message is None

    run(tg, scenario)
    assert tg.errors == 4 and len(tg.sent()) == 2


def test_forum_topics(tg):
    async def scenario(bot):
        with pytest.raises(BadRequest, match="(?i)not a forum"):
            await bot.create_forum_topic(GROUP, "Ticket 1")
        tg.set_forum(GROUP, can_manage_topics=False)
        with pytest.raises(BadRequest, match="(?i)not enough rights"):
            await bot.create_forum_topic(GROUP, "Ticket 1")
        tg.set_forum(GROUP)
        await bot.send_message(GROUP, "before")
        topic = await bot.create_forum_topic(GROUP, "Ticket 1")
        inside = await bot.send_message(GROUP, "in topic", message_thread_id=topic.message_thread_id)
        assert await bot.edit_forum_topic(GROUP, topic.message_thread_id, name="Ticket 1 (done)")
        assert await bot.close_forum_topic(GROUP, topic.message_thread_id)
        with pytest.raises(BadRequest, match="(?i)message thread not found"):
            await bot.send_message(GROUP, "x", message_thread_id=999)
        tg.delete_topic(GROUP, topic.message_thread_id)
        with pytest.raises(BadRequest, match="(?i)message thread not found"):
            await bot.send_message(GROUP, "x", message_thread_id=topic.message_thread_id)
        chat = await bot.get_chat(GROUP)
        member = await bot.get_chat_member(GROUP, tg.bot_id)
        return topic, inside, chat, member

    topic, inside, chat, member = run(tg, scenario)
    assert topic.message_thread_id == 2 and topic.name == "Ticket 1"  # the topic consumed message id 2
    assert inside.message_id == 3 and inside.is_topic_message and inside.message_thread_id == 2
    assert inside.chat.type == "supergroup" and chat.is_forum and member.status == "administrator"
    assert tg.topics(GROUP)[2] == {"name": "Ticket 1 (done)", "icon_color": 7322096, "closed": True, "deleted": True}
    assert tg.sent(GROUP, thread_id=2)[0]["text"] == "in topic"


def test_faults_raise_the_exceptions_telegram_causes(tg):
    tg.fail_next("sendMessage", times=2, retry_after=3)
    tg.block_chat(111)
    tg.unknown_chat(222)
    tg.migrate_chat(-333, -1000333)

    async def scenario(bot):
        for _ in range(2):
            with pytest.raises(RetryAfter) as info:
                await bot.send_message(CUSTOMER, "hi")
            assert seconds(info.value) == 3
        await bot.send_message(CUSTOMER, "now it goes")
        with pytest.raises(Forbidden, match="blocked"):
            await bot.send_message(111, "hi")
        with pytest.raises(BadRequest, match="(?i)chat not found"):
            await bot.send_message(222, "hi")
        with pytest.raises(ChatMigrated) as migrated:
            await bot.send_message(-333, "hi")
        assert migrated.value.new_chat_id == -1000333
        tg.fail_next(chat_id=CUSTOMER, status=403, description="Forbidden: user is deactivated")
        await bot.send_message(444, "other chats are not affected")
        with pytest.raises(Forbidden, match="deactivated"):
            await bot.send_message(CUSTOMER, "hi")

    run(tg, scenario)
    assert tg.too_many == 2 and tg.errors == 6


def test_outage_and_slowness(tg):
    async def outage(bot):
        tg.set_down(502)
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(CUSTOMER, "hi")
        tg.set_up()
        tg.set_down(503, seconds=0.2)
        with pytest.raises(NetworkError):
            await bot.get_me()
        await asyncio.sleep(0.3)
        return await bot.send_message(CUSTOMER, "back")

    assert run(tg, outage).text == "back"
    tg.set_delay(0.5)
    with pytest.raises(TimedOut):
        run(tg, lambda bot: bot.send_message(CUSTOMER, "slow"), timeout=0.1)
    tg.set_delay(0)
    tg.wait_for(lambda m: m["text"] == "slow")  # the stand-in still answers, to a client that left


def test_rate_limits(tg):
    tg.enforce_rate(chat_per_s=1, group_per_min=2)

    async def scenario(bot):
        await bot.send_message(CUSTOMER, "one")
        with pytest.raises(RetryAfter) as info:
            await bot.send_message(CUSTOMER, "two")
        assert seconds(info.value) == 1
        await bot.send_message(CUSTOMER + 1, "another chat")
        await bot.send_message(GROUP, "g1")
        await asyncio.sleep(1.05)
        await bot.send_message(GROUP, "g2")
        await asyncio.sleep(1.05)
        with pytest.raises(RetryAfter) as info:
            await bot.send_message(GROUP, "g3")
        assert 50 <= seconds(info.value) <= 60

    run(tg, scenario)
    assert tg.too_many == 2, tg.calls


def test_wrong_token_unknown_method_and_raw_http(tg):
    async def scenario(bot):
        with pytest.raises(InvalidToken, match="does not exist"):  # PTB says so for a 404
            await bot.do_api_request("noSuchMethod")

    run(tg, scenario)
    with pytest.raises(InvalidToken):
        asyncio.run(telegram.Bot("9:WRONG", base_url=f"{tg.base_url}/bot").get_me())
    with httpx.Client(base_url=f"{tg.base_url}/bot{tg.token}") as http:
        answer = http.post(
            "/sendMessage",
            json={
                "chat_id": CUSTOMER,
                "text": "json body",
                "reply_parameters": {"message_id": 5, "allow_sending_without_reply": True},
            },
        )
        assert answer.json()["result"]["text"] == "json body"
        assert http.get("/getMe", params={}).json()["result"]["username"] == "khidmat_test_bot"
        assert http.post("/sendMessage", data={"chat_id": str(CUSTOMER), "text": "form"}).json()["ok"]
        unauthorized = httpx.post(f"{tg.base_url}/botBAD/getMe")
        assert unauthorized.status_code == 401
        assert unauthorized.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
        missing = http.post("/fooBar")
        assert missing.status_code == 404 and missing.json()["description"] == "Not Found"
    assert [m["text"] for m in tg.sent(CUSTOMER)] == ["json body", "form"]


def test_webhook_settings_are_recorded(tg):
    async def scenario(bot):
        await bot.set_webhook(
            "https://shop.example/telegram", secret_token="s3cret", allowed_updates=["message", "callback_query"]
        )
        return await bot.get_webhook_info()

    info = run(tg, scenario)
    assert tg.webhook == {
        "url": "https://shop.example/telegram",
        "secret_token": "s3cret",
        "allowed_updates": ["message", "callback_query"],
    }
    assert info.url == "https://shop.example/telegram"


def test_incoming_topic_message_replies_to_topic_creation(tg):
    thread = tg.add_topic(GROUP, "Ticket 7")
    update = tg.incoming(GROUP, "agent answer", user_id=99, thread_id=thread)
    message = telegram.Update.de_json(update, None).message
    assert message.is_topic_message and message.reply_to_message.forum_topic_created.name == "Ticket 7"


def test_wait_for(tg):
    with pytest.raises(AssertionError, match="waited"):
        tg.wait_for(1, timeout=0.05)
    run(tg, lambda bot: bot.send_message(CUSTOMER, "hello"))
    assert tg.wait_for(lambda m: m["text"] == "hello")[0]["chat_id"] == str(CUSTOMER)
    assert len(tg.wait_for(1)) == 1


def test_missing_chat_id(tg):
    with httpx.Client(base_url=f"{tg.base_url}/bot{tg.token}") as http:
        answer = http.post("/sendMessage", data={"text": "to nobody"}).json()
    assert answer == {"ok": False, "error_code": 400, "description": "Bad Request: chat_id is empty"}
