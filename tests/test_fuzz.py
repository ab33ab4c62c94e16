"""Property-based fuzzing of both webhooks (hypothesis): whatever arrives, the app never answers 5xx, keeps
answering and keeps handling; a forged request (wrong or missing secret / signature) never has any effect —
no stored event, no outbox row, nothing sent to Telegram or Twilio."""

from __future__ import annotations

import itertools
import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from db.models import InboundEvent, Outbox
from tests.helpers import AGENTS, AUTH, SECRET, SMS_FROM, WA_FROM, eventually, quiet, settle
from tests.standins.twilio_api import inbound_form, sign

FUZZ = settings(
    max_examples=80,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")

# ---- odd text ----------------------------------------------------------------------------------------
ODD = [
    "\u200f",
    "\u200e",
    "\u202e",
    "\u202b",
    "\u2066",
    "\u2069",
    "\u200d",
    "\u200b",
    "\ufeff",
    "\u0000",
    "😀",
    "🇵🇰",
    "👨‍👩‍👧",
    "🏳️‍🌈",
    "\U0001f9d1\u200d\U0001f4bb",
    "e\u0301",
    "ﷺ",
    "فوری",
    "ریفنڈ",
    "خدمت",
    "٣",
    "۴",
    "\n",
    "\r\n",
    "\t",
    " ",
    "/",
    "@",
    "#",
    "<b>",
    "*_`[",
    "%s",
    "{name}",
    "'\"; DROP TABLE ticket;--",
    "\U0010ffff",
    "\ufffd",
    "𝕏",
    "ـ",
    "\u0640\u064b",
]
odd_text = st.lists(st.one_of(st.sampled_from(ODD), st.text(max_size=8)), max_size=12).map("".join)
huge_text = st.builds(
    lambda piece, n: (piece or "x") * n, st.sampled_from([*ODD, "Ali ", "ab"]), st.integers(1000, 12000)
)
any_text = st.one_of(
    st.text(max_size=40),
    odd_text,
    huge_text,
    st.sampled_from(
        [
            "/close",
            "/priority urgent",
            "/tickets",
            "/stats week",
            "/note x",
            "/claim",
            "/start",
            "/help",
            "/stop",
            "STOP",
            "5",
            "۵ بہت اچھا",
            "",
        ]
    ),
)

# ---- JSON of any shape, and wrong types where a field is expected -------------------------------------
json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
any_json = st.recursive(
    json_scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12,
)
junk = st.one_of(
    json_scalar, st.lists(json_scalar, max_size=2), st.dictionaries(st.text(max_size=5), json_scalar, max_size=2)
)


def maybe_junk(strategy):
    """Mostly the right type, sometimes anything at all."""
    return st.one_of(strategy, strategy, strategy, junk)


telegram_ids = st.one_of(
    st.sampled_from([21, 22, 5001, AGENTS, -100777, 777000, 0, -1]),
    st.integers(-(2**52), 2**52),
    st.integers(-(2**70), 2**70),
)
user = st.fixed_dictionaries(
    {},
    optional={
        "id": maybe_junk(telegram_ids),
        "is_bot": maybe_junk(st.booleans()),
        "first_name": maybe_junk(any_text),
        "last_name": maybe_junk(any_text),
        "username": maybe_junk(st.text(max_size=40)),
        "language_code": maybe_junk(st.sampled_from(["en", "ur", "ar", "", "xx-long-code"])),
    },
)
chat = st.fixed_dictionaries(
    {},
    optional={
        "id": maybe_junk(telegram_ids),
        "type": maybe_junk(st.sampled_from(["private", "group", "supergroup", "channel", "sender"])),
        "title": maybe_junk(any_text),
        "is_forum": maybe_junk(st.booleans()),
    },
)
photo = st.lists(
    st.fixed_dictionaries(
        {"file_id": maybe_junk(st.text(max_size=10))},
        optional={
            "file_unique_id": st.text(max_size=5),
            "width": maybe_junk(st.integers(-5, 5000)),
            "height": maybe_junk(st.integers(-5, 5000)),
            "file_size": maybe_junk(st.integers(0, 2**40)),
        },
    ),
    max_size=3,
)
a_file = st.fixed_dictionaries(
    {"file_id": maybe_junk(st.text(max_size=10)), "file_unique_id": maybe_junk(st.text(max_size=5))},
    optional={"mime_type": st.text(max_size=20), "file_name": any_text, "duration": maybe_junk(st.integers(-1, 10**6))},
)
MESSAGE_FIELDS = {
    "message_id": maybe_junk(st.integers(-5, 2**40)),
    "date": maybe_junk(st.integers(0, 2**33)),
    "chat": maybe_junk(chat),
    "from": maybe_junk(user),
    "text": maybe_junk(any_text),
    "caption": maybe_junk(any_text),
    "photo": maybe_junk(photo),
    "voice": maybe_junk(a_file),
    "document": maybe_junk(a_file),
    "sticker": junk,
    "message_thread_id": maybe_junk(st.integers(-5, 2**40)),
    "is_topic_message": maybe_junk(st.booleans()),
    "location": maybe_junk(
        st.fixed_dictionaries({"latitude": st.floats(-1e6, 1e6), "longitude": st.floats(-1e6, 1e6)})
    ),
    "contact": maybe_junk(st.fixed_dictionaries({"phone_number": any_text, "first_name": any_text})),
    "dice": junk,
    "poll": junk,
    "new_chat_members": junk,
    "migrate_to_chat_id": maybe_junk(telegram_ids),
    "entities": junk,
    "sender_chat": maybe_junk(chat),
    "some_future_field": junk,
}
reply_to = st.fixed_dictionaries({}, optional=MESSAGE_FIELDS)
message = st.fixed_dictionaries({}, optional={**MESSAGE_FIELDS, "reply_to_message": maybe_junk(reply_to)})
button_data = st.one_of(
    st.sampled_from(
        [
            "t:1:close",
            "t:1:claim",
            "t:1:priority",
            "t:1:priority:urgent",
            "t:1:priority:nonsense",
            "t:1:history",
            "t:1:reopen",
            "t:1:back",
            "t:2:close",
            "t:999999999999999999999:close",
            "t:x:close",
            "t::",
            ":::",
        ]
    ),
    st.text(max_size=64),
)
callback = st.fixed_dictionaries(
    {},
    optional={
        "id": maybe_junk(st.text(max_size=10)),
        "from": maybe_junk(user),
        "message": maybe_junk(message),
        "chat_instance": maybe_junk(st.text(max_size=5)),
        "data": maybe_junk(button_data),
    },
)
member = st.fixed_dictionaries(
    {},
    optional={
        "chat": maybe_junk(chat),
        "from": maybe_junk(user),
        "date": maybe_junk(st.integers(0, 2**33)),
        "old_chat_member": junk,
        "new_chat_member": maybe_junk(
            st.fixed_dictionaries(
                {"status": st.sampled_from(["member", "kicked", "left", "administrator"]), "user": user}
            )
        ),
    },
)
update_ids = st.one_of(st.integers(1, 2**31), st.integers(-(2**70), 2**70))
update = st.fixed_dictionaries(
    {"update_id": maybe_junk(update_ids)},
    optional={
        "message": maybe_junk(message),
        "edited_message": maybe_junk(message),
        "callback_query": maybe_junk(callback),
        "my_chat_member": maybe_junk(member),
        "channel_post": maybe_junk(message),
        "poll_answer": junk,
    },
)
UPDATE_IDS = itertools.count(10**9)  # fresh ids, or most examples would be dropped as redeliveries


@st.composite
def plausible_updates(draw, mutate=True):
    """Updates as Telegram sends them (a customer's or an agent's message, a button tap, a membership
    change) with odd texts; with mutate, a few fields are then dropped, given the wrong type or added."""
    customer = draw(st.sampled_from([21, 22, 23, 2**40 + 7]))
    in_group = draw(st.booleans())
    chat_ = (
        {"id": AGENTS, "type": "supergroup", "title": "Agents", "is_forum": draw(st.booleans())}
        if in_group
        else {"id": customer, "type": "private", "first_name": "Ali"}
    )
    from_ = {
        "id": draw(st.sampled_from([5001, 5002])) if in_group else customer,
        "is_bot": False,
        "first_name": draw(st.one_of(st.just("Sara"), odd_text.map(lambda t: t[:64] or "A"))),
        "language_code": draw(st.sampled_from(["en", "ur", "ar"])),
    }
    msg = {"message_id": draw(st.integers(1, 10**6)), "date": int(time.time()), "chat": chat_, "from": from_}
    content = draw(
        st.sampled_from(["text", "text", "text", "photo", "voice", "location", "contact", "dice", "sticker"])
    )
    if content == "text":
        msg["text"] = draw(any_text)
    elif content == "photo":
        msg["photo"] = [{"file_id": "P1", "file_unique_id": "p1", "width": 90, "height": 90}]
        msg["caption"] = draw(any_text)
    elif content == "voice":
        msg["voice"] = {"file_id": "V1", "file_unique_id": "v1", "duration": 3}
    elif content == "location":
        msg["location"] = {"latitude": 24.86, "longitude": 67.0}
    elif content == "contact":
        msg["contact"] = {"phone_number": "+923001234567", "first_name": draw(any_text)}
    elif content == "dice":
        msg["dice"] = {"emoji": "🎲", "value": 3}
    else:
        msg["sticker"] = {
            "file_id": "S1",
            "file_unique_id": "s1",
            "type": "regular",
            "width": 1,
            "height": 1,
            "is_animated": False,
            "is_video": False,
        }
    if in_group and draw(st.booleans()):
        msg["reply_to_message"] = {
            "message_id": draw(st.integers(1, 40)),
            "date": int(time.time()),
            "chat": chat_,
            "text": "card",
        }
    if in_group and draw(st.booleans()):
        msg.update(message_thread_id=draw(st.integers(1, 40)), is_topic_message=True)
    kind = draw(st.sampled_from(["message", "message", "edited_message", "callback_query", "my_chat_member"]))
    if kind == "callback_query":
        body = {
            "id": draw(st.text(min_size=1, max_size=10)),
            "chat_instance": "1",
            "from": from_,
            "message": msg,
            "data": draw(button_data),
        }
    elif kind == "my_chat_member":
        body = {
            "chat": chat_,
            "from": from_,
            "date": int(time.time()),
            "old_chat_member": {"status": "member", "user": {"id": 777000, "is_bot": True, "first_name": "bot"}},
            "new_chat_member": {
                "status": draw(st.sampled_from(["kicked", "member", "left"])),
                "until_date": 0,
                "user": {"id": 777000, "is_bot": True, "first_name": "bot"},
            },
        }
    else:
        body = msg
        if kind == "edited_message":
            msg["edit_date"] = int(time.time())
    for _ in range(draw(st.integers(0, 3)) if mutate else 0):  # the mutations
        target = draw(st.sampled_from([body, msg, chat_, from_]))
        key = draw(st.one_of(st.sampled_from(sorted(target) or ["x"]), st.sampled_from(sorted(MESSAGE_FIELDS))))
        action = draw(st.sampled_from(["drop", "junk", "field"]))
        if action == "drop":
            target.pop(key, None)
        elif action == "junk":
            target[key] = draw(junk)
        elif key in MESSAGE_FIELDS:
            target[key] = draw(MESSAGE_FIELDS[key])
    return {"update_id": next(UPDATE_IDS), kind: body}


# ---- Twilio forms ---------------------------------------------------------------------------------------
numbers = st.one_of(
    st.sampled_from(
        [
            "+923001234567",
            "+923331112223",
            "+14155550123",
            "whatsapp:+923001234567",
            "whatsapp:+923009998887",
            "",
            "whatsapp:",
            "+",
            "not a number",
            "+٩٢٣٠٠",
        ]
    ),
    st.text(max_size=20),
    st.builds(lambda n: f"+92{n}", st.integers(0, 10**20)),
)
form_value = st.one_of(any_text, st.text(max_size=30), st.integers(-(2**70), 2**70).map(str))


@st.composite
def twilio_forms(draw, media_url):
    """Inbound-shaped forms with fields changed, dropped or added, and forms of random fields."""
    if draw(st.integers(0, 4)) == 0:
        return draw(
            st.dictionaries(
                st.one_of(
                    st.text(min_size=1, max_size=12), st.sampled_from(["MessageSid", "From", "Body", "NumMedia", "To"])
                ),
                form_value,
                max_size=8,
            )
        )
    whatsapp = draw(st.booleans())
    form = inbound_form(
        draw(numbers),
        draw(any_text),
        WA_FROM if whatsapp else SMS_FROM,
        sid=draw(st.one_of(st.none(), st.text(min_size=1, max_size=80))),
        profile_name=draw(st.one_of(st.none(), any_text)),
        whatsapp=whatsapp,
    )
    for key in draw(st.lists(st.sampled_from(sorted(form)), max_size=3)):
        if draw(st.booleans()):
            form.pop(key, None)
        else:
            form[key] = draw(form_value)
    if draw(st.booleans()):
        form["NumMedia"] = draw(st.one_of(st.integers(-3, 10**9).map(str), st.sampled_from(["", "x", "٢", "1.5"])))
        for i in range(draw(st.integers(0, 2))):
            form[f"MediaUrl{i}"] = draw(st.sampled_from([media_url, ""]))
            form[f"MediaContentType{i}"] = draw(
                st.one_of(st.sampled_from(["image/jpeg", "audio/ogg", ""]), st.text(max_size=20))
            )
    for key, value in draw(st.dictionaries(st.text(min_size=1, max_size=12), form_value, max_size=3)).items():
        form.setdefault(key, value)
    return form


status_forms = st.fixed_dictionaries(
    {},
    optional={
        "MessageSid": maybe_junk(st.text(max_size=70)).map(str),
        "MessageStatus": form_value,
        "ErrorCode": st.one_of(st.sampled_from(["21610", "63016", "30003", "", "0"]), form_value),
        "AccountSid": st.text(max_size=40),
    },
)


# ---- helpers ----------------------------------------------------------------------------------------------
def post_raw_telegram(k, body: bytes, secret, content_type="application/json"):
    headers = {"Content-Type": content_type}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return k.http.post(f"{k.url}/telegram/webhook", data=body, headers=headers, timeout=20)


def as_body(payload) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8", "surrogatepass")


def nothing_sent_or_stored(k):
    quiet(k)  # anything that slipped through has been handled and sent by now
    assert InboundEvent.select().count() == 0
    assert Outbox.select().count() == 0
    assert k.tg.sent() == []
    assert k.twilio.sent() == [] and k.twilio.requests == 0


def still_working(k, user_id=987654):
    """The web side answers, the processor has handled everything it accepted, and a new message still flows
    (to wherever the agents' group now is: a fuzzed update may legitimately have "migrated" it)."""
    assert k.http.get(f"{k.url}/healthz", timeout=10).status_code == 200
    settle(k, timeout=60)
    text = f"still alive after fuzzing {time.time()}"
    assert k.tg_message(user_id, text, update_id=2**40 + int(time.time() * 1000) % 10**9).status_code == 200
    eventually(
        lambda: [m for m in k.tg.sent() if text in (m.get("text") or "")],
        timeout=30,
        what="a valid message to reach the group after fuzzing",
    )
    k.wait_chat(user_id, timeout=10, what="its acknowledgement")


def errors(k):
    return [(e.external_id, e.error) for e in InboundEvent.select().where(InboundEvent.status == "error")]


# ---- Telegram ---------------------------------------------------------------------------------------------
def test_forged_telegram_requests_have_no_effect(khidmat):
    wrong = st.one_of(
        st.none(),
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=40)
        .map(str.strip)
        .filter(lambda s: s != SECRET),
        st.sampled_from([SECRET + "x", SECRET[:-1], SECRET.upper(), SECRET + " x", "", "*"]),
    )

    @FUZZ
    @given(body=st.one_of(update.map(as_body), any_json.map(as_body), st.binary(max_size=200)), secret=wrong)
    def forged(body, secret):
        r = post_raw_telegram(khidmat, body, secret)
        assert r.status_code in (400, 403), (r.status_code, r.text[:200])  # 400: waitress refuses a header

    # a perfectly valid customer message and an agent's /close, each without the right secret
    assert khidmat.post_update(khidmat.tg.incoming(21, "I am forged", user_id=21), secret="wrong").status_code == 403
    assert khidmat.post_update(khidmat.tg.incoming(AGENTS, "/close", user_id=5001), secret=None).status_code == 403
    forged()
    nothing_sent_or_stored(khidmat)


