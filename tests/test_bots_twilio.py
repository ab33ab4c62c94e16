"""bots/twilio.py against the Twilio stand-in (a real HTTP server on loopback)."""

import threading

import pytest
import requests
from flask import Flask, request
from werkzeug.datastructures import MultiDict
from werkzeug.serving import make_server

import config
from bots import twilio
from bots.base import (
    BLOCKED,
    FAILED,
    GONE,
    INVALID_ADDRESS,
    OUTSIDE_WINDOW,
    RETRY,
    SENT,
    SMS,
    UNSUBSCRIBED,
    WHATSAPP,
    Media,
    Outbound,
    split_text,
)
from tests.standins.twilio_api import TwilioStandin, inbound_form, sign

SHOP_WA = "whatsapp:+14155238886"
SHOP_SMS = "+15005550006"
CUSTOMER = "+923001234567"
URDU = "السلام علیکم، میرا آرڈر ابھی تک نہیں پہنچا۔ براہ کرم جلد از جلد بتائیں کہ یہ کب آئے گا؟"
WEBHOOK = "https://shop.example.com/twilio/inbound"


@pytest.fixture(scope="module")
def server():
    standin = TwilioStandin().start()
    yield standin
    standin.stop()


@pytest.fixture
def api(server):
    server.clear()
    return server


def make_bot(api, **changes):
    cfg = {
        "account_sid": api.account_sid,
        "auth_token": api.auth_token,
        "api_base_url": api.base_url,
        "whatsapp_from": SHOP_WA,
        "sms_from": SHOP_SMS,
        "timeout_s": 5,
    }
    cfg.update(changes)
    return twilio.TwilioBot(config.load(environ={}, overrides={f"twilio.{k}": v for k, v in cfg.items()}))


@pytest.fixture
def bot(api):
    return make_bot(api)


# ---- signatures ----------------------------------------------------------------------------


def test_signature_valid_invalid_forged():
    form = inbound_form(CUSTOMER, "Hello", SHOP_SMS)
    signature = sign("secret", WEBHOOK, form)
    assert twilio.verify_signature("secret", WEBHOOK, form, signature)
    assert twilio.verify_signature("secret", WEBHOOK, MultiDict(form), signature)
    assert not twilio.verify_signature("other", WEBHOOK, form, signature)  # wrong token
    assert not twilio.verify_signature("secret", WEBHOOK, dict(form, Body="Hacked"), signature)  # forged body
    assert not twilio.verify_signature("secret", WEBHOOK + "x", form, signature)  # other URL
    assert not twilio.verify_signature("secret", WEBHOOK, form, "")
    assert not twilio.verify_signature("", WEBHOOK, form, signature)


def test_signature_repeated_keys():
    params = MultiDict([("Tag", "b"), ("Tag", "a"), ("Body", "x")])
    signature = sign("secret", WEBHOOK, params)
    assert twilio.verify_signature("secret", WEBHOOK, params, signature)
    assert twilio.verify_signature("secret", WEBHOOK, {"Tag": ["a", "b"], "Body": "x"}, signature)
    assert not twilio.verify_signature("secret", WEBHOOK, {"Tag": "a", "Body": "x"}, signature)


# ---- parsing -------------------------------------------------------------------------------


def test_parse_inbound_sms():
    form = inbound_form(CUSTOMER, "Where is my order?", SHOP_SMS)
    inbound = twilio.parse_inbound(form)
    assert (inbound.channel, inbound.kind, inbound.chat_id, inbound.user_id) == (SMS, "message", CUSTOMER, CUSTOMER)
    assert inbound.external_id == form["MessageSid"] and inbound.external_id.startswith("SM")
    assert inbound.text == "Where is my order?" and inbound.media == [] and inbound.user_name == ""
    assert inbound.to_address == SHOP_SMS


def test_parse_inbound_whatsapp_with_media():
    media = [
        ("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", "image/jpeg"),
        ("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME2", "audio/ogg"),
        ("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME3", "application/pdf"),
    ]
    form = inbound_form(CUSTOMER, "broken", SHOP_WA, profile_name="Ayesha", media=media, whatsapp=True)
    inbound = twilio.parse_inbound(MultiDict(form))
    assert inbound.channel == WHATSAPP and inbound.kind == "message"
    assert inbound.chat_id == "whatsapp:" + CUSTOMER and inbound.user_id == CUSTOMER
    assert inbound.user_name == "Ayesha" and inbound.to_address == SHOP_WA
    assert [(m.kind, m.url, m.content_type) for m in inbound.media] == [
        ("photo", media[0][0], "image/jpeg"),
        ("voice", media[1][0], "audio/ogg"),
        ("document", media[2][0], "application/pdf"),
    ]


