"""The shared campaign mechanism (handlers/features/campaigns.py) as a person sees it: a greetings run for
many customers holds at most broadcasts.backlog bulk messages waiting and tops up as they leave, every
customer gets exactly one message, a WhatsApp customer outside the 24-hour window without a template is
skipped and counted, and two runs at once enqueue each message once."""

import datetime as dt
import threading

import db
from db.models import Contact, Customer, GreetingSent, Outbox
from handlers.core import clock
from handlers.features import campaigns, greetings
from runtime import scheduler
from tests.helpers import eventually, quiet

TODAY = "11-25"  # OPEN_HOURS: Wednesday 25 November 2026, 12:00 in Karachi
SMALL = {"broadcasts.chunk": 3, "broadcasts.backlog": 5}


def customers_with_a_birthday(count: int) -> None:
    with db.write():
        for i in range(count):
            c = Customer.create(name=f"C{i}", language="en", telegram_user_id=900 + i, birthday=TODAY)
            Contact.create(customer=c, channel="telegram", address=str(900 + i), last_inbound_at=clock.now())
        late = Customer.create(name="Late", language="en", phone="+923001239999", birthday=TODAY)
        Contact.create(
            customer=late,
            channel="whatsapp",
            address="whatsapp:+923001239999",
            last_inbound_at=clock.now() - dt.timedelta(days=3),
        )


def test_a_greetings_run_keeps_the_bulk_backlog_small_and_greets_everyone_once(make_khidmat):
    k = make_khidmat(start_sender=False, **SMALL)
    customers_with_a_birthday(12)
    summaries: list[str] = []
    runs = [threading.Thread(target=lambda: summaries.append(greetings.run_now())) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert campaigns.bulk_backlog() == 5  # never more than broadcasts.backlog waiting
    keys = [o.idempotency_key for o in Outbox.select().where(Outbox.purpose == "greeting")]
    assert len(keys) == len(set(keys)) == 5  # two runs at once: each message enqueued once
    assert all("the next run continues" in s for s in summaries), summaries
    k.close()
    k = make_khidmat(**SMALL)

    def decided() -> bool:
        scheduler.run("greetings")  # the minute job: tops up as the bulk messages leave
        return GreetingSent.select().count() == 13

    eventually(
        decided,
        timeout=30,
        what="every customer decided",
    )
    quiet(k)
    for i in range(12):
        assert len([m for m in k.chat(900 + i) if "Happy birthday" in (m.get("text") or "")]) == 1
    assert GreetingSent.get(GreetingSent.customer == Customer.get(name="Late")).outcome == "no_template"
    assert k.twilio.sent(to="whatsapp:+923001239999") == []
    assert Outbox.select().where(Outbox.purpose == "greeting").count() == 12
