"""The owners' dashboard in a real browser: Debian's chromium driven by Selenium through chromium-driver (bin/test
installs both when they are missing; in CI a missing browser fails the run, it never skips).

An owner logs in by the link, sees every page at 360 px (a phone: no sideways scrolling, tables as cards) and at
1280 px, switches to Urdu (right to left), downloads a CSV; a stranger is refused. Screenshots go to
tests/output/screenshots/ for a person to look at; with KHIDMAT_SCREENSHOTS_TO_DOCS=1 the ones README shows are
copied into docs/screenshots/.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from handlers.features import dashboard
from tests.dashboard_shop import OWNER, build_shop
from tests.helpers import ROOT, eventually

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
except ImportError:  # requirements.txt has it; a bare checkout without bin/setup is told below
    webdriver = None

SHOTS = ROOT / "tests" / "output" / "screenshots"
DOCS = ROOT / "docs" / "screenshots"
PAGES = ["", "traffic", "speed", "satisfaction", "complaints", "proactive", "broadcasts"]
FOR_README = {
    "360-en-now",
    "360-en-traffic",
    "360-en-speed",
    "360-en-satisfaction",
    "360-en-complaints",
    "360-en-proactive",
    "360-en-broadcasts",
    "360-en-ticket",
    "360-ur-now",
    "360-ur-traffic",
    "1280-en-speed",
    "1280-ur-traffic",
    "360-en-login",
    "360-en-refused",
}


def _browser_missing() -> str | None:
    if webdriver is None:
        return "selenium is not installed (bin/setup installs requirements.txt)"
    for program in ("chromium", "chromedriver"):
        if not shutil.which(program):
            return f"{program} is not installed (bin/test installs Debian's chromium and chromium-driver)"
    return None


@pytest.fixture
def chrome(tmp_path):
    missing = _browser_missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"in CI the browser tests must run: {missing}")
        pytest.skip(missing)
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--lang=en-US",
        "--window-size=360,800",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
    ):
        options.add_argument(arg)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    driver.downloads = downloads
    yield driver
    driver.quit()


@pytest.fixture
def shop(make_khidmat):
    k = make_khidmat(start_sender=False, **{"telegram.owner_ids": [OWNER], "app.public_url": "http://shop.example.com"})
    k.tickets = build_shop()
    return k


def shoot(driver, name: str) -> None:
    """The whole page as a PNG, at the window's width."""
    width = driver.execute_script("return window.innerWidth")
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(max(height, 640), 6000))
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / f"{name}.png"))
    if os.environ.get("KHIDMAT_SCREENSHOTS_TO_DOCS") and name in FOR_README:
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copy(SHOTS / f"{name}.png", DOCS / f"{name}.png")


def no_sideways_scrolling(driver) -> None:
    scroll, inner = driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner, f"{driver.current_url}: {scroll}px wide in a {inner}px window"


def log_in(driver, k) -> None:
    link = dashboard.make_link(OWNER)
    driver.get(k.url + link.split("shop.example.com", 1)[1])
    assert "Log in to the dashboard" in driver.page_source
    shoot(driver, "360-en-login")
    driver.find_element(By.ID, "login").click()
    eventually(lambda: driver.current_url.endswith("/dashboard/"), what="the first page after logging in")


def visit_every_page(driver, k, width: int, lang: str) -> None:
    driver.set_window_size(width, 800)
    for page in PAGES:
        driver.get(f"{k.url}/dashboard/{page}")
        assert driver.find_element(By.TAG_NAME, "h1").text
        no_sideways_scrolling(driver)
        shoot(driver, f"{width}-{lang}-{page or 'now'}")
        driver.set_window_size(width, 800)
    driver.get(f"{k.url}/dashboard/ticket/{k.tickets[5].id}")
    no_sideways_scrolling(driver)
    shoot(driver, f"{width}-{lang}-ticket")
    driver.set_window_size(width, 800)


def switch_to_urdu(driver, k) -> None:
    driver.get(f"{k.url}/dashboard/traffic")
    driver.find_element(By.ID, "to-ur").click()
    eventually(lambda: driver.execute_script("return document.documentElement.dir") == "rtl", what="Urdu pages")
    assert driver.current_url.endswith("/dashboard/traffic") and "آمد" in driver.find_element(By.TAG_NAME, "h1").text
    assert driver.execute_script("return getComputedStyle(document.body).direction") == "rtl"


# one case per width and language, so that the test processes share the work
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("width", "lang"), [(360, "en"), (1280, "en"), (360, "ur"), (1280, "ur")])
def test_an_owner_sees_every_page_on_a_phone_and_a_desktop_in_english_and_urdu(chrome, shop, width, lang):
    driver, k = chrome, shop
    log_in(driver, k)
    assert "Open tickets" in driver.page_source
    figures = {e.get_attribute("id"): e.text for e in driver.find_elements(By.CSS_SELECTOR, ".figure")}
    assert "6" in figures["fig-open_tickets"] and "3 h 0 min" in figures["fig-oldest_waiting"]
    if lang == "ur":
        switch_to_urdu(driver, k)
    visit_every_page(driver, k, width, lang)
    if width == 360:  # a table collapsed to cards on the phone: each cell labelled
        driver.get(f"{k.url}/dashboard/speed")
        cell = driver.find_element(By.CSS_SELECTOR, "#table-agents tbody td")
        assert driver.execute_script("return getComputedStyle(arguments[0]).display", cell) == "flex"
        label = driver.execute_script("return getComputedStyle(arguments[0], '::before').content", cell)
        assert label == ('"Agent"' if lang == "en" else '"ایجنٹ"'), label
    if lang == "ur":
        driver.find_element(By.ID, "to-en").click()
        eventually(lambda: driver.execute_script("return document.documentElement.dir") == "ltr", what="English again")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_downloading_a_csv(chrome, shop):
    driver, k = chrome, shop
    log_in(driver, k)
    driver.get(f"{k.url}/dashboard/speed?range=7")
    driver.find_element(By.CSS_SELECTOR, "#table-agents .csv a").click()
    saved = eventually(lambda: [p for p in driver.downloads.glob("agents*.csv")], what="the downloaded CSV")
    time.sleep(0.2)  # the browser renames the file when it is complete
    data = Path(saved[0]).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines == ['Agent,Closed,"First response, median",Average rating', "Sara,5,15,4.2", "Omar,3,35,1.5"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_stranger_is_refused(chrome, shop):
    driver, k = chrome, shop
    driver.get(f"{k.url}/dashboard/")
    assert "You cannot get in with this" in driver.page_source and "Open tickets" not in driver.page_source
    shoot(driver, "360-en-refused")
    driver.get(f"{k.url}/dashboard/login/forged.token")
    assert "not one the bot made" in driver.page_source
    driver.get(f"{k.url}/")
    assert "send /dashboard to the shop" in driver.page_source