# bodies that once made a 500 or a stuck processor, or could: each is posted before the random ones
SPECIAL_BODIES = [
    b"",
    b"[" * 50000,
    b'{"update_id": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    b'{"update_id": 1e999}',
    b'{"update_id": NaN}',
    b'{"update_id": true}',
    b'{"update_id": 5000000001, "message": "\\ud800"}',
    b'{"update_id": 5000000002, "message": {"message_id": 1, "date": 1, "chat": {"id": 21, "type": "private"}, '
    b'"from": {"id": 21, "is_bot": false, "first_name": "\\udc00"}, "text": "lone \\ud83d surrogate"}}',
    b'{"update_id": 5000000003, "message": {"message_id": 2, "date": 1, "chat": {"id": 21, "type": "private"}, '
    b'"from": {"id": 21, "is_bot": false, "first_name": "Ali"}, "text": "nul \\u0000 inside"}}',
    b'{"update_id": 5000000004, "message": {"message_id": 3, "date": 99999999999999999999, "chat": {"id": 21, '
    b'"type": "private"}, "text": "date out of range"}}',
    b'{"update_id": 99999999999999999999}',
    b'{"update_id": ' + b"9" * 90 + b"}",
    b'{"update_id": -1}',
]


def test_telegram_any_body_with_the_secret_never_fails(khidmat):
    for body in SPECIAL_BODIES:
        r = post_raw_telegram(khidmat, body, SECRET)
        assert r.status_code < 500, (r.status_code, body[:100])

    @FUZZ
    @given(
        body=st.one_of(any_json.map(as_body), st.binary(max_size=300), update.map(as_body)),
        content_type=st.sampled_from(
            ["application/json", "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1"]
        ),
    )
    def anything(body, content_type):
        r = post_raw_telegram(khidmat, body, SECRET, content_type)
        assert r.status_code < 500, (r.status_code, body[:100])

    anything()
    still_working(khidmat)
    # the lone surrogates and the NUL did not stop those messages: they reached the group
    khidmat.wait_group(lambda t: "lone" in t and "surrogate" in t, what="the message with a lone surrogate")
    khidmat.wait_group(lambda t: "nul" in t and "inside" in t, what="the message with a NUL")
    assert errors(khidmat) == []


