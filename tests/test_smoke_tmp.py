from tests.conftest import AGENTS


def test_telegram_complaint_reaches_group_and_ack(khidmat):
    r = khidmat.tg_message(42, "My order 5531 is late")
    assert r.status_code == 200
    msgs = khidmat.wait_group(lambda t: "5531" in t)
    print(khidmat.group())
    acks = khidmat.wait_chat(42, lambda t: "#1001" in t)
    print(acks)
