"""Driving `/setup` as an operator and GitHub do: a server with no App credentials, the
register form (its action and manifest), the manifest flow through the fake GitHub, and a
pull request reviewed as the App it registered."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit

import aiohttp
from aiohttp.test_utils import TestClient

from pystd.bot.app import RUNTIME
from pystd.bot.settings import Settings
from pystd.bot.setup import SETUP
from tests.bot.drivers import OWNER, REPO, add_pr, only_run
from tests.github_fake import FakeGitHub
from tests.github_fake import delivery as make_delivery

CREDENTIAL_VARIABLES = ("PYSTD_APP_ID", "PYSTD_PRIVATE_KEY", "PYSTD_PRIVATE_KEY_PATH",
                        "PYSTD_WEBHOOK_SECRET", "PYSTD_PUBLIC_URL", "PYSTD_DATA_DIR")


def bare_settings(gh: FakeGitHub, data_dir: Path, port: int, **more: Any) -> Settings:
    return Settings(public_url=f"http://127.0.0.1:{port}", github_api_url=gh.url,
                    github_url=gh.url, data_dir=data_dir, concurrent_jobs=1,
                    request_timeout=5, _env_file=None, **more)


def form_of(page: str) -> tuple[str, dict[str, Any]]:
    """The register form's action and the manifest it posts."""
    action = re.search(r'<form method="post" action="([^"]+)"', page)
    manifest = re.search(r'name="manifest" value="([^"]+)"', page)
    assert action and manifest, page
    return html.unescape(action.group(1)), json.loads(html.unescape(manifest.group(1)))


async def github_redirect(bot: TestClient, org: str | None = None) -> SplitResult:
    """Open /setup with the key and post its form to the fake GitHub as a browser would;
    the address GitHub redirects back to (the callback, with `code` and `state`)."""
    key = bot.app[SETUP].key
    page = await (await bot.get("/setup", params={"key": key, **({"org": org} if org else {})})).text()
    action, manifest = form_of(page)
    async with aiohttp.ClientSession() as browser:
        answer = await browser.post(action, data={"manifest": json.dumps(manifest)},
                                    allow_redirects=False)
        assert answer.status == 302, await answer.text()
        return urlsplit(answer.headers["Location"])


async def register(bot: TestClient, org: str | None = None) -> tuple[aiohttp.ClientResponse, str]:
    """The manifest flow through the fake GitHub, back to the callback. Returns the
    callback's answer and the path+query GitHub redirected to."""
    location = await github_redirect(bot, org)
    back = f"{location.path}?{location.query}"
    return await bot.get(back), back


async def reviewed_as_the_new_app(server: TestClient, gh: FakeGitHub, secret: str) -> None:
    """A pull request opened, its delivery signed with the webhook secret /setup stored:
    accepted and reviewed (the fake GitHub takes only JWTs signed with the new App's key)."""
    add_pr(gh)
    headers, body = make_delivery("pull_request", "opened.payload.json", secret=secret,
                                  overrides=gh.pull_request_overrides(OWNER, REPO, 1))
    assert (await server.post("/webhook", data=body, headers=headers)).status == 202
    await server.app[RUNTIME].services.queue.join()
    assert only_run(gh).conclusion == "failure"