def test_telegram_updates_with_random_fields_never_fail(khidmat):
    @FUZZ
    @given(payload=st.one_of(update, plausible_updates()))
    def updates(payload):
        if type(payload.get("update_id")) is int and 0 < payload["update_id"] < 2**31:
            payload["update_id"] = next(UPDATE_IDS)
        r = post_raw_telegram(khidmat, as_body(payload), SECRET)
        assert r.status_code < 500, (r.status_code, str(payload)[:300])

    updates()
    still_working(khidmat)


def test_telegram_updates_with_odd_texts_are_all_handled(khidmat):
    """Well-formed updates (values Telegram can send) with odd texts: every one handled, none fails."""

    @FUZZ
    @given(payload=plausible_updates(mutate=False))
    def updates(payload):
        r = post_raw_telegram(khidmat, as_body(payload), SECRET)
        assert r.status_code == 200, (r.status_code, str(payload)[:300])

    updates()
    still_working(khidmat)
    assert errors(khidmat) == []


# ---- Twilio -----------------------------------------------------------------------------------------------
def test_forged_twilio_requests_have_no_effect(khidmat):
    url = "https://shop.example.com"
    media_url = khidmat.twilio.add_media(b"\xff\xd8fake-jpeg", "image/jpeg")

    @FUZZ
    @given(
        form=st.one_of(twilio_forms(media_url), status_forms),
        path=st.sampled_from(["/twilio/inbound", "/twilio/status"]),
        how=st.sampled_from(["missing", "empty", "random", "wrong token", "other url", "other form", "query"]),
        noise=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=40),
    )
    def forged(form, path, how, noise):
        signature = {
            "missing": None,
            "empty": "",
            "random": noise,
            "wrong token": sign("not-the-auth-token", url + path, form),
            "other url": sign(AUTH, "http://127.0.0.1" + path, form),
            "other form": sign(AUTH, url + path, {**form, "Body": f"{form.get('Body', '')}!"}),
            "query": sign(AUTH, url + path + "?x=1", form),
        }[how]
        headers = {} if signature is None else {"X-Twilio-Signature": signature}
        r = khidmat.http.post(f"{khidmat.url}{path}", data=form, headers=headers, timeout=20)
        assert r.status_code == 403, (how, r.status_code, str(form)[:300])

    forged()
    nothing_sent_or_stored(khidmat)


