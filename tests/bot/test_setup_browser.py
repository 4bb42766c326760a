"""An operator's first minutes, in a real browser: headless Chromium (Debian's `chromium`
and `chromium-driver`, driven by Selenium) opens /setup on a server without credentials,
clicks "Register pystd on GitHub" (the fake GitHub creates the App and sends the browser
back), follows the link to the install page, and reads a rule page. Screenshots of /setup
and of the rule page are written to the test's tmp folder.

`make test` (as root) and .ci/run install Chromium; elsewhere the test is skipped, saying
what to install, except under CI, where a missing browser fails it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, unused_port

from pystd.bot.app import RUNTIME, create_app
from pystd.bot.credentials import load_app
from pystd.bot.setup import SETUP
from tests.bot.setup_drivers import CREDENTIAL_VARIABLES, bare_settings

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--window-size=1200,1000")
WAIT = 20.0  # seconds: only a broken page ever waits this long

MISSING = ("headless Chromium is not installed (apt-get install -y chromium chromium-driver; "
           "`make test` does as root, and .ci/run)")


@pytest.fixture
def browser() -> Iterator[object]:
    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        if os.environ.get("CI"):  # CI installs it: a missing browser there is a failure
            pytest.fail(MISSING)
        pytest.skip(MISSING)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ARGS:
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
async def fresh(aiohttp_client, fake_github, tmp_path, monkeypatch) -> TestClient:
    for name in CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    port = unused_port()
    app = create_app(bare_settings(fake_github, tmp_path / "data", port),
                     engine_in_process=True)
    return await aiohttp_client(app, server_kwargs={"port": port})


def visible_text(driver) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.TAG_NAME, "body").text


def click_through_setup(driver, setup_url: str, shots: Path) -> dict[str, str]:
    """What a person sees at each step, in order (runs in a thread: Selenium blocks)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    seen: dict[str, str] = {}
    driver.get(setup_url)
    seen["setup"] = visible_text(driver)
    driver.save_screenshot(str(shots / "setup.png"))
    driver.find_element(By.ID, "register").click()
    WebDriverWait(driver, WAIT).until(ec.presence_of_element_located((By.ID, "install")))
    seen["registered"] = visible_text(driver)
    seen["registered_url"] = driver.current_url
    driver.find_element(By.ID, "install").click()
    WebDriverWait(driver, WAIT).until(ec.title_contains("Install"))
    seen["install"] = visible_text(driver)
    return seen


def read_rule_page(driver, url: str, shots: Path) -> dict[str, str]:
    from selenium.webdriver.common.by import By

    driver.get(url)
    driver.save_screenshot(str(shots / "rule-PYS205.png"))
    keyword = driver.find_element(By.CSS_SELECTOR, "pre.highlight span.k")
    body = driver.find_element(By.TAG_NAME, "body")
    return {"text": visible_text(driver), "title": driver.title,
            "keyword": keyword.text, "keyword_color": keyword.value_of_css_property("color"),
            "text_color": body.value_of_css_property("color")}


def is_png(path: Path) -> bool:
    return path.stat().st_size > 1000 and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


async def test_an_operator_registers_pystd_and_reads_a_rule(fresh, fake_github, browser,
                                                            tmp_path):
    shots = tmp_path / "screenshots"
    shots.mkdir()
    flow = fresh.app[SETUP]
    seen = await asyncio.to_thread(click_through_setup, browser, flow.setup_url, shots)

    assert "Set up pystd" in seen["setup"]
    assert "Register pystd on GitHub" in seen["setup"]
    assert "personal GitHub account" in seen["setup"]
    # Back from GitHub on our callback, registered, with the way to install the App.
    assert seen["registered_url"].startswith(f"{flow.settings.public_url}/setup/callback?")
    stored = load_app(tmp_path / "data")
    assert stored is not None
    assert f"registered on GitHub as pystd (App ID {stored.app_id}, owned by octocat)" \
        in seen["registered"]
    assert "Install it on your repositories" in seen["registered"]
    assert "Install pystd" in seen["install"]
    assert fresh.app[RUNTIME].services is not None  # serving webhooks, no restart

    rule = await asyncio.to_thread(read_rule_page, browser,
                                   f"{flow.settings.public_url}/rules/PYS205", shots)
    assert rule["title"] == "PYS205 django-sync-orm-in-async · pystd"
    assert "What it does" in rule["text"] and "Use instead" in rule["text"]
    assert rule["keyword"] == "async"
    assert rule["keyword_color"] != rule["text_color"]  # the example is highlighted
    assert is_png(shots / "setup.png") and is_png(shots / "rule-PYS205.png")
