"""The dashboard's figures against a shop whose numbers are known by construction, on SQLite and PostgreSQL.

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

import pytest
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


@pytest.fixture
def shop(make_khidmat):
    k = make_khidmat(start_sender=False, **{"telegram.owner_ids": [OWNER], "app.public_url": "http://shop.example.com"})
    k.tickets = build_shop()
    k.browser = requests.Session()
    url = k.url + dashboard.make_link(OWNER).split("shop.example.com", 1)[1]
    page = k.browser.get(url, timeout=10)
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    assert k.browser.post(url, data={"csrf": token}, timeout=10).status_code == 200
    return k


def get(k, path: str) -> str:
    page = k.browser.get(k.url + path, timeout=10)
    assert page.status_code == 200, page.text[:500]
    return page.text


def figure(page: str, key: str) -> tuple[str, str]:
    """(value, change) of the figure `key` as the page shows them, tags stripped."""
    block = page.split(f'id="fig-{key}">', 1)[1].split('<div class="figure"', 1)[0].split("</section>", 1)[0]
    value = re.search(r'class="value">(.*?)</div>', block, re.S).group(1)
    change = re.search(r'class="change">(.*?)$', block, re.S)
    strip = lambda s: html.unescape(re.sub(r"<[^>]+>", "", s)).strip()  # noqa: E731  (a one-line helper)
    return strip(value), strip(change.group(1)) if change else ""


def table(k, page: str, name: str, query: str = "range=7") -> list[list[str]]:
    """The rows of a table as its CSV holds them (UTF-8 with a BOM), header first."""
    response = k.browser.get(f"{k.url}/dashboard/{page}/{name}.csv?{query}", timeout=10)
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert f'filename="{name}' in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_now(shop):
    page = get(shop, "/dashboard/")
    assert figure(page, "open_tickets")[0] == "6"
    assert figure(page, "unassigned_tickets")[0] == "4"
    assert figure(page, "past_target")[0] == "1"
    assert figure(page, "oldest_waiting")[0] == "3 h 0 min"
    assert f'href="/dashboard/ticket/{shop.tickets[12].id}"' in page
    assert figure(page, "last_24h") == ("2", "the same as the previous period")
    assert table(shop, "now", "last_24h_by_channel") == [
        ["Channel", "Tickets", "The 24 hours before"],
        ["Telegram", "2", "2"],
        ["WhatsApp", "0", "0"],
        ["SMS", "0", "0"],
    ]
    assert "<svg" in page and "<script" not in page


def test_traffic(shop):
    page = get(shop, "/dashboard/traffic?range=7")
    assert figure(page, "new_tickets") == ("14", "+11 against the previous period (3)")
    assert "2026-11-19 to 2026-11-25 (7 days)" in page
    assert table(shop, "traffic", "tickets_by_channel") == [
        ["Day", "Telegram", "WhatsApp", "SMS"],
        ["2026-11-19", "1", "1", "0"],
        ["2026-11-20", "1", "1", "0"],
        ["2026-11-21", "1", "0", "1"],
        ["2026-11-22", "1", "0", "1"],
        ["2026-11-23", "0", "2", "0"],
        ["2026-11-24", "2", "0", "0"],
        ["2026-11-25", "2", "0", "0"],
    ]
    heat = {row[0]: row[1:] for row in table(shop, "traffic", "messages_by_hour")[1:]}
    assert (
        heat["Wednesday"][9] == "1" and heat["Wednesday"][11] == "1" and heat["Sunday"][11] == "5"
    )  # 22 November (2) and 15 November (3)
    assert heat["Thursday"][11] == "2" and sum(int(v) for row in heat.values() for v in row) == 17
    # the opening hours drawn on it: Monday 10:00–20:00, Sunday closed
    rows = re.findall(r"<tr><th scope=\"row\">(\w+)</th>(.*?)</tr>", page)
    cells = {day: re.findall(r'<td class="h\d( open)?"', rest) for day, rest in rows}
    assert cells["Monday"][9] == "" and cells["Monday"][10] == " open" and cells["Monday"][19] == " open"
    assert cells["Monday"][20] == "" and set(cells["Sunday"]) == {""}


def test_speed(shop):
    page = get(shop, "/dashboard/speed?range=7")
    assert figure(page, "first_response_median") == ("32.5 min", "−67.5 min against the previous period (100 min)")
    assert figure(page, "first_response_p90")[0] == "60 min"
    assert figure(page, "resolution_median") == ("270 min", "−330 min against the previous period (600 min)")
    assert figure(page, "resolution_p90")[0] == "480 min"
    assert table(shop, "speed", "within_target") == [
        ["Priority", "Target", "Answered", "Within the target", "Share"],
        ["Urgent", "15", "2", "2", "100"],
        ["High", "30", "0", "0", ""],
        ["Normal", "30", "10", "4", "40"],
        ["Low", "120", "0", "0", ""],
    ]
    assert table(shop, "speed", "agents") == [
        ["Agent", "Closed", "First response, median", "Average rating"],
        ["Sara", "5", "15", "4.2"],
        ["Omar", "3", "35", "1.5"],
    ]
    times = table(shop, "speed", "response_times")
    assert times[1] == ["2026-11-19", "20", "35", "240", "420"]  # tickets 0 and 6: 5 and 35; 60 and 420
    assert "Share" in page and "40%" in page


def test_satisfaction(shop):
    page = get(shop, "/dashboard/satisfaction?range=7")
    assert figure(page, "rating_average") == ("3.43", "−1.57 against the previous period (5)")
    assert figure(page, "response_rate") == ("87.5%", "−12.5% against the previous period (100%)")
    assert table(shop, "satisfaction", "ratings")[1:] == [
        ["1", "1", "14.3"],
        ["2", "1", "14.3"],
        ["3", "1", "14.3"],
        ["4", "2", "28.6"],
        ["5", "2", "28.6"],
    ]
    low = table(shop, "satisfaction", "low_ratings")
    assert low[0] == ["Ticket", "Rating", "Their words", "Closed by"]
    assert low[1:] == [
        [str(shop.tickets[5].id), "1", "very slow", "Omar"],  # asked on the 24th
        [str(shop.tickets[6].id), "2", "rude answer", "Omar"],  # asked on the 19th
    ]
    assert table(shop, "proactive", "coupons")[1:] == [["Sara", "delay", "2"], ["Omar", "apology", "1"]]
    assert table(shop, "proactive", "tiers")[1:] == [["Silver", "2"], ["Gold", "1"]]
    rows = table(shop, "broadcasts", "broadcasts")
    assert rows[0][4:] == ["Recipients", "Sent", "Delivered", "Read", "Failed", "Opted out", "Blocked", "Skipped"]
    assert rows[1][2:] == ["Done", "all", "5", "4", "3", "2", "1", "0", "0", "0"]
    assert 'http-equiv="refresh"' not in get(shop, "/dashboard/broadcasts")


def test_a_running_broadcast_refreshes_its_page(shop):
    with db.write():
        Broadcast.create(kind="offer", segment="all", text="Now", status="sending", created_at=NOW, total=0)
    page = get(shop, "/dashboard/broadcasts")
    assert 'http-equiv="refresh" content="5"' in page and "Going out" in page


def test_ticket_page_shows_the_whole_conversation_read_only(shop):
    page = html.unescape(get(shop, f"/dashboard/ticket/{shop.tickets[5].id}"))
    assert "problem 5" in page and "Sorry, it is on its way" in page
    assert "Internal note (the customer did not see it) · Omar" in page and "customer is upset" in page
    assert "Not delivered" in page and "blocked" in page
    assert "<form" not in page.split("<main>")[1]  # read-only


def test_ranges_today_30_90_and_custom(shop):
    assert figure(get(shop, "/dashboard/traffic?range=today"), "new_tickets")[0] == "2"
    assert figure(get(shop, "/dashboard/traffic?range=30"), "new_tickets")[0] == "17"
    page = get(shop, "/dashboard/traffic?range=90")
    assert figure(page, "new_tickets")[0] == "17" and "Week from" in page  # long ranges by week
    custom = get(shop, "/dashboard/traffic?range=custom&from=2026-11-15&to=2026-11-15")
    assert figure(custom, "new_tickets") == ("3", "+3 against the previous period (0)")
    rows = table(shop, "traffic", "tickets_by_channel", "range=custom&from=2026-11-15&to=2026-11-15")
    assert rows == [["Day", "Telegram", "WhatsApp", "SMS"], ["2026-11-15", "3", "0", "0"]]


def test_urdu_pages_and_csv(shop):
    page = get(shop, "/dashboard/")
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    shop.browser.post(shop.url + "/dashboard/language", data={"csrf": token, "language": "ur"}, timeout=10)
    page = get(shop, "/dashboard/")
    assert 'dir="rtl"' in page and figure(page, "oldest_waiting")[0] == "3 گھنٹے 0 منٹ"
    assert table(shop, "now", "last_24h_by_channel")[0] == ["ذریعہ", "ٹکٹ", "اس سے پہلے کے 24 گھنٹے"]
    assert table(shop, "now", "last_24h_by_channel")[1] == ["ٹیلیگرام", "2", "2"]