def special_twilio_forms(media_url):
    """Signed forms that once made a 500 or a stuck processor, or could: each is posted before the random ones."""
    base = inbound_form("+923001234567", "special", SMS_FROM)
    return [
        ("/twilio/inbound", {**base, "MessageSid": "\x00", "SmsMessageSid": "\x00"}),
        ("/twilio/inbound", {**base, "MessageSid": "SM" + "9" * 80}),
        (
            "/twilio/inbound",
            {
                **base,
                "MessageSid": "SMnummedia1",
                "NumMedia": str(10**9),
                "MediaUrl0": media_url,
                "MediaContentType0": "image/jpeg",
            },
        ),
        ("/twilio/inbound", {**base, "MessageSid": "SMnummedia2", "NumMedia": "x"}),
        ("/twilio/inbound", {**base, "MessageSid": "SMnul1", "Body": "nul \x00 inside", "ProfileName": "\x00"}),
        ("/twilio/inbound", {**base, "MessageSid": "SMnul2", "From": "+92300\x001234567"}),
        ("/twilio/status", {"MessageSid": "\x00", "MessageStatus": "failed", "ErrorCode": "30003"}),
        ("/twilio/status", {"MessageSid": "SM" + "1" * 90, "MessageStatus": "delivered"}),
        ("/twilio/status", {"MessageSid": "SMx", "MessageStatus": "failed", "ErrorCode": "9" * 40}),
    ]


