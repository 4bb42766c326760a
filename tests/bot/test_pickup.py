"""Replicas pick up /setup without a restart: two servers share one data folder, /setup
runs on the first, and the second serves the registered App at its next delivery or
probe; a broken stored file is "not configured", and the folder is read at most once an
interval per reason, off the event loop."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, unused_port

from pystd.bot import messages, pickup
from pystd.bot.app import create_app
from pystd.bot.credentials import StoredApp, credentials_file, load_app, save_app
from pystd.bot.setup import SETUP
from tests.bot.setup_drivers import (
    CREDENTIAL_VARIABLES,
    bare_settings,
    form_of,
    register,
    reviewed_as_the_new_app,
)
from tests.github_fake import FakeGitHub
from tests.github_fake import delivery as make_delivery


async def replica(aiohttp_client: Any, gh: FakeGitHub, data_dir: Path, **kwargs: Any
                  ) -> TestClient:
    """One `pystd serve` started without credentials on the shared data folder."""
    port = unused_port()
    app = create_app(bare_settings(gh, data_dir, port), engine_in_process=True, **kwargs)
    return await aiohttp_client(app, server_kwargs={"port": port})


@pytest.fixture(autouse=True)
def _no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clocked() -> FakeClock:
    return FakeClock()


def watch_of(bot: TestClient, clock: FakeClock) -> pickup.StoredCredentialsWatch:
    watch = bot.app[pickup.WATCH]
    watch.clock = clock
    return watch


async def test_a_replica_serves_the_app_another_replicas_setup_registered(
        aiohttp_client, fake_github, tmp_path, caplog):
    data = tmp_path / "data"
    first = await replica(aiohttp_client, fake_github, data, workers=0)
    second = await replica(aiohttp_client, fake_github, data)
    health = await second.get("/healthz")
    assert (await health.json())["status"] == "not configured"
    answer, _ = await register(first)
    assert answer.status == 200
    stored = load_app(data)
    assert stored is not None
    caplog.set_level(logging.INFO, logger="pystd.bot.pickup")
    # GitHub signs with the new App's secret; the second replica reviews as the new App,
    # no restart.
    await reviewed_as_the_new_app(second, fake_github, stored.webhook_secret)
    assert [r.getMessage() for r in caplog.records
            if r.name == "pystd.bot.pickup"] == [messages.PICKUP_DONE]
    health = await second.get("/healthz")
    assert (health.status, (await health.json())["status"]) == (200, "ok")
    page = await second.get("/setup", params={"key": second.app[SETUP].key})
    assert "pystd is set up" in await page.text() and 'name="manifest"' not in await page.text()


async def test_a_probe_alone_brings_a_replica_up(aiohttp_client, fake_github, tmp_path,
                                                 app_private_key_pem):
    bot = await replica(aiohttp_client, fake_github, tmp_path)
    clock = FakeClock()
    watch_of(bot, clock)
    assert (await (await bot.get("/healthz")).json())["status"] == "not configured"
    save_app(tmp_path, StoredApp(fake_github.app_id, "pystd", "pystd", "x", "octocat",
                                 "stored-secret", app_private_key_pem))
    clock.now += pickup.INTERVAL
    assert (await (await bot.get("/healthz")).json())["status"] == "ok"
    headers, body = make_delivery("ping", "payload.json", secret="stored-secret")
    assert (await bot.post("/webhook", data=body, headers=headers)).status == 200


async def test_a_broken_stored_file_is_not_configured_until_it_is_whole(
        aiohttp_client, fake_github, tmp_path, app_private_key_pem, caplog,
        clocked):
    bot = await replica(aiohttp_client, fake_github, tmp_path)
    watch_of(bot, clocked)
    caplog.set_level(logging.WARNING, logger="pystd.bot.pickup")
    path = credentials_file(tmp_path)
    whole = StoredApp(fake_github.app_id, "pystd", "pystd", "x", "octocat", "stored-secret",
                      app_private_key_pem)
    save_app(tmp_path, whole)
    text = path.read_text()
    headers, body = make_delivery("ping", "payload.json", secret="stored-secret")
    broken = [
        text[: len(text) // 2],  # half-written
        text.replace(app_private_key_pem.splitlines()[3], "x" * 64),  # a damaged key
        b"\xff\xfe not text",
    ]
    for n, content in enumerate(broken):
        for _ in range(2):  # the same problem is said once
            clocked.now += pickup.INTERVAL
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content)
            health = await bot.get("/healthz")
            assert (health.status, (await health.json())["status"]) == (200, "not configured")
            assert (await bot.post("/webhook", data=body, headers=headers)).status == 503
        said = [r for r in caplog.records if r.name == "pystd.bot.pickup"]
        assert len(said) == n + 1
    assert {r.getMessage() for r in said} == {messages.PICKUP_PROBLEM}
    assert "github-app.json" in said[0].problem
    save_app(tmp_path, whole)
    clocked.now += pickup.INTERVAL
    assert (await bot.post("/webhook", data=body, headers=headers)).status == 200


async def test_the_data_folder_is_read_at_most_once_an_interval_per_reason_off_the_loop(
        aiohttp_client, fake_github, tmp_path, monkeypatch, clocked):
    reads: list[bool] = []

    def spy(data_dir: Path) -> StoredApp | None:
        reads.append(threading.current_thread() is threading.main_thread())
        return load_app(data_dir)

    monkeypatch.setattr(pickup, "load_app", spy)
    bot = await replica(aiohttp_client, fake_github, tmp_path)
    watch = watch_of(bot, clocked)
    headers, body = make_delivery("ping", "payload.json", secret="nobody-has-it-yet")
    for _ in range(3):
        assert (await bot.get("/healthz")).status == 200
    assert watch.looks == 1
    # A probe's look does not hold back the next delivery's; deliveries have their own.
    answers = await asyncio.gather(*(bot.post("/webhook", data=body, headers=headers)
                                     for _ in range(5)))
    assert [a.status for a in answers] == [503] * 5 and watch.looks == 2
    clocked.now += pickup.INTERVAL - 0.5
    assert (await bot.post("/webhook", data=body, headers=headers)).status == 503
    assert (await bot.get("/setup")).status == 403
    assert watch.looks == 2
    clocked.now += 0.5
    assert (await bot.post("/webhook", data=body, headers=headers)).status == 503
    assert watch.looks == 3
    assert reads == [False] * 3  # each read in a thread, never on the event loop


async def test_a_replica_does_not_register_a_second_app_over_the_first(
        aiohttp_client, fake_github, tmp_path, clocked):
    data = tmp_path / "data"
    first = await replica(aiohttp_client, fake_github, data, workers=0)
    second = await replica(aiohttp_client, fake_github, data, workers=0)
    watch_of(second, clocked)
    # The operator opened /setup on both; the second's registration page was shown
    # before the first completed, and its callback comes after.
    page = await second.get("/setup", params={"key": second.app[SETUP].key})
    action, manifest = form_of(await page.text())
    await register(first)
    before = credentials_file(data).read_bytes()
    manifest["name"] = "pystd-2"  # GitHub's form: the first App has taken the name
    async with aiohttp.ClientSession(cookie_jar=second.session.cookie_jar) as browser:
        answer = await browser.post(action, data={"manifest": json.dumps(manifest)},
                                    allow_redirects=False)
        assert answer.status == 302, await answer.text()
        back = urlsplit(answer.headers["Location"])
    page = await second.get(f"{back.path}?{back.query}")
    assert messages.SETUP_ALREADY in await page.text()
    assert credentials_file(data).read_bytes() == before
    # The second App's code was never exchanged: the first App's credentials stand.
    assert len(fake_github.calls("POST", r"^/app-manifests/")) == 1