def test_parse_inbound_urdu_and_empty():
    assert twilio.parse_inbound(inbound_form(CUSTOMER, URDU, SHOP_SMS)).text == URDU
    empty = twilio.parse_inbound(inbound_form(CUSTOMER, "", SHOP_WA, whatsapp=True))
    assert empty.kind == "ignored" and empty.text == ""
    location = dict(
        inbound_form(CUSTOMER, "", SHOP_WA, whatsapp=True), MessageType="location", Latitude="24.86", Longitude="67.01"
    )
    parsed = twilio.parse_inbound(location)
    assert (parsed.kind, parsed.unsupported_kind) == ("unsupported", "location")
    with pytest.raises(ValueError):
        twilio.parse_inbound({"From": CUSTOMER, "Body": "x"})
    with pytest.raises(ValueError):
        twilio.parse_inbound({"MessageSid": "SM1", "Body": "x"})


def test_parse_status():
    delivered = twilio.parse_status({"MessageSid": "SM1", "MessageStatus": "delivered"})
    assert (delivered.message_sid, delivered.status, delivered.error_code) == ("SM1", "delivered", None)
    update = twilio.parse_status({"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30003"})
    assert update.error_code == 30003 and update.failure == twilio.classify_error(30003, None)
    stopped = twilio.parse_status({"MessageSid": "SM1", "MessageStatus": "failed", "ErrorCode": "21610"})
    assert stopped.failure == twilio.classify_error(21610, None) and stopped.failure[0] == "gone"
    odd = twilio.parse_status({"MessageSid": "SM1", "MessageStatus": "failed", "ErrorCode": "x1"})
    assert odd.error_code is None  # a code that is not a number is no code (it used to raise)
    with pytest.raises(ValueError):
        twilio.parse_status({"MessageSid": "SM1"})
    with pytest.raises(ValueError):
        twilio.parse_status({"MessageStatus": "sent"})


def test_classify_error():
    assert twilio.classify_error(20429, 429) == (RETRY, "rate")
    assert twilio.classify_error(None, 503)[0] == RETRY
    assert twilio.classify_error(21611, 400)[0] == RETRY
    assert twilio.classify_error(21610, 400) == (GONE, UNSUBSCRIBED)
    assert twilio.classify_error(30006, None) == (GONE, INVALID_ADDRESS)
    assert twilio.classify_error(63016, None) == (GONE, OUTSIDE_WINDOW)
    assert twilio.classify_error(63014, None) == (GONE, BLOCKED)
    assert twilio.classify_error(30003, None) == (FAILED, "unreachable")
    assert twilio.classify_error(12345, 400) == (FAILED, "twilio_12345")


# ---- sending -------------------------------------------------------------------------------


def test_send_sms(api, bot):
    result = bot.send(Outbound(SMS, CUSTOMER, "Your ticket is #42", status_callback="https://shop/status"))
    assert result.status == SENT and result.parts_sent == 1
    [message] = api.sent(CUSTOMER)
    assert result.message_ids == [message["sid"]]
    assert (message["from"], message["body"], message["status_callback"]) == (
        SHOP_SMS,
        "Your ticket is #42",
        "https://shop/status",
    )


def test_send_long_text_in_ordered_parts(api, bot):
    text = " ".join(f"word{i}" for i in range(700))[:3500]
    assert len(text) == 3500
    result = bot.send(Outbound(WHATSAPP, "whatsapp:" + CUSTOMER, text))
    bodies = [m["body"] for m in api.sent("whatsapp:" + CUSTOMER)]
    assert result.status == SENT and len(bodies) == 3 == result.parts_sent == len(result.message_ids)
    assert all(len(b) <= 1600 for b in bodies) and "".join(bodies) == text
    assert [m["sid"] for m in api.sent()] == result.message_ids
    assert api.sent()[0]["from"] == SHOP_WA


def test_send_urdu(api, bot):
    assert bot.send(Outbound(SMS, CUSTOMER, URDU)).status == SENT
    [message] = api.sent()
    assert message["body"] == URDU and message["segments"] == 2  # UCS-2: 70 alone, 67 per part


def test_send_media_on_first_part(api, bot):
    media = [Media("photo", url=f"https://cdn.example.com/{i}.jpg") for i in range(12)]
    result = bot.send(Outbound(WHATSAPP, "whatsapp:" + CUSTOMER, "x" * 2000, media=media))
    first, second = api.sent()
    assert result.status == SENT and len(first["media_urls"]) == 10 and second["media_urls"] == []


def test_send_unsubscribed(api, bot):
    api.opt_out(CUSTOMER)
    result = bot.send(Outbound(SMS, CUSTOMER, "offer"))
    assert (result.status, result.reason) == (GONE, UNSUBSCRIBED) and "21610" in result.detail
    assert api.sent() == []


def test_send_invalid_number(bot):
    result = bot.send(Outbound(SMS, "0300-1234567", "hi"))
    assert (result.status, result.reason) == (GONE, INVALID_ADDRESS)


def test_send_outside_window_and_template(api, bot):
    api.close_window(CUSTOMER)
    result = bot.send(Outbound(WHATSAPP, "whatsapp:" + CUSTOMER, "free-form"))
    assert (result.status, result.reason) == (GONE, OUTSIDE_WINDOW)
    template = Outbound(WHATSAPP, "whatsapp:" + CUSTOMER, content_sid="HX" + "0" * 32, content_variables='{"1": "42"}')
    assert bot.send(template).status == SENT
    [message] = api.sent()
    assert message["body"] == "" and message["content_sid"] == "HX" + "0" * 32
    assert message["content_variables"] == '{"1": "42"}'


