"""The doors: forged or malformed requests are refused or acknowledged without effect; health; set-webhook."""

from click.testing import CliRunner

from db.models import InboundEvent, Outbox, Ticket
from tests.helpers import AUTH, SECRET

NUMBER = "+923001234567"


def nothing_happened(k):
    assert Ticket.select().count() == 0
    assert Outbox.select().count() == 0
    assert InboundEvent.select().count() == 0


def test_telegram_webhook_with_wrong_or_missing_secret_is_refused(khidmat):
    update = khidmat.tg.incoming(21, "I am forged", user_id=21)
    assert khidmat.post_update(update, secret="wrong").status_code == 403
    assert khidmat.post_update(update, secret=None).status_code == 403
    nothing_happened(khidmat)


def test_telegram_webhook_refuses_everything_while_secret_unset(make_khidmat):
    k = make_khidmat(**{"telegram.webhook_secret": ""})
    update = k.tg.incoming(21, "hello", user_id=21)
    assert k.post_update(update, secret="").status_code == 403
    nothing_happened(k)


def test_twilio_inbound_forged_or_unsigned_is_refused(khidmat):
    from tests.standins.twilio_api import inbound_form, sign

    form = inbound_form(NUMBER, "forged", "+14155550100")
    assert khidmat.post_twilio(form, signature="").status_code == 403
    assert (
        khidmat.post_twilio(
            form, signature=sign("not-the-token", "https://shop.example.com/twilio/inbound", form)
        ).status_code
        == 403
    )
    # signed for another URL (e.g. what a proxy rewrote) is refused too
    assert khidmat.post_twilio(form, signature=sign(AUTH, "http://127.0.0.1/twilio/inbound", form)).status_code == 403
    nothing_happened(khidmat)


def test_twilio_status_forged_is_refused(khidmat):
    r = khidmat.post_twilio(
        {"MessageSid": "SMx", "MessageStatus": "failed", "ErrorCode": "21610"}, path="/twilio/status", signature="bogus"
    )
    assert r.status_code == 403


def test_malformed_updates_are_acknowledged_without_effect(khidmat):
    url = f"{khidmat.url}/telegram/webhook"
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    for body in (b"not json", b"[]", b"{}", b'{"update_id": "x"}', b'{"update_id": 5, "message": 7}'):
        r = khidmat.http.post(url, data=body, headers={**headers, "Content-Type": "application/json"})
        assert r.status_code == 200, body
    # an update type we do not use
    assert (
        khidmat.post_update(
            {
                "update_id": 77,
                "poll_answer": {
                    "poll_id": "1",
                    "option_ids": [0],
                    "user": {"id": 1, "is_bot": False, "first_name": "x"},
                },
            }
        ).status_code
        == 200
    )
    assert Ticket.select().count() == 0
    # the bot still works afterwards
    khidmat.tg_message(5, "still alive?")
    khidmat.wait_group(lambda t: "still alive?" in t)


def test_malformed_twilio_form_is_acknowledged(khidmat):
    r = khidmat.post_twilio({"Body": "no sid or from"})
    assert r.status_code == 200
    assert Ticket.select().count() == 0


def test_healthz(khidmat):
    r = khidmat.http.get(f"{khidmat.url}/healthz")
    assert r.status_code == 200 and r.json()["ok"] is True and "pending" in r.json()["outbox"]


def test_set_webhook_registers_url_secret_and_update_types(khidmat, tg_api):
    runner = CliRunner()
    from web.cli import set_webhook_command

    with khidmat.app.app_context():
        result = runner.invoke(set_webhook_command, [])
    assert result.exit_code == 0, result.output
    assert "https://shop.example.com/telegram/webhook" in result.output
    call = next(c for c in tg_api.calls if c["method"] == "setWebhook")["params"]
    assert call["url"] == "https://shop.example.com/telegram/webhook"
    assert call["secret_token"] == SECRET
    assert set(call["allowed_updates"]) >= {"message", "edited_message", "callback_query", "my_chat_member"}


def test_metrics_show_inbound_outbox_and_sends(khidmat):
    khidmat.tg_message(9, "count me")
    khidmat.wait_chat(9)
    khidmat.wait_group(lambda t: "count me" in t)
    body = khidmat.http.get(f"{khidmat.url}/metrics").text
    assert 'khidmat_inbound_total{source="telegram",status="done"} 1' in body
    assert 'khidmat_sends_total{channel="telegram",result="sent"}' in body
    assert "khidmat_outbox_depth " in body and "khidmat_send_latency_seconds_count" in body
    assert "khidmat_open_tickets 1" in body
