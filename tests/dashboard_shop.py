"""The fixture shop of the dashboard's tests, built row by row so that every number is known by hand:
tests/test_dashboard_numbers.py asserts its figures, tests/test_dashboard_browser.py looks at its pages; and the
helpers that read a page or a CSV as the owner sees them (get, figure, table).

"Now" is Wednesday 2026-11-25 12:00 in Karachi (tests.helpers.OPEN_HOURS). The last 7 days are 19–25 November;
the previous period 12–18 November. The shop, ticket by ticket (first response and resolution in business
minutes, as the tickets record them; created at 11:00 local on 19 November + i % 6 days):

| # | channel | priority | first response | closed by | resolution | rating | tags |
|---|---|---|---|---|---|---|---|
| 0 | telegram | urgent | 5 | Sara | 60 | 5 | delivery (urgent wording) |
| 1 | whatsapp | urgent | 10 | Sara | 120 | 5 | delivery (urgent wording) |
| 2 | telegram | normal | 15 | Sara | 180 | 4 | delivery |
| 3 | sms | normal | 20 | Sara | 240 | 4 | refund |
| 4 | whatsapp | normal | 25 | Sara | 300 | 3 | refund |
| 5 | telegram | normal | 30 | Omar | 360 | 1 "very slow" | refund |
| 6 | whatsapp | normal | 35 | Omar | 420 | 2 "rude answer" | size |
| 7 | telegram | normal | 40 | Omar | 480 | asked, no answer | |
| 8–11 | sms, telegram, whatsapp, telegram | normal | 45, 50, 60, 120 | open (9 Sara's, 10 Omar's) | | | |
| 12 | telegram | normal | unanswered, today 09:00 local, past its target | open | | | |
| 13 | telegram | normal | unanswered, today 11:00 local | open | | | |

So, by hand: 14 new tickets (telegram 8, whatsapp 4, sms 2); first response median of 12 = (30 + 35) / 2 = 32.5,
90th percentile (nearest rank 11 of 12) = 60; resolution median of 8 = (240 + 300) / 2 = 270, 90th percentile =
480; within target: urgent 2 of 2 (15 min), normal 4 of 10 (30 min); ratings 7 of 8 asked (87.5 %), average
24 / 7 = 3.43; Sara closed 5 (median first response 15, rating 4.2), Omar 3 (35, 1.5). The previous period has 3
tickets of Danish's (first response 100, resolution 600, rating 5, tag delivery).
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re

import requests

import db
from db.models import (
    Broadcast,
    BroadcastRecipient,
    Contact,
    Coupon,
    Customer,
    FaqLog,
    GreetingSent,
    Message,
    Order,
    Outbox,
    Ticket,
)
from handlers.features import dashboard
from tests.helpers import OPEN_HOURS

OWNER = 4242
NOW = OPEN_HOURS  # 2026-11-25 07:00 UTC
FIRST_DAY = dt.datetime(2026, 11, 19, 6, 0)  # 11:00 in Karachi
ROWS = [  # channel, priority, first response, closed by, resolution, rating, comment, tags, urgent
    ("telegram", "urgent", 5, "Sara", 60, 5, None, ["delivery"], True),
    ("whatsapp", "urgent", 10, "Sara", 120, 5, None, ["delivery"], True),
    ("telegram", "normal", 15, "Sara", 180, 4, None, ["delivery"], False),
    ("sms", "normal", 20, "Sara", 240, 4, None, ["refund"], False),
    ("whatsapp", "normal", 25, "Sara", 300, 3, None, ["refund"], False),
    ("telegram", "normal", 30, "Omar", 360, 1, "very slow", ["refund"], False),
    ("whatsapp", "normal", 35, "Omar", 420, 2, "rude answer", ["size"], False),
    ("telegram", "normal", 40, "Omar", 480, None, None, [], False),
    ("sms", "normal", 45, None, None, None, None, [], False),
    ("telegram", "normal", 50, None, None, None, None, [], False),
    ("whatsapp", "normal", 60, None, None, None, None, [], False),
    ("telegram", "normal", 120, None, None, None, None, [], False),
]
ASSIGNED = {9: "Sara", 10: "Omar"}


def build_shop() -> dict[str, Ticket]:
    """The shop of the module's docstring, row by row."""
    people = {}
    with db.write():
        for name, channel, address in (
            ("Ayesha", "telegram", "9001"),
            ("Bilal", "whatsapp", "whatsapp:+923001110001"),
            ("Chanda", "sms", "+923001110002"),
            ("Danish", "telegram", "9002"),
        ):
            customer = Customer.create(name=name, language="ur" if name == "Ayesha" else "en")
            people[name] = Contact.create(customer=customer, channel=channel, address=address)
        by_channel = {"telegram": people["Ayesha"], "whatsapp": people["Bilal"], "sms": people["Chanda"]}
        tickets = {}
        for i, (channel, priority, first, closed_by, resolution, rating, comment, tags, urgent) in enumerate(ROWS):
            created = FIRST_DAY + dt.timedelta(days=i % 6)
            closed = created + dt.timedelta(hours=2) if closed_by else None
            contact = by_channel[channel]
            tickets[i] = Ticket.create(
                customer=contact.customer,
                contact=contact,
                status="closed" if closed_by else "open",
                priority=priority,
                created_at=created,
                last_customer_at=created,
                first_response_at=created + dt.timedelta(minutes=first),
                first_response_minutes=first,
                closed_at=closed,
                closed_by=closed_by,
                resolution_minutes=resolution,
                csat_asked_at=closed,
                rating=rating,
                rating_comment=comment,
                tags=tags,
                urgent=urgent,
                assignee=ASSIGNED.get(i),
            )
            Message.create(ticket=tickets[i], direction="in", channel=channel, text=f"problem {i}", created_at=created)
        for i, hour in ((12, 4), (13, 6)):  # today 09:00 and 11:00 local, unanswered
            created = dt.datetime(2026, 11, 25, hour, 0)
            tickets[i] = Ticket.create(
                customer=people["Ayesha"].customer,
                contact=people["Ayesha"],
                created_at=created,
                last_customer_at=created,
                sla_breached_at=created + dt.timedelta(minutes=31) if i == 12 else None,
            )
            Message.create(ticket=tickets[i], direction="in", channel="telegram", text=f"help {i}", created_at=created)
        for day in (0, 1, 2):  # the previous period: Danish, 15 November
            created = dt.datetime(2026, 11, 15, 6, 0) + dt.timedelta(minutes=day)
            old = Ticket.create(
                customer=people["Danish"].customer,
                contact=people["Danish"],
                status="closed",
                created_at=created,
                last_customer_at=created,
                first_response_minutes=100,
                closed_at=created + dt.timedelta(hours=3),
                closed_by="Sara",
                resolution_minutes=600,
                csat_asked_at=created + dt.timedelta(hours=3),
                rating=5,
                tags=["delivery"],
            )
            Message.create(ticket=old, direction="in", channel="telegram", text="again", created_at=created)
        add_conversation(tickets[5])
        add_the_rest(people)
    return tickets


