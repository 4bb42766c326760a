"""Driving the App and the CLI under test, shared by the tests of bot/: the fake
repository's names, signed deliveries sent to the real server, waiting for its jobs, and
`pystd check` run in-process."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import pytest
from aiohttp.test_utils import TestClient

from pystd.bot.cli import main
from pystd.bot.webhooks import SERVICES
from tests.github_fake import FakeFile, FakeGitHub

# -- the App ------------------------------------------------------------------------------

OWNER, REPO = "Codertocat", "Hello-World"
BASE, HEAD, HEAD2 = "b" * 40, "a" * 40, "c" * 40

OLD_VIEWS = 'import time\n\n\nasync def old():\n    time.sleep(1)\n'
NEW_VIEWS = OLD_VIEWS + '\n\nasync def new():\n    time.sleep(2)\n'


async def settle(bot: TestClient) -> None:
    """Wait until every queued job has finished."""
    await bot.app[SERVICES].queue.join()


def add_pr(gh: FakeGitHub, files: list[FakeFile] | None = None, **kwargs: Any) -> None:
    gh.add_pull_request(
        OWNER, REPO, 1, head_sha=HEAD, base_sha=BASE, author="octocat",
        files=files if files is not None else [
            FakeFile("app/views.py", content=NEW_VIEWS, base_content=OLD_VIEWS)],
        **kwargs,
    )


async def send(bot: TestClient, delivery: Callable[..., Any], gh: FakeGitHub, event: str,
               file: str, overrides: dict[str, Any] | None = None, delivery_id: str | None = None,
               ) -> Any:
    headers, body = delivery(event, file, overrides=overrides, delivery_id=delivery_id)
    return await bot.post("/webhook", data=body, headers=headers)


async def open_pr(bot, delivery, gh, delivery_id=None):
    return await send(bot, delivery, gh, "pull_request", "opened.payload.json",
                      gh.pull_request_overrides(OWNER, REPO, 1), delivery_id)


def only_run(gh: FakeGitHub):
    (run,) = gh.check_runs(OWNER, REPO)
    return run


async def recheck(bot, delivery, gh, user: str, body: str = "/pystd recheck") -> Any:
    comment_id = gh.add_issue_comment(OWNER, REPO, 1, body, user=user)
    response = await send(bot, delivery, gh, "issue_comment", "created.payload.json",
                          gh.issue_comment_overrides(OWNER, REPO, comment_id))
    await settle(bot)
    return comment_id, response


# -- the CLI ------------------------------------------------------------------------------

BLOCKING = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"
CLEAN = "import asyncio\n\n\nasync def handler():\n    await asyncio.sleep(1)\n"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`pystd ARGS` in this process: exit code, standard output, standard error."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


# -- the fake GitHub called directly (its own tests) --------------------------------------

FAKE_OWNER, FAKE_REPO = "acme", "shop"
FAKE_HEAD, FAKE_BASE = "a" * 40, "b" * 40
FAKE_OLD_VIEWS = "".join(f"line {n}\n" for n in range(1, 31))
FAKE_NEW_VIEWS = FAKE_OLD_VIEWS.replace("line 5\n", "line five\n").replace("line 25\n", "line 25\nadded\n")
# FAKE_NEW_VIEWS vs FAKE_OLD_VIEWS: hunks "@@ -2,7 +2,7 @@" (old and new lines 2-8, line 5 replaced)
# and "@@ -23,6 +23,7 @@" (new lines 23-29, "added" inserted as line 26)


def make_jwt(gh: FakeGitHub, *, key: str | None = None, iss: Any = None,
             lifetime: int = 540) -> str:
    now = int(time.time())
    return jwt.encode({"iat": now - 60, "exp": now + lifetime,
                       "iss": str(gh.app_id) if iss is None else iss},
                      key or gh.private_key_pem, algorithm="RS256")


async def installation_token(gh: FakeGitHub, session: aiohttp.ClientSession,
                             installation_id: int = 1) -> str:
    async with session.post(f"{gh.url}/app/installations/{installation_id}/access_tokens",
                            headers={"Authorization": f"Bearer {make_jwt(gh)}"}) as response:
        assert response.status == 201, await response.text()
        return (await response.json())["token"]


async def call(gh: FakeGitHub, session: aiohttp.ClientSession, method: str, path: str,
               token: str, **kwargs: Any) -> tuple[int, Any, Any]:
    """(status, JSON body, headers) of one authenticated call."""
    headers = {"Authorization": f"token {token}", **kwargs.pop("headers", {})}
    url = path if path.startswith("http") else gh.url + path
    async with session.request(method, url, headers=headers, **kwargs) as response:
        return response.status, await response.json(), response.headers


def review_comment(line: int, **extra: Any) -> dict[str, Any]:
    """One inline comment of a review on the fake's `shop/views.py`."""
    return {"path": "shop/views.py", "line": line, "side": "RIGHT", "body": "fix", **extra}


# A Django view with two blocking ORM calls on one line (PYS104's two fixes).
DJANGO_VIEW = (
    "from django.http import JsonResponse\n\nfrom shop.models import Product\n\n\n"
    "async def detail(request, pk):\n"
    "    a = Product.objects.get(pk=pk); b = Product.objects.count()\n"
    "    return JsonResponse({'a': a.pk, 'b': b})\n"
)
