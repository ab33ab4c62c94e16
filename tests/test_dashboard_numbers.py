"""The dashboard's figures against the fixture shop of tests/dashboard_shop.py (its docstring has the numbers, worked
out by hand), on SQLite and PostgreSQL, as the pages and their CSV files show them."""

from __future__ import annotations

import html
import re

import pytest

import db
from db.models import Broadcast
from tests.dashboard_shop import NOW, OWNER, build_shop, figure, get, log_in_browser, table


@pytest.fixture
def shop(make_khidmat):
    k = make_khidmat(start_sender=False, **{"telegram.owner_ids": [OWNER], "app.public_url": "http://shop.example.com"})
    k.tickets = build_shop()
    k.browser = log_in_browser(k)
    return k


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
