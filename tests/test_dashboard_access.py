"""Getting into the owners' dashboard, on SQLite and PostgreSQL, over real HTTP: the /dashboard link from the bot
(previews off), the Log in page that uses nothing up, its POST, sessions and their cookie, logout, CSRF, the
language switch, the refusals (forged, expired, replayed, non-owner), the intro page and the command line."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
import requests

from db.models import DashboardLink, DashboardSession, Ticket
from handlers.core import clock
from handlers.features import dashboard

OWNER = 4242
STRANGER = 777


@pytest.fixture
def shop(make_khidmat):
    return make_khidmat(**{"telegram.owner_ids": [OWNER], "app.public_url": "http://shop.example.com"})


def local(k, link: str) -> str:
    """The link as this test server serves it (the shop's public address is elsewhere)."""
    return k.url + link.split("shop.example.com", 1)[1]


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def log_in(k, link: str | None = None) -> requests.Session:
    """An owner's browser: open the link, press Log in; returns the browser (its session cookie set)."""
    browser = requests.Session()
    url = local(k, link or dashboard.make_link(OWNER))
    page = browser.get(url, timeout=10)
    assert page.status_code == 200, page.text
    done = browser.post(url, data={"csrf": csrf_of(page.text)}, allow_redirects=False, timeout=10)
    assert done.status_code == 303 and done.headers["Location"] == "/dashboard/", done.text
    return browser


def test_owner_gets_a_link_without_preview_and_the_log_in_button_uses_it_once(shop):
    k = shop
    k.tg_message(OWNER, "/dashboard", first_name="Owner")
    sent = k.wait_chat(OWNER, lambda t: "Your dashboard:" in t)[-1]
    link = re.search(r"https?://\S+", sent["text"]).group(0)
    assert "works once, for 10 minutes" in sent["text"]
    call = [c for c in k.tg.calls if c["method"] == "sendMessage" and "Your dashboard" in str(c["params"].get("text"))]
    assert '"is_disabled": true' in str(call[-1]["params"]["link_preview_options"]).replace("True", "true").replace(
        "'", '"'
    )

    browser = requests.Session()
    url = local(k, link)
    for _ in range(3):  # a messenger's preview, a phone's safe-browsing check, the owner: none uses it up
        page = browser.get(url, timeout=10)
        assert page.status_code == 200 and 'id="login"' in page.text and "Log in" in page.text
    assert DashboardLink.select().count() == 0
    done = browser.post(url, data={"csrf": csrf_of(page.text)}, allow_redirects=False, timeout=10)
    assert done.status_code == 303
    cookie = done.headers["Set-Cookie"]
    assert "khidmat_dashboard=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # the shop's address is http here
    assert "Max-Age=2592000" in cookie  # dashboard.session_days = 30
    now = browser.get(k.url + "/dashboard/", timeout=10)
    assert now.status_code == 200 and "Open tickets" in now.text and 'dir="ltr"' in now.text
    assert now.headers["Referrer-Policy"] == "no-referrer" and "no-store" in now.headers["Cache-Control"]

    again = requests.Session()
    page = again.get(url, timeout=10)
    assert page.status_code == 403 and "already been used" in page.text and "Open tickets" not in page.text
    assert DashboardLink.select().count() == 1 and DashboardSession.select().count() == 1


def test_a_replayed_post_of_the_same_link_is_refused(shop):
    k = shop
    url = local(k, dashboard.make_link(OWNER))
    browser = requests.Session()
    form = {"csrf": csrf_of(browser.get(url, timeout=10).text)}
    secret = browser.cookies.get("khidmat_login")
    assert browser.post(url, data=form, allow_redirects=False, timeout=10).status_code == 303
    replay = requests.post(url, data=form, cookies={"khidmat_login": secret}, allow_redirects=False, timeout=10)
    assert replay.status_code == 403 and "already been used" in replay.text and "Set-Cookie" not in replay.headers
    assert DashboardSession.select().count() == 1


def test_non_owner_typing_dashboard_is_told_it_is_for_owners_and_gets_no_link(shop):
    k = shop
    k.tg_message(STRANGER, "/dashboard")
    sent = k.wait_chat(STRANGER, lambda t: "only for the shop's owners" in t)
    assert not re.search(r"https?://", sent[-1]["text"])
    k.tg_message(STRANGER + 1, "/dashboard", language_code="ur")
    assert k.wait_chat(STRANGER + 1, lambda t: "صرف دکان کے مالکان کے لیے" in t)
    with pytest.raises(dashboard.Refused) as refused:
        dashboard.make_link(STRANGER)
    assert refused.value.reason == dashboard.NOT_OWNER


def test_forged_and_expired_links_get_403_and_no_data(shop):
    k = shop
    made = clock.now()
    link = dashboard.make_link(OWNER)
    token = link.rsplit("/", 1)[1]
    forged = link[: -len(token)] + token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    page = requests.get(local(k, forged), timeout=10)
    assert page.status_code == 403 and "not one the bot made" in page.text and "Log in" not in page.text
    garbage = requests.get(k.url + "/dashboard/login/' OR 1=1 --", timeout=10)
    assert garbage.status_code == 403 and "not one the bot made" in garbage.text

    clock.travel_to(made + dt.timedelta(minutes=10, seconds=1))
    page = requests.get(local(k, link), timeout=10)
    assert page.status_code == 403 and "expired" in page.text and "10 minutes" in page.text
    posted = requests.post(local(k, link), data={"csrf": "x"}, timeout=10)
    assert posted.status_code == 403 and DashboardLink.select().count() == 0


def test_pages_need_a_live_owners_session(shop):
    k = shop
    anonymous = requests.get(k.url + "/dashboard/traffic", timeout=10)
    assert anonymous.status_code == 403 and "not logged in" in anonymous.text and "New tickets" not in anonymous.text
    assert "send /dashboard to the shop's bot" in html.unescape(anonymous.text)
    assert requests.get(k.url + "/dashboard/traffic/tickets_by_channel.csv", timeout=10).status_code == 403
    assert requests.get(k.url + "/dashboard/", cookies={"khidmat_dashboard": "made-up"}, timeout=10).status_code == 403

    from db import write

    with write():  # a session of someone who is (no longer) an owner
        stale = dashboard.open_session(STRANGER)
    page = requests.get(k.url + "/dashboard/", cookies={"khidmat_dashboard": stale}, timeout=10)
    assert page.status_code == 403 and "Open tickets" not in page.text

    browser = log_in(k)
    clock.travel_to(clock.now() + dt.timedelta(days=30, seconds=1))  # dashboard.session_days after logging in
    assert browser.get(k.url + "/dashboard/", timeout=10).status_code == 403


def test_forms_without_the_csrf_token_change_nothing_and_logout_ends_the_session(shop):
    k = shop
    browser = log_in(k)
    page = browser.get(k.url + "/dashboard/", timeout=10)
    token = csrf_of(page.text)

    for form in ({}, {"csrf": "0" * 64}):
        refused = browser.post(k.url + "/dashboard/logout", data=form, allow_redirects=False, timeout=10)
        assert refused.status_code == 403 and "Nothing was changed" in refused.text
        switched = browser.post(k.url + "/dashboard/language", data={**form, "language": "ur"}, timeout=10)
        assert switched.status_code == 403
    assert browser.get(k.url + "/dashboard/", timeout=10).status_code == 200
    assert DashboardSession.get().language == "en"

    # another site's form cannot log the owner out: it has the cookie (SameSite=Lax aside) but not the token
    other = log_in(k)
    assert other.post(k.url + "/dashboard/logout", data={"csrf": token}, timeout=10).status_code == 403

    bye = browser.post(k.url + "/dashboard/logout", data={"csrf": token}, allow_redirects=False, timeout=10)
    assert bye.status_code == 303 and bye.headers["Location"] == "/?bye=1"
    assert 'khidmat_dashboard=""' in bye.headers["Set-Cookie"] or "Max-Age=0" in bye.headers["Set-Cookie"]
    old = requests.get(k.url + "/dashboard/", cookies={"khidmat_dashboard": "x"}, timeout=10)
    assert old.status_code == 403
    assert browser.get(k.url + "/dashboard/", timeout=10).status_code == 403
    assert "You are logged out" in requests.get(k.url + "/?bye=1", timeout=10).text
    assert DashboardSession.select().count() == 1  # the other browser's


def test_the_login_post_needs_its_page_token_and_leaves_the_link_usable_without_it(shop):
    k = shop
    link = dashboard.make_link(OWNER)
    refused = requests.post(local(k, link), data={}, timeout=10)
    assert refused.status_code == 403 and DashboardLink.select().count() == 0
    log_in(k, link)  # still works: the forged post used nothing up


def test_urdu_switch_makes_every_page_right_to_left(shop):
    k = shop
    browser = log_in(k)
    page = browser.get(k.url + "/dashboard/speed", timeout=10)
    switched = browser.post(
        k.url + "/dashboard/language",
        data={"csrf": csrf_of(page.text), "language": "ur", "next": "/dashboard/speed"},
        allow_redirects=False,
        timeout=10,
    )
    assert switched.status_code == 303 and switched.headers["Location"] == "/dashboard/speed"
    page = browser.get(k.url + "/dashboard/speed", timeout=10)
    assert '<html lang="ur" dir="rtl">' in page.text and "رفتار" in page.text and "ایجنٹ" in page.text
    escape = browser.post(
        k.url + "/dashboard/language",
        data={"csrf": csrf_of(page.text), "language": "en", "next": "https://evil.example/"},
        allow_redirects=False,
        timeout=10,
    )
    assert escape.headers["Location"] == "/dashboard/"  # never sent off to another site


def test_intro_page_instead_of_a_404(shop):
    k = shop
    page = requests.get(k.url + "/", timeout=10)
    assert page.status_code == 200 and "customer-care bot" in page.text and "/dashboard" in page.text
    urdu = requests.get(k.url + "/?lang=ur", timeout=10)
    assert 'dir="rtl"' in urdu.text and "گاہک خدمت" in urdu.text


def test_session_cookie_is_secure_when_the_shop_is_served_over_https(make_khidmat):
    k = make_khidmat(**{"telegram.owner_ids": [OWNER], "app.public_url": "https://shop.example.com"})
    url = k.url + dashboard.make_link(OWNER).split("shop.example.com", 1)[1]
    browser = requests.Session()
    page = browser.get(url, timeout=10)
    assert "Secure" in page.headers["Set-Cookie"]  # the login page's own cookie too
    # requests keeps Secure cookies off plain http, as a browser would: send it as the browser over https would
    secret = re.search(r"khidmat_login=([^;]+)", page.headers["Set-Cookie"]).group(1)
    done = requests.post(
        url, data={"csrf": csrf_of(page.text)}, cookies={"khidmat_login": secret}, allow_redirects=False, timeout=10
    )
    cookie = done.headers["Set-Cookie"]
    assert done.status_code == 303 and "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_cli_prints_a_link_for_an_owner_and_refuses_anyone_else(shop):
    k = shop
    runner = k.app.test_cli_runner()
    made = runner.invoke(args=["dashboard", "link", str(OWNER)])
    assert made.exit_code == 0, made.output
    link = made.output.strip()
    assert link.startswith("http://shop.example.com/dashboard/login/")
    log_in(k, link)
    refused = runner.invoke(args=["dashboard", "link", str(STRANGER)])
    assert refused.exit_code != 0 and f"{STRANGER} is not one of telegram.owner_ids ({OWNER})" in refused.output
    wrong = runner.invoke(args=["dashboard", "link", "Ali"])
    assert wrong.exit_code == 2 and "is not a valid integer" in wrong.output


def test_sql_looking_filters_are_answered_and_change_nothing(shop):
    k = shop
    browser = log_in(k)
    tricks = [
        "?range=7';DROP TABLE ticket;--",
        "?range=custom&from=2026-11-01' OR '1'='1&to=2026-11-30",
        "?range=custom&from=2026-11-30&to=2026-11-01",
        "?range=custom&from=2020-01-01&to=2026-11-30",
    ]
    expected = ["not one we know", "could not be read", "comes after the last", "at most 366 days"]
    for trick, words in zip(tricks, expected, strict=True):
        page = browser.get(k.url + "/dashboard/traffic" + trick, timeout=10)
        assert page.status_code == 200 and words in page.text and "Showing the last 7 days instead" in page.text
    assert browser.get(k.url + "/dashboard/nothing-here", timeout=10).status_code == 404
    assert browser.get(k.url + "/dashboard/ticket/99999", timeout=10).status_code == 404
    assert Ticket.select().count() == 0  # the table is still there