def add_conversation(ticket: Ticket) -> None:
    Message.create(
        ticket=ticket,
        direction="out",
        channel="telegram",
        text="Sorry, it is on its way",
        author="Sara",
        created_at=ticket.created_at + dt.timedelta(minutes=30),
    )
    Message.create(
        ticket=ticket,
        direction="note",
        channel="telegram",
        text="customer is upset",
        author="Omar",
        created_at=ticket.created_at + dt.timedelta(minutes=31),
    )
    Outbox.create(
        channel="telegram",
        chat_id="9001",
        destination="telegram:9001",
        payload={"text": "Here is a coupon"},
        purpose="reply",
        ticket=ticket,
        status="gone",
        reason="blocked",
        created_at=(ticket.created_at + dt.timedelta(minutes=40)).replace(tzinfo=dt.UTC).timestamp(),
        next_attempt_at=0,
    )


def add_the_rest(people: dict[str, Contact]) -> None:
    """The bot's unanswered questions, delay notices, greetings, coupons, tiers and one broadcast."""
    ayesha, bilal = people["Ayesha"].customer, people["Bilal"].customer
    for question, outcome in (
        ("Do you deliver to Quetta?", "handoff"),
        ("do you deliver to quetta?", "handoff"),
        ("return policy?", "unhelpful"),
        ("opening hours?", "answered"),
    ):
        FaqLog.create(
            customer=ayesha, channel="telegram", language="en", question=question, outcome=outcome, created_at=FIRST_DAY
        )
    for n in range(3):
        Order.create(ref=f"55{n}", customer=bilal, notified_at=FIRST_DAY + dt.timedelta(days=n))
    Ticket.update(order_ref="550").where(
        Ticket.id
        == Ticket.select(Ticket.id)
        .where(Ticket.contact == people["Bilal"])
        .order_by(Ticket.id.desc())
        .limit(1)
        .scalar()
    ).execute()
    others = [p.customer for p in people.values()]
    for customer, occasion, outcome in (
        (others[0], "birthday", "sent"),
        (others[1], "birthday", "sent"),
        (others[2], "birthday", "opted_out"),
        (others[0], "eid_ul_fitr", "sent"),
    ):
        GreetingSent.create(customer=customer, occasion=occasion, year=2026, outcome=outcome, sent_at=FIRST_DAY)
    for code, who, why in (("A1", "Sara", "delay"), ("A2", "Sara", "delay"), ("A3", "Omar", "apology")):
        Coupon.create(code=code, customer=ayesha, value=10, issued_by=who, reason=why, created_at=FIRST_DAY)
    Customer.update(tier="Silver").where(Customer.name.in_(["Ayesha", "Bilal"])).execute()
    Customer.update(tier="Gold").where(Customer.name == "Chanda").execute()
    b = Broadcast.create(
        kind="offer",
        segment="all",
        text="Eid sale",
        status="done",
        created_at=FIRST_DAY,
        total=5,
        counts={"recipients": 5, "sent": 4, "delivered": 3, "failed": 1, "opted_out": 0, "blocked": 0, "skipped": 0},
    )
    for customer in (ayesha, bilal):
        row = Outbox.create(
            channel="telegram",
            chat_id="1",
            destination="telegram:1",
            payload={"text": "Eid sale"},
            purpose="broadcast",
            status="sent",
            delivery="read",
            created_at=0,
            next_attempt_at=0,
        )
        BroadcastRecipient.create(broadcast=b, customer=customer, language="en", state="queued", outbox=row)


