"""The dashboard narrowed to one team ([[teams]]): the fixture shop of tests/dashboard_shop.py with its three refund
tickets (#3 sms, #4 whatsapp, #5 telegram; first responses 20, 25, 30; resolutions 240, 300, 360; ratings 4, 3 and
1 "very slow") in the team "returns", on SQLite and PostgreSQL. The whole shop's figures come from the roll-ups; a
team's are counted from its own tickets."""

from __future__ import annotations

import pytest

import db
from db.models import Ticket
from handlers.features.reports import rollup
from tests.dashboard_shop import OWNER, build_shop, figure, get, log_in_browser, table

TEAMS = [{"name": "returns", "chat_id": -1002000000001, "menu": "return_policy"}]


@pytest.fixture
def shop(make_khidmat):
    k = make_khidmat(
        start_sender=False,
        teams=TEAMS,
        **{"telegram.owner_ids": [OWNER], "app.public_url": "http://shop.example.com"},
    )
    k.tickets = build_shop()
    with db.write():
        Ticket.update(team="returns").where(Ticket.id.in_([k.tickets[i].id for i in (3, 4, 5)])).execute()
    rollup.run()  # the settled days of the whole shop rolled up
    k.browser = log_in_browser(k)
    return k


def test_each_page_counts_only_the_teams_tickets(shop):
    traffic = get(shop, "/dashboard/traffic?range=7&team=returns")
    assert figure(traffic, "new_tickets")[0] == "3"
    assert '<option value="returns" selected>returns</option>' in traffic
    assert 'href="/dashboard/speed?range=7&amp;team=returns"' in traffic  # the other pages keep the team
    by_day = table(shop, "traffic", "tickets_by_channel", "range=7&team=returns")
    assert [sum(int(n) for n in row[1:]) for row in by_day[1:]] == [0, 0, 0, 1, 1, 1, 0]

    speed = get(shop, "/dashboard/speed?range=7&team=returns")
    assert figure(speed, "first_response_median")[0] == "25 min"
    assert figure(speed, "resolution_median")[0] == "300 min"
    assert table(shop, "speed", "agents", "range=7&team=returns")[1:] == [
        ["Sara", "2", "22.5", "3.5"],
        ["Omar", "1", "30", "1"],
    ]

    satisfaction = get(shop, "/dashboard/satisfaction?range=7&team=returns")
    assert figure(satisfaction, "rating_average")[0] == "2.67"
    low = table(shop, "satisfaction", "low_ratings", "range=7&team=returns")
    assert [row[2] for row in low[1:]] == ["very slow"]  # not ticket 6's "rude answer": another team's

    now = get(shop, "/dashboard/?team=returns")
    assert figure(now, "open_tickets")[0] == "0"  # all three are closed


def test_the_main_group_the_whole_shop_and_a_name_that_is_no_team(shop):
    assert figure(get(shop, "/dashboard/traffic?range=7&team=default"), "new_tickets")[0] == "11"
    assert figure(get(shop, "/dashboard/traffic?range=7"), "new_tickets")[0] == "14"
    assert figure(get(shop, "/dashboard/?team=default"), "open_tickets")[0] == "6"
    wrong = get(shop, "/dashboard/traffic?range=7&team=nosuch%27%20OR%201=1")
    assert 'id="team-error"' in wrong and figure(wrong, "new_tickets")[0] == "14"
    proactive = get(shop, "/dashboard/proactive?range=7&team=returns")
    assert 'id="whole-shop"' in proactive


def test_without_teams_there_is_no_choice_of_team(make_khidmat):
    k = make_khidmat(start_sender=False, **{"telegram.owner_ids": [OWNER], "app.public_url": "http://shop.example.com"})
    build_shop()
    k.browser = log_in_browser(k)
    page = get(k, "/dashboard/traffic?range=7")
    assert 'id="team"' not in page and figure(page, "new_tickets")[0] == "14"