def test_send_rate_limited_and_server_down(api, bot):
    api.fail_next(to=CUSTOMER)
    result = bot.send(Outbound(SMS, CUSTOMER, "hi"))
    assert (result.status, result.reason) == (RETRY, "rate")
    api.set_down(503)
    assert bot.send(Outbound(SMS, CUSTOMER, "hi")).status == RETRY
    api.set_down(None)
    assert bot.send(Outbound(SMS, CUSTOMER, "hi")).status == SENT


def test_enforce_rate(api, bot):
    api.enforce_rate(2)
    statuses = [bot.send(Outbound(SMS, CUSTOMER, str(i))).status for i in range(4)]
    assert statuses.count(SENT) == 2 and statuses.count(RETRY) == 2 and api.too_many == 2


def test_later_part_fails_then_resume(api, bot):
    text = "a " * 2000  # 4000 characters: 3 parts
    api.enforce_rate(1)  # the second part is refused with 429
    first = bot.send(Outbound(SMS, CUSTOMER, text))
    assert (first.status, first.parts_sent, first.message_ids) == (RETRY, 1, [api.sent()[0]["sid"]])
    api.enforce_rate(None)
    rest = bot.send(Outbound(SMS, CUSTOMER, text), skip_parts=first.parts_sent)
    assert (rest.status, rest.parts_sent, len(rest.message_ids)) == (SENT, 3, 2)
    assert [m["body"] for m in api.sent()] == split_text(text, 1600)


def test_connection_refused_is_retry():
    standin = TwilioStandin().start()
    bot = make_bot(standin)
    assert bot.send(Outbound(SMS, CUSTOMER, "before")).status == SENT  # a pooled keep-alive connection
    standin.stop()
    result = bot.send(Outbound(SMS, CUSTOMER, "after"))
    assert (result.status, result.retry_after) == (RETRY, None) and result.detail


def test_timeout_is_retry(api):
    api.set_delay(0.5)
    result = make_bot(api, timeout_s=0.1).send(Outbound(SMS, CUSTOMER, "slow"))
    api.set_delay(0)
    assert result.status == RETRY


def test_wrong_credentials_fail(api):
    result = make_bot(api, auth_token="wrong").send(Outbound(SMS, CUSTOMER, "hi"))
    assert (result.status, result.reason) == (FAILED, "twilio_20003")


def test_not_configured():
    empty = {"account_sid": "", "auth_token": "", "api_base_url": "", "whatsapp_from": "", "sms_from": ""}
    bot = twilio.TwilioBot(config.load(environ={}, overrides={f"twilio.{k}": v for k, v in empty.items()}))
    assert not bot.configured and not bot.channel_configured(SMS)
    assert bot.send(Outbound(SMS, CUSTOMER, "hi")).status == FAILED


# ---- status callbacks ----------------------------------------------------------------------


def test_status_callbacks_are_signed(api, bot):
    received = []
    app = Flask(__name__)

    @app.post("/status")
    def status():
        ok = twilio.verify_signature(
            api.auth_token, request.url, request.form, request.headers.get("X-Twilio-Signature", "")
        )
        received.append((ok, twilio.parse_status(request.form)))
        return "", 204

    web = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{web.server_port}/status"
    try:
        api.auto_callbacks = True
        api.fail_delivery("+923009999999", 30003)
        ok = bot.send(Outbound(SMS, CUSTOMER, "hi", status_callback=url))
        bad = bot.send(Outbound(SMS, "+923009999999", "hi", status_callback=url))
        api.wait_for(lambda: len(received) == 4)

        def mine(sid):
            return [(v, u.status, u.error_code) for v, u in received if u.message_sid == sid]

        assert mine(ok.message_ids[0]) == [(True, "sent", None), (True, "delivered", None)]
        assert mine(bad.message_ids[0]) == [(True, "sent", None), (True, "undelivered", 30003)]
        received.clear()
        api.auto_callbacks = False
        api.window_error_mode = "callback"
        api.close_window(CUSTOMER)
        assert bot.send(Outbound(WHATSAPP, "whatsapp:" + CUSTOMER, "hi", status_callback=url)).status == SENT
        api.wait_for(lambda: received)
        assert [(v, u.status, u.error_code) for v, u in received] == [(True, "failed", 63016)]
    finally:
        web.shutdown()


# ---- media ---------------------------------------------------------------------------------


@pytest.mark.parametrize("redirect", [False, True])
def test_download_media(api, bot, redirect):
    api.media_redirect = redirect
    url = api.add_media(b"\x89PNG fake", "image/png")
    assert url.startswith(f"https://api.twilio.com/2010-04-01/Accounts/{api.account_sid}/Messages/MM")
    assert bot.download_media(url) == (b"\x89PNG fake", "image/png")
    with pytest.raises(requests.HTTPError):
        make_bot(api, auth_token="wrong").download_media(url)
