"""Delivery: retries on 429/5xx, final failures told to the agents in the ticket's thread, no duplicates."""

import pytest

from db.models import Contact, Outbox
from tests.helpers import eventually, open_ticket, quiet

NUMBER = "+923001234567"


def test_blocked_telegram_customer_is_reported_once_and_not_retried(khidmat, tg_api):
    card = open_ticket(khidmat, text="my order is late")
    tg_api.block_chat(21)
    khidmat.agent_message("Here is an update", reply_to=card["message_id"])
    notice = khidmat.wait_group(lambda t: "Could not deliver" in t)[0]
    assert "blocked the bot" in notice["text"] and "#1001" in notice["text"] and "Here is an update" in notice["text"]
    assert notice["reply_to"] == card["message_id"]  # in the ticket's thread
    quiet(khidmat)
    tries = [c for c in tg_api.calls if c["method"] == "sendMessage" and str(c["params"].get("chat_id")) == "21"]
    assert len(tries) == 2  # the acknowledgement and one failed try, no retry loop
    assert Contact.get(Contact.channel == "telegram").unreachable == "blocked"
    assert Outbox.get(Outbox.purpose == "reply").status == "gone"


BREAKS = {  # how the platform refuses the next message → the words the agents read
    "sms unsubscribed (21610)": ("sms", lambda api: api.opt_out(NUMBER), "unsubscribed"),
    "whatsapp window closed (63016)": ("whatsapp", lambda api: api.close_window(NUMBER), "24 hours"),
    "sms invalid number (21211)": (
        "sms",
        lambda api: api.fail_next(
            to=NUMBER, status=400, code=21211, message="The 'To' number is not a valid phone number."
        ),
        "does not exist",
    ),
}


@pytest.mark.parametrize("case", list(BREAKS))
def test_final_twilio_refusals_are_reported_in_plain_words(khidmat, twilio_api, case):
    channel, refuse, words = BREAKS[case]
    getattr(khidmat, channel)(NUMBER, f"help with {case}")
    card = khidmat.wait_group(lambda t: f"help with {case}" in t)[0]
    khidmat.wait_twilio(NUMBER if channel == "sms" else f"whatsapp:{NUMBER}")
    refuse(twilio_api)
    khidmat.agent_message("Here is your answer", reply_to=card["message_id"])
    notice = khidmat.wait_group(lambda t: "Could not deliver" in t)[0]["text"]
    assert words in notice and "#1001" in notice and "Here is your answer" in notice


def test_failed_status_callback_is_reported(khidmat, twilio_api):
    khidmat.whatsapp(NUMBER, "status please")
    card = khidmat.wait_group(lambda t: "status please" in t)[0]
    khidmat.wait_twilio(f"whatsapp:{NUMBER}")
    khidmat.agent_message("On its way", reply_to=card["message_id"])
    sent = khidmat.wait_twilio(f"whatsapp:{NUMBER}", lambda b: "On its way" in b)[0]
    eventually(lambda: Outbox.get(Outbox.purpose == "reply").status == "sent")
    r = khidmat.post_twilio(
        {
            "MessageSid": sent["sid"],
            "MessageStatus": "undelivered",
            "ErrorCode": "63016",
            "AccountSid": "AC",
            "To": f"whatsapp:{NUMBER}",
        },
        path="/twilio/status",
    )
    assert r.status_code == 204
    assert "24 hours" in khidmat.wait_group(lambda t: "Could not deliver" in t)[0]["text"]
    assert Outbox.get(Outbox.purpose == "reply").status == "gone"


def test_platform_down_past_retry_budget_is_reported(make_khidmat, twilio_api):
    k = make_khidmat(**{"sender.retry_for_s": 1.5})
    k.sms(NUMBER, "anyone?")
    card = k.wait_group(lambda t: "anyone?" in t)[0]
    k.wait_twilio(NUMBER)
    twilio_api.set_down(503)
    k.agent_message("Yes, we are here", reply_to=card["message_id"])
    notice = k.wait_group(lambda t: "Could not deliver" in t, timeout=8)[0]["text"]
    assert "kept failing" in notice


def test_429_storm_delays_but_delivers_everything_once_in_order(khidmat, tg_api):
    card = open_ticket(khidmat, text="my order is late")
    tg_api.fail_next(method="sendMessage", chat_id=21, times=3, status=429, retry_after=1)
    for i in range(5):
        khidmat.agent_message(f"reply number {i}", reply_to=card["message_id"])
    got = eventually(
        lambda: (
            [m["text"] for m in khidmat.chat(21) if "reply number" in (m["text"] or "")]
            if len([m for m in khidmat.chat(21) if "reply number" in (m["text"] or "")]) >= 5
            else None
        ),
        timeout=15,
    )
    assert [t.split("\n")[0] for t in got] == [f"reply number {i}" for i in range(5)]
    quiet(khidmat)
    assert len([m for m in khidmat.chat(21) if "reply number" in (m["text"] or "")]) == 5
    assert tg_api.too_many >= 3


def test_5xx_then_recovery_delivers(khidmat, tg_api):
    card = open_ticket(khidmat, text="my order is late")
    tg_api.set_down(502, seconds=1.5)
    khidmat.agent_message("after the outage", reply_to=card["message_id"])
    khidmat.wait_chat(21, lambda t: "after the outage" in t, timeout=10)


def test_redelivered_updates_are_ignored(khidmat):
    khidmat.tg_message(31, "only once please", update_id=424242)
    r = khidmat.post_update(khidmat.last_update)
    assert r.status_code == 200
    khidmat.wait_group(lambda t: "only once please" in t)
    quiet(khidmat)
    assert len([t for t in khidmat.group_texts() if "only once please" in t]) == 1
    assert len(khidmat.chat(31)) == 1


def test_redelivered_twilio_message_is_ignored(khidmat):
    sid = khidmat.sid()
    assert khidmat.sms(NUMBER, "twice?", sid=sid).status_code == 200
    assert khidmat.sms(NUMBER, "twice?", sid=sid).status_code == 200
    khidmat.wait_group(lambda t: "twice?" in t)
    quiet(khidmat)
    assert len([t for t in khidmat.group_texts() if "twice?" in t]) == 1
    assert len(khidmat.twilio.sent(to=NUMBER)) == 1