def test_signed_twilio_forms_never_fail(khidmat):
    media_url = khidmat.twilio.add_media(b"\xff\xd8fake-jpeg", "image/jpeg")
    for path, form in special_twilio_forms(media_url):
        r = khidmat.post_twilio(form, path=path)
        assert r.status_code < 500, (r.status_code, path, form)

    @FUZZ
    @given(form=twilio_forms(media_url), status=status_forms)
    def signed(form, status):
        r = khidmat.post_twilio(form)
        assert r.status_code < 500, (r.status_code, form)
        r = khidmat.post_twilio(status, path="/twilio/status")
        assert r.status_code < 500, (r.status_code, status)

    signed()
    still_working(khidmat)
    # and WhatsApp still flows both ways
    khidmat.whatsapp("+923001230000", "after the fuzz, a real question")
    khidmat.wait_twilio("whatsapp:+923001230000", timeout=30)


def test_signed_twilio_messages_with_odd_texts_are_all_handled(khidmat):
    """Well-formed inbound messages (numbers and fields Twilio sends) with odd bodies and names: none fails."""
    media_url = khidmat.twilio.add_media(b"\xff\xd8fake-jpeg", "image/jpeg")

    @FUZZ
    @given(
        number=st.sampled_from(["+923001234567", "+923331112223", "+14155550123", "+447700900123"]),
        whatsapp=st.booleans(),
        body=any_text,
        name=st.one_of(st.none(), odd_text.map(lambda t: t[:60])),
        with_media=st.booleans(),
    )
    def messages(number, whatsapp, body, name, with_media):
        form = inbound_form(
            number,
            body,
            WA_FROM if whatsapp else SMS_FROM,
            profile_name=name,
            whatsapp=whatsapp,
            media=[(media_url, "image/jpeg")] if with_media else (),
        )
        assert khidmat.post_twilio(form).status_code == 200

    messages()
    still_working(khidmat)
    assert errors(khidmat) == []
    # every status Twilio reports on a message we sent is taken (partially_delivered is longer than the column)
    sid = khidmat.twilio.sent()[0]["sid"]
    for status in ("sent", "delivered", "read", "partially_delivered", "undelivered"):
        r = khidmat.post_twilio(
            {"MessageSid": sid, "MessageStatus": status, "ErrorCode": "30003"}, path="/twilio/status"
        )
        assert r.status_code == 204, (status, r.status_code)