def log_in_browser(k, owner: int = OWNER):
    """A requests session logged in as `owner` by a link, as a browser would be (the Log in page, its button)."""
    browser = requests.Session()
    url = k.url + dashboard.make_link(owner).split("shop.example.com", 1)[1]
    page = browser.get(url, timeout=10)
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    assert browser.post(url, data={"csrf": token}, timeout=10).status_code == 200
    return browser


# ---- reading the pages as an owner sees them ---------------------------------------------------------------
def get(k, path: str) -> str:
    page = k.browser.get(k.url + path, timeout=10)
    assert page.status_code == 200, page.text[:500]
    return page.text


def figure(page: str, key: str) -> tuple[str, str]:
    """(value, change) of the figure `key` as the page shows them, tags stripped."""
    block = page.split(f'id="fig-{key}">', 1)[1].split('<div class="figure"', 1)[0].split("</section>", 1)[0]
    value = re.search(r'class="value">(.*?)</div>', block, re.S).group(1)
    change = re.search(r'class="change">(.*?)$', block, re.S)
    return _text(value), _text(change.group(1)) if change else ""


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def table(k, page: str, name: str, query: str = "range=7") -> list[list[str]]:
    """The rows of a table as its CSV holds them (UTF-8 with a BOM), header first."""
    response = k.browser.get(f"{k.url}/dashboard/{page}/{name}.csv?{query}", timeout=10)
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert f'filename="{name}' in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
