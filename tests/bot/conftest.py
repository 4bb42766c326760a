"""The App under test: `settings` pointing at the fake GitHub, and `bot`, a client of the
real aiohttp application built from them."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from pystd.bot import logs
from pystd.bot.app import create_app
from pystd.bot.github import InstallationClient
from pystd.bot.settings import Settings
from tests.bot.postgres import postgres_cluster  # noqa: F401 - the fixture, for test_store
from tests.bot.processes import free_port
from tests.github_fake import APP_ID, FakeGitHub


@pytest.fixture(autouse=True)
def _learned_secrets_per_test(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no secrets learnt at run time (bot/logs.py keeps them for the
    process): one test's secret must not blank another's log lines."""
    monkeypatch.setattr(logs, "_learned", ())


@pytest.fixture
def settings(fake_github: FakeGitHub, app_private_key_pem: str, webhook_secret: str) -> Settings:
    return Settings(app_id=APP_ID, private_key=app_private_key_pem, webhook_secret=webhook_secret,
                    github_api_url=fake_github.url, concurrent_jobs=2, request_timeout=5,
                    queue_url="memory://",
                    _env_file=None)


@pytest.fixture
async def bot(aiohttp_client: Callable[..., Any], settings: Settings) -> AsyncIterator[TestClient]:
    client = await aiohttp_client(create_app(settings, engine_in_process=True))
    yield client


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Backoff waits of the GitHub client, recorded instead of slept."""
    waits: list[float] = []

    async def sleep(self: InstallationClient, seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(InstallationClient, "sleep", sleep)
    return waits


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder that is the working directory: a project for `pystd check`."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain HTTP client, for tests that call the fake GitHub directly."""
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
def environment(monkeypatch, tmp_path, app_private_key_pem, webhook_secret, fake_github):
    """The environment of a real `pystd serve`/`pystd worker` on the fake GitHub and a
    SQLite queue in the test's folder (tests/bot/processes.py starts them)."""
    for name in list(os.environ):
        if name.startswith("PYSTD_"):
            monkeypatch.delenv(name)
    return {**os.environ, "PYSTD_APP_ID": str(APP_ID), "PYSTD_PRIVATE_KEY": app_private_key_pem,
            "PYSTD_WEBHOOK_SECRET": webhook_secret, "PYSTD_GITHUB_API_URL": fake_github.url,
            "PYSTD_HOST": "127.0.0.1", "PYSTD_PORT": str(free_port()), "PYSTD_WORKERS": "1",
            "PYSTD_QUEUE_URL": f"sqlite:///{tmp_path / 'data' / 'queue.db'}",
            "PYSTD_QUEUE_LEASE_SECONDS": "1.5", "PYSTD_QUEUE_POLL_INTERVAL": "0.2"}
